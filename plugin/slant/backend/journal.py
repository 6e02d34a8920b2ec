"""The ML backend's event journal: Label Studio annotation events on disk, and the
reviewed records they add up to.

Every accepted webhook event is appended to ``events.jsonl`` and fsynced *before* the
server replies, so an event Label Studio saw acknowledged survives a crash. Training
remembers how far it has read (``state.json``, a byte offset written atomically); on a
restart the events after that offset are still pending and count towards the next run.

>>> journal = Journal(tmp_path)
>>> journal.append(normalize_event(payload))      # payload: Label Studio's webhook JSON
>>> records = reviewed_records(journal.events(), taxonomy=tax)

Training from the journal (`Trainer`) is in `slant.backend.trainer`.
"""

import fcntl
import hashlib
import json
import os
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from slant._files import atomic_write
from slant.errors import DataError
from slant.studio.lsformat import label_lookup, read_result

__all__ = ["ANNOTATION_ACTIONS", "JOURNALED_ACTIONS", "TRAIN_ACTION", "Journal", "normalize_event", "reviewed_records"]

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
            task = a.get("task")
            if task is not None and (not isinstance(task, int) or isinstance(task, bool)):
                raise DataError(f"webhook {action}: annotation {a['id']} 'task' must be the task's integer id, "
                                f"got {str(task)[:80]!r}; send Label Studio's webhook JSON unchanged")
        event["annotations"] = [
            {"id": a["id"], "task": a.get("task"), "result": a.get("result") or [], "was_cancelled": bool(a.get("was_cancelled")),
             "ground_truth": bool(a.get("ground_truth")), "completed_by": a.get("completed_by"),
             **({"updated_at": a["updated_at"]} if isinstance(a.get("updated_at"), str) else {})}
            for a in annotations
        ]
        event["tasks"] = [{"id": t["id"], "data": t.get("data") if isinstance(t.get("data"), dict) else {}} for t in tasks]
    elif action == "ANNOTATIONS_DELETED":
        event["deleted"] = [a["id"] for a in _as_list(payload.get("annotations"), "annotation")]
    elif action == "TASKS_DELETED":
        event["deleted_tasks"] = [t["id"] for t in _as_list(payload.get("tasks"), "task")]
    return event


def _digest(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:24]


def _state_keys(event):
    """``[(key, digest)]``: what `event` says about each annotation or task it touches.

    An event that says nothing new about any of them is a replay (Label Studio retries a
    webhook it thinks failed, or an operator resends events); START_TRAINING has no keys
    and is never one.
    """
    action = event.get("action")
    if action == "ANNOTATIONS_DELETED":
        return [(f"a{aid}", "deleted") for aid in event.get("deleted") or ()]
    if action == "TASKS_DELETED":
        return [(f"t{tid}", "deleted") for tid in event.get("deleted_tasks") or ()]
    if action in ANNOTATION_ACTIONS:
        tasks = {t.get("id"): t.get("data") for t in event.get("tasks") or ()}
        return [(f"a{a['id']}", _digest([a, tasks.get(a.get("task"))])) for a in event.get("annotations") or ()]
    return []


class Journal:
    """Append-only JSON-lines file of events plus the offset training has read up to.

    Safe for several threads and several server processes (``--workers``): appends take
    an exclusive `flock` and go out as one ``write`` on an ``O_APPEND`` descriptor.
    A replayed event (one that changes no annotation's journaled state) is not appended:
    `append` returns None for it.
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)  # events hold annotators' work and user ids
        self.path = self.directory / _EVENTS
        self.state_path = self.directory / _STATE
        self._lock = threading.Lock()
        self._count = (-1, 0, 0, False)  # pending(): (start, offset read up to, events, requested)
        self._latest, self._indexed = {}, 0  # annotation/task key -> digest of its newest event; offset read up to
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
        """Write one event durably; returns the journal's size (an offset) after it, or
        None when the event is a replay of what the journal already holds (not written)."""
        line = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        keys = _state_keys(event)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            with self._locked(fd):
                # Under the lock: another worker process may have appended since the last look.
                for end, seen in self.events(self._indexed):
                    self._indexed = end
                    self._latest.update(_state_keys(seen))
                if keys and all(self._latest.get(k) == d for k, d in keys):
                    return None
                os.write(fd, line)
                os.fsync(fd)
                self._latest.update(keys)
                self._indexed = os.fstat(fd).st_size
                return self._indexed
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
        with atomic_write(self.state_path, perms=0o600) as fh:
            json.dump({"processed": int(offset), **extra}, fh)

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
            known = annotations.get(a["id"])
            if known is not None and str(a.get("updated_at") or "") < str(known.get("updated_at") or ""):
                continue  # a late redelivery of an older version of the annotation
            annotations.pop(a["id"], None)  # re-insert: dict order is journal order
            annotations[a["id"]] = dict(a, project=event.get("project"))
        if action == "ANNOTATIONS_DELETED":
            for aid in event.get("deleted") or ():
                annotations.pop(aid, None)
        elif action == "TASKS_DELETED":
            gone = set(event.get("deleted_tasks") or ())
            for aid in [aid for aid, a in annotations.items() if a.get("task") in gone]:
                del annotations[aid]
    latest, cancelled, lookup = {}, {}, label_lookup(taxonomy)
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
        read = read_result(a["result"], lookup)
        labels, spans = read.labels, read.spans
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
        if read.unknown:
            record["unknown_labels"] = sorted(set(read.unknown))
        records.append(record)
    return records
