"""Background retraining of the live ML backend from its journal (`slant.backend.journal`).

`Trainer` waits until enough annotation events are pending (or START_TRAINING arrives)
and no new one came for a moment, then retrains through the promotion gate in a child
process and serves the promoted model.

>>> trainer = Trainer(journal=journal, taxonomy=tax, registry=registry, slot=slot)
>>> trainer.notify()          # after journaling an event
"""

import fcntl
import functools
import logging
import os
import threading
import time

from slant.backend.journal import reviewed_records
from slant.errors import SlantError

__all__ = ["Trainer", "retrain_job", "run_in_process"]


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
