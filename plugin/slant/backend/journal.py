"""The ML backend's event journal: Label Studio annotation events on disk, and the
reviewed records they add up to.

Every accepted webhook event is appended to ``events.jsonl`` and fsynced *before* the
server replies, so an event Label Studio saw acknowledged survives a crash. Training
remembers how far it has read (``state.json``, a byte offset written atomically); on a
restart the events after that offset are still pending and count towards the next run.

>>> journal = Journal(tmp_path)
>>> journal.append(normalize_event(payload))      # payload: Label Studio's webhook JSON
>>> records = reviewed_records(journal.events(), taxonomy=tax)
"""

import fcntl
import functools
import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from slant.errors import DataError, SlantError
from slant.taxonomy.core import CHOICES_NAME, SPANS_NAME

__all__ = [
    "ANNOTATION_ACTIONS", "JOURNALED_ACTIONS", "TRAIN_ACTION",
    "Journal", "Trainer", "normalize_event", "retrain_job", "reviewed_records", "run_in_process",
]

ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED", "TASKS_DELETED")
TRAIN_ACTION = "START_TRAINING"
JOURNALED_ACTIONS = ANNOTATION_ACTIONS + (TRAIN_ACTION,)
_EVENTS = "events.jsonl"
_STATE = "state.json"


def _as_list(value, what):
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int) or isinstance(item.get("id"), bool):
            raise DataError(f"webhook payload: every {what} needs an integer 'id', got {str(item)[:80]!r}; "
                            "send Label Studio's webhook JSON unchanged")
    return items


def _project_id(payload):
    project = payload.get("project")
    if isinstance(project, dict):
        project = project.get("id")
    return project if isinstance(project, int) and not isinstance(project, bool) else None


def normalize_event(payload):
    """The compact journal entry for one Label Studio webhook payload, or None to ignore it.

    Keeps what training needs (annotation results, task ids and data, deletions) and
    drops the rest (the project's labeling config travels with every event). Raises
    `DataError` when a payload of a known action is malformed.
    """
    if not isinstance(payload, dict):
        raise DataError("webhook body must be a JSON object with an 'action' field, as Label Studio sends it")
    action = payload.get("action")
    if not isinstance(action, str) or not action:
        raise DataError("webhook body has no 'action'; Label Studio sends e.g. {\"action\": \"ANNOTATION_CREATED\", ...}")
    if action not in JOURNALED_ACTIONS:
        return None
    event = {"action": action, "project": _project_id(payload), "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
    if action in ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED"):
        annotations = _as_list(payload.get("annotation"), "annotation")
        tasks = _as_list(payload.get("task"), "task")
        if not annotations:
            raise DataError(f"webhook {action} carries no 'annotation'; turn on 'send payload' for this webhook in Label Studio")
        for a in annotations:
            if not isinstance(a.get("result", []), list):
                raise DataError(f"webhook {action}: annotation {a['id']} 'result' must be a list")
        event["annotations"] = [
            {"id": a["id"], "task": a.get("task"), "result": a.get("result") or [], "was_cancelled": bool(a.get("was_cancelled")),
             "ground_truth": bool(a.get("ground_truth")), "completed_by": a.get("completed_by")}
            for a in annotations
        ]
        event["tasks"] = [{"id": t["id"], "data": t.get("data") if isinstance(t.get("data"), dict) else {}} for t in tasks]
    elif action == "ANNOTATIONS_DELETED":
        event["deleted"] = [a["id"] for a in _as_list(payload.get("annotations"), "annotation")]
    elif action == "TASKS_DELETED":
        event["deleted_tasks"] = [t["id"] for t in _as_list(payload.get("tasks"), "task")]
    return event


class Journal:
    """Append-only JSON-lines file of events plus the offset training has read up to.

    Safe for several threads and several server processes (``--workers``): appends take
    an exclusive `flock` and go out as one ``write`` on an ``O_APPEND`` descriptor.
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)  # events hold annotators' work and user ids
        self.path = self.directory / _EVENTS
        self.state_path = self.directory / _STATE
        self._lock = threading.Lock()
        self._count = (-1, 0, 0, False)  # pending(): (start, offset read up to, events, requested)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            with self._locked(fd):
                self._drop_torn_tail(fd)
        finally:
            os.close(fd)

    @contextmanager
    def _locked(self, fd):
        with self._lock:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    @staticmethod
    def _drop_torn_tail(fd):
        """A crash mid-write leaves a line without its newline; that event was never
        acknowledged (the reply waits for fsync), so it is cut off."""
        size = os.fstat(fd).st_size
        if size == 0:
            return
        pos = size
        while pos > 0:
            step = min(65536, pos)
            chunk = os.pread(fd, step, pos - step)
            if pos == size and chunk.endswith(b"\n"):
                return
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                os.ftruncate(fd, pos - step + cut + 1)
                os.fsync(fd)
                return
            pos -= step
        os.ftruncate(fd, 0)
        os.fsync(fd)

    def append(self, event):
        """Write one event durably; returns the journal's size (an offset) after it."""
        line = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            with self._locked(fd):
                os.write(fd, line)
                os.fsync(fd)
                return os.fstat(fd).st_size
        finally:
            os.close(fd)

    def size(self):
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def events(self, start=0, end=None):
        """``(offset after the line, event)`` for the complete lines in ``[start, end)``."""
        with open(self.path, "rb") as fh:
            fh.seek(start)
            pos = start
            for raw in fh:
                if not raw.endswith(b"\n") or (end is not None and pos + len(raw) > end):
                    break
                pos += len(raw)
                try:
                    yield pos, json.loads(raw)
                except ValueError:
                    continue  # cannot happen for lines this class wrote; never stop replay for one

    def processed(self):
        """Offset up to which events were handed to training (0 when never)."""
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            return min(int(state.get("processed", 0)), self.size())
        except (OSError, ValueError, TypeError, AttributeError):
            return 0

    def last_outcome(self):
        """The outcome of the latest training run recorded by any process, or None."""
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8")).get("last")
        except (OSError, ValueError, AttributeError):
            return None

    def mark_processed(self, offset, **extra):
        """Record atomically that events up to `offset` were used (plus `extra` notes)."""
        tmp = self.state_path.with_name(f".{_STATE}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"processed": int(offset), **extra}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.state_path)

    def pending(self, start=None):
        """``(annotation events, training requested)`` after offset `start` (default: processed).

        Counted incrementally: only lines appended since the last call are read, so the
        /health answer stays cheap however long the journal grows.
        """
        start = self.processed() if start is None else start
        with self._lock:
            _, read_to, n, requested = self._count if self._count[0] == start else (start, start, 0, False)
        for end, event in self.events(read_to):
            read_to = end
            if event.get("action") == TRAIN_ACTION:
                requested = True
            elif event.get("action") in ANNOTATION_ACTIONS:
                n += len(event.get("annotations") or ()) or 1
        with self._lock:
            self._count = (start, read_to, n, requested)
        return n, requested


def _labels_of(result, taxonomy, unknown):
    labels, spans = [], []
    for region in result:
        if not isinstance(region, dict) or not isinstance(region.get("value"), dict):
            continue
        value = region["value"]
        if region.get("from_name") == CHOICES_NAME:
            names = value.get("choices") or []
        elif region.get("from_name") == SPANS_NAME:
            names = value.get("labels") or []
        else:
            continue
        for name in names:
            cid = taxonomy.id_for_name(name) if isinstance(name, str) else None
            if cid is None:
                unknown.add(str(name))
                continue
            if cid not in labels:
                labels.append(cid)
            start, end = value.get("start"), value.get("end")
            if region.get("from_name") == SPANS_NAME and isinstance(start, int) and isinstance(end, int):
                spans.append({"start": start, "end": end, "label": cid, "text": str(value.get("text", ""))})
    order = {cid: i for i, cid in enumerate(taxonomy.ids)}
    return sorted(labels, key=order.get), spans


def reviewed_records(events, *, taxonomy):
    """Reviewed-label records (schemas/reviewed.schema.json) from journal events.

    Replays creations, updates and deletions in journal order; per task the most recent
    annotation that was not skipped is the label (policy ``latest``). Several annotators
    on one task are adjudicated properly by ``slant pull`` + ``slant train``; the live
    backend learns from each task's newest answer.
    """
    annotations, tasks = {}, {}
    for _, event in events:
        action = event.get("action")
        for t in event.get("tasks") or ():
            tasks[t["id"]] = t.get("data") or {}
        for a in event.get("annotations") or ():
            annotations.pop(a["id"], None)  # re-insert: dict order is journal order
            annotations[a["id"]] = dict(a, project=event.get("project"))
        if action == "ANNOTATIONS_DELETED":
            for aid in event.get("deleted") or ():
                annotations.pop(aid, None)
        elif action == "TASKS_DELETED":
            gone = set(event.get("deleted_tasks") or ())
            for aid in [aid for aid, a in annotations.items() if a.get("task") in gone]:
                del annotations[aid]
    latest, cancelled = {}, {}
    for a in annotations.values():
        if a.get("was_cancelled"):
            cancelled[a.get("task")] = cancelled.get(a.get("task"), 0) + 1
        else:
            latest[a.get("task")] = a
    records = []
    for task_id, a in latest.items():
        data = tasks.get(task_id) or {}
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        unknown = set()
        labels, spans = _labels_of(a["result"], taxonomy, unknown)
        record = {
            "id": str(data.get("slant_id") or f"task-{task_id}"),
            "doc_id": str(data.get("doc_id") or f"task-{task_id}"),
            "text": text,
            "labels": labels,
            "spans": spans,
            "annotations": [{"annotator": a.get("completed_by") if a.get("completed_by") is not None else "unknown",
                             "labels": labels, "spans": spans, "ground_truth": bool(a.get("ground_truth"))}],
            "policy": "latest",
            "source": "label-studio-webhook",
            "task_id": task_id,
            "project_id": a.get("project"),
            "cancelled": cancelled.get(task_id, 0),
        }
        if unknown:
            record["unknown_labels"] = sorted(unknown)
        records.append(record)
    return records


# --- training from the journal -------------------------------------------------------------

def retrain_job(records, *, registry, taxonomy, cache_dir=None, **options):
    """The real retraining: `slant.loop.train`'s gate, the one `slant models promote` uses."""
    from slant.loop.train import retrain_and_maybe_promote

    # One process: fit workers would take the cores the server's model processes answer /predict on.
    options.setdefault("params", {"n_jobs": 1})
    out = retrain_and_maybe_promote(records, registry=registry, taxonomy=taxonomy, cache_dir=cache_dir, **options)
    reasons = [str(r) for r in (getattr(out, "reasons", None) or ())]
    return {"promoted": bool(out.promoted), "version": str(out.version) if out.version else None, "reasons": reasons}


def _in_child(job, records, registry, taxonomy):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # one BLAS thread: the other core stays with the server
        return job(records, registry=registry, taxonomy=taxonomy)


def run_in_process(job=retrain_job):
    """Wrap `job` so it runs in a fresh child process (spawned: no threads inherited),
    leaving the server process's cores and GIL to /predict. `job` must be picklable
    (a module-level function or a `functools.partial` of one)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    def run(records, *, registry, taxonomy):
        # os.nice runs first in the child, before numpy starts its threads, so they inherit
        # the lower priority: the server keeps answering /predict first.
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=os.nice, initargs=(10,)) as pool:
            return pool.submit(_in_child, job, records, registry, taxonomy).result()

    return run


class Trainer:
    """Background retraining from journaled events, one run at a time.

    A run starts when `train_every` annotation events are pending (or START_TRAINING
    arrives) and no new event came for `debounce` seconds. It reads every journaled
    annotation, retrains through the promotion gate, swaps the served model when the
    gate promotes, calls `on_promote(version, project_ids)`, then marks the events read.
    Across server processes a lock file lets one of them train; the others pick up the
    promoted model by watching the registry (every `poll` seconds).
    """

    def __init__(self, *, journal, taxonomy, registry, slot, train_every=10, debounce=5.0, job=None,
                 on_promote=None, projects=None, poll=2.0, max_wait=None, cache_dir=None):
        self.journal, self.taxonomy, self.registry, self.slot = journal, taxonomy, registry, slot
        self.train_every, self.debounce, self.poll = train_every, debounce, poll
        self.max_wait = max_wait if max_wait is not None else max(30.0, 6 * debounce)
        self.cache_dir = cache_dir
        self.job = job or run_in_process(functools.partial(retrain_job, cache_dir=cache_dir))
        self.on_promote = on_promote
        self.projects = projects if projects is not None else set()
        self._wake = threading.Condition()
        self._stop = False
        self._thread = None
        self._state = {"running": False, "runs": 0, "last": None}
        self._seen_version = self._registry_version()

    def _registry_version(self):
        try:
            return self.registry.current_version() if self.registry is not None else None
        except Exception:  # a half-written registry must not stop serving
            logging.getLogger("slant.backend.app").exception("cannot read the model registry")
            return None

    def start(self):
        with self._wake:
            if self._thread is None or not self._thread.is_alive():
                self._stop = False
                self._thread = threading.Thread(target=self._loop, name="slant-train", daemon=True)
                self._thread.start()

    def stop(self, timeout=30):
        with self._wake:
            self._stop = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self, event=None):
        self.start()
        with self._wake:
            self._wake.notify_all()

    def status(self):
        """Training state for /health; `running` and `last` hold across server processes."""
        pending, requested = self.journal.pending()
        state = dict(self._state)
        state["running"] = state["running"] or self._locked_elsewhere()
        if state["last"] is None and not state["running"]:  # a run elsewhere, or before a restart
            state["last"] = self.journal.last_outcome()
        return {**state, "pending": pending, "requested": requested, "train_every": self.train_every,
                "enabled": self.registry is not None}

    def _locked_elsewhere(self):
        fd = os.open(self.journal.directory / "train.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def _due(self):
        pending, requested = self.journal.pending()
        return requested or (self.train_every > 0 and pending >= self.train_every)

    def _quiet(self):
        """Wait until no event arrived for `debounce` s (at most `max_wait` s); False if stopping."""
        began, size = time.monotonic(), self.journal.size()
        last_change = began
        while not self._stop and time.monotonic() - began < self.max_wait:
            with self._wake:
                self._wake.wait(min(self.debounce, 0.25) or 0.01)
            now_size = self.journal.size()
            if now_size != size:
                size, last_change = now_size, time.monotonic()
            elif time.monotonic() - last_change >= self.debounce:
                break
        return not self._stop

    def _loop(self):
        log = logging.getLogger("slant.backend.app")
        while True:
            with self._wake:
                if self._stop:
                    return
                self._wake.wait(self.poll)
                if self._stop:
                    return
            try:
                self._follow_registry()
                if self.registry is not None and self._due() and self._quiet():
                    self._run_once()
            except Exception:
                log.exception("background training failed; the served model is unchanged")

    def _follow_registry(self):
        """Serve what the registry promoted, here or in another process."""
        version = self._registry_version()
        if version != self._seen_version:
            self.slot.model = self.registry.current_model(self.taxonomy, cache_dir=self.cache_dir)
            self._seen_version = version
            logging.getLogger("slant.backend.app").info("now serving model %s", self.slot.version)

    def _run_once(self):
        lock = os.open(self.journal.directory / "train.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another server process is training on the same journal
            if not self._due():
                return
            self._state.update(running=True, started=time.time())
            try:
                end = self.journal.size()
                records = reviewed_records(self.journal.events(0, end), taxonomy=self.taxonomy)
                outcome = self._train(records)
                self.journal.mark_processed(end, last=outcome)
                if outcome.get("promoted"):
                    self._publish(outcome, records)
                self._state["runs"] += 1
                self._state["last"] = outcome
            finally:
                self._state["running"] = False
        finally:
            os.close(lock)

    def _train(self, records):
        """Train through the gate; returns the outcome dict (never raises)."""
        log = logging.getLogger("slant.backend.app")
        began = time.perf_counter()
        try:
            outcome = self.job(records, registry=self.registry, taxonomy=self.taxonomy) if records else \
                {"promoted": False, "version": None, "reasons": ["no labelled sentences in the journal"]}
        except SlantError as exc:
            outcome = {"promoted": False, "version": None, "reasons": [str(exc)]}
        except Exception:  # the events still count as read: a broken run is not retried in a loop
            log.exception("background training failed; the served model is unchanged")
            outcome = {"promoted": False, "version": None, "reasons": ["internal error while training; see the server log"]}
        outcome = dict(outcome, records=len(records), seconds=round(time.perf_counter() - began, 1))
        if not outcome.get("promoted"):
            log.info("kept %s: %s", self.slot.version, "; ".join(outcome.get("reasons") or ["not promoted"]))
        return outcome

    def _publish(self, outcome, records):
        """Serve the promoted model and tell Label Studio (`on_promote`)."""
        log = logging.getLogger("slant.backend.app")
        self._follow_registry()
        log.info("promoted %s after training on %d sentences", outcome.get("version"), len(records))
        if self.on_promote is not None:
            pids = set(self.projects) | {r["project_id"] for r in records if r.get("project_id") is not None}
            try:
                self.on_promote(self.slot.version, sorted(pids))
                outcome["label_studio_updated"] = sorted(pids)
            except SlantError as exc:
                log.warning("model %s is served, but Label Studio was not updated: %s", self.slot.version, exc)
                outcome["label_studio_error"] = str(exc)
            except Exception:
                log.exception("model %s is served, but updating Label Studio failed", self.slot.version)
                outcome["label_studio_error"] = "internal error; see the server log"
