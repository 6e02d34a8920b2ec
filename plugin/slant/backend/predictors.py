"""Where the ML backend runs its model: a thread of the server's process, or model processes.

Both merge requests that arrive while the model is busy into its next call (up to
`max_batch` sentences), so the fixed cost of a call is paid once, and both answer each
request with its predictions already encoded as JSON, in order.

- `ThreadPredictor`: one thread of the server process. Cheap to start, any model object;
  but the model shares the GIL with the event loop, and uses one core.
- `ProcessPredictor`: N child processes (spawned, so nothing of the server's threads or
  locks is inherited). Each child receives the model as skops bytes, loaded with the same
  trusted-type check as a model file (`slant.model.persist.model_from_bytes`), rebuilds the
  taxonomy from its JSON, and sends back JSON bytes. The event loop keeps its core for
  HTTP and the model gets the others. A promoted model reaches each child before its next
  batch; a child that dies fails its batch (500) and is replaced.

>>> predictor = ProcessPredictor(slot, taxonomy, max_batch=512, processes=2)
>>> version, predictions = await predictor.predict(texts, keys)   # [bytes], one per text
"""

import asyncio
import logging
import multiprocessing as mp
import queue
import threading
import time

import orjson

from slant.studio.lsformat import prediction_json

__all__ = ["ProcessPredictor", "ThreadPredictor", "encode_predictions"]

log = logging.getLogger("slant.backend.app")


def encode_predictions(model, texts, keys, taxonomy):
    """``(model_version, [JSON bytes])``: the prediction `slant push` would import, per text."""
    predictions = model.predict(texts)
    version = str(model.model_version)
    if len(predictions) != len(texts):
        raise RuntimeError(f"model {version} returned {len(predictions)} predictions for {len(texts)} texts")
    dumps = orjson.dumps
    return version, [dumps(prediction_json(p, text=t, taxonomy=taxonomy, model_version=version, key=k))
                     for p, t, k in zip(predictions, texts, keys)]


def _resolve(future, value, exc):
    if future.done():  # the client went away
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(value)


class _Merging:
    """The request queue both predictors share: ``(texts, keys, future, loop)`` items."""

    def __init__(self, slot, taxonomy, max_batch):
        self.slot, self.taxonomy, self.max_batch = slot, taxonomy, max_batch
        self._queue = queue.SimpleQueue()

    async def predict(self, texts, keys):
        """``(model_version, [prediction JSON bytes])`` for `texts`, in order."""
        self.start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((texts, keys, future, loop))
        return await future

    def _next_batch(self):
        """The next merged batch, or None when stopping (the None stays for the other threads)."""
        first = self._queue.get()
        if first is None:
            self._queue.put(None)
            return None
        batch, n = [first], len(first[0])
        while n < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            batch.append(item)
            n += len(item[0])
        return batch

    @staticmethod
    def _answer(batch, version, encoded):
        i = 0
        for texts, _, future, loop in batch:
            loop.call_soon_threadsafe(_resolve, future, (version, encoded[i:i + len(texts)]), None)
            i += len(texts)

    @staticmethod
    def _fail(batch, exc):
        for _, _, future, loop in batch:
            loop.call_soon_threadsafe(_resolve, future, None, exc)

    def wait_ready(self, timeout=120.0):
        """True once the model can answer without loading first (a thread: at once)."""
        return True

    def _drain(self):
        """After stop: fail requests still queued instead of leaving them waiting."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self._fail([item], RuntimeError("the ML backend is shutting down"))


class ThreadPredictor(_Merging):
    """The model in one thread of the server's process."""

    def __init__(self, slot, taxonomy, max_batch):
        super().__init__(slot, taxonomy, max_batch)
        self._thread = None
        self._start_lock = threading.Lock()

    def start(self):
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="slant-predict", daemon=True)
                self._thread.start()

    def stop(self):
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
            self._queue = queue.SimpleQueue()

    def _run(self):
        while (batch := self._next_batch()) is not None:
            model = self.slot.model  # one model per call: each response carries one version
            try:
                version, encoded = encode_predictions(model, [t for item in batch for t in item[0]],
                                                      [key for item in batch for key in item[1]], self.taxonomy)
            except Exception as exc:  # handed to each waiting request; logged there
                self._fail(batch, exc)
            else:
                self._answer(batch, version, encoded)


# --- model processes ----------------------------------------------------------------------

def _child_main(conn, taxonomy_data, taxonomy_source):
    """A model process: ``("model", skops bytes, card)`` / ``("predict", texts, keys)`` in,
    ``("ok", ...)`` / ``("error", message)`` out, until ``("stop",)`` or the pipe closes."""
    import signal

    from threadpoolctl import threadpool_limits

    from slant.model.persist import model_from_bytes
    from slant.taxonomy.core import taxonomy_from_data

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's; it stops us
    # One process per core already: BLAS threads on top would only contend for the same cores.
    threadpool_limits(1)
    taxonomy = taxonomy_from_data(taxonomy_data, taxonomy_source)
    model = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind = message[0]
        try:
            if kind == "stop":
                return
            if kind == "model":
                model = model_from_bytes(message[1], message[2], taxonomy)
                conn.send(("ok", str(model.model_version)))
            elif kind == "predict":
                conn.send(("ok", *encode_predictions(model, message[1], message[2], taxonomy)))
            else:
                conn.send(("error", f"unknown message {kind!r}"))
        except Exception as exc:  # reported to the server, which logs it; never to clients
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _ChildDied(RuntimeError):
    pass


class ProcessPredictor(_Merging):
    """The model in `processes` child processes, one server thread feeding each."""

    def __init__(self, slot, taxonomy, max_batch, processes=2):
        super().__init__(slot, taxonomy, max_batch)
        if processes < 1:
            raise ValueError("processes must be >= 1")
        self.processes = processes
        self._ctx = mp.get_context("spawn")
        self._threads = []
        self._children = []
        self._lock = threading.Lock()
        self._encoded = (None, b"")  # (model, skops bytes) of the last model sent
        self._loaded = threading.Semaphore(0)  # released once per process that has tried to load the model

    def start(self):
        with self._lock:
            if self._threads:
                return
            for k in range(self.processes):
                t = threading.Thread(target=self._feed, args=(k,), name=f"slant-model-{k}", daemon=True)
                self._threads.append(t)
                t.start()

    def wait_ready(self, timeout=120.0):
        """Block until every model process has loaded the model (or failed to), at most `timeout` s."""
        self.start()
        deadline = time.monotonic() + timeout
        for _ in range(self.processes):
            if not self._loaded.acquire(timeout=max(0.0, deadline - time.monotonic())):
                return False
        for _ in range(self.processes):
            self._loaded.release()  # a later call returns at once
        return True

    def stop(self):
        with self._lock:
            threads, self._threads = self._threads, []
        if not threads:
            return
        self._queue.put(None)
        for t in threads:
            t.join(timeout=15)
        self._queue = queue.SimpleQueue()
        for proc in list(self._children):
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        self._children.clear()

    def _model_bytes(self, model):
        from slant.model.persist import model_to_bytes

        with self._lock:
            cached, data = self._encoded
            if cached is not model:
                data = model_to_bytes(model)
                self._encoded = (model, data)
            return data

    def _spawn(self):
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_child_main, args=(child, self.taxonomy.raw, self.taxonomy.source),
                                 name="slant-model", daemon=True)
        proc.start()
        child.close()
        self._children.append(proc)
        return proc, parent

    @staticmethod
    def _call(conn, proc, message):
        try:
            conn.send(message)
            reply = conn.recv()
        except (EOFError, OSError) as exc:
            raise _ChildDied(f"model process {proc.pid} stopped (exit code {proc.exitcode})") from exc
        if reply[0] != "ok":
            raise RuntimeError(f"model process {proc.pid}: {reply[1]}")
        return reply[1:]

    def _send_model(self, conn, proc, model):
        self._call(conn, proc, ("model", self._model_bytes(model), dict(model.card)))
        return model

    def _feed(self, k):
        proc, conn, sent = *self._spawn(), None
        try:
            try:  # load the model now, not on the first request
                sent = self._send_model(conn, proc, self.slot.model)
            except Exception as exc:
                log.error("model process %s could not load the model: %s", proc.pid, exc)
            finally:
                self._loaded.release()
            while (batch := self._next_batch()) is not None:
                model = self.slot.model  # one model per call: each response carries one version
                try:
                    if model is not sent:
                        sent = self._send_model(conn, proc, model)
                    version, encoded = self._call(conn, proc, ("predict", [t for item in batch for t in item[0]],
                                                               [key for item in batch for key in item[1]]))
                except _ChildDied as exc:
                    log.error("%s; starting a new one", exc)
                    self._fail(batch, exc)
                    conn.close()
                    proc.join(timeout=5)
                    self._children.remove(proc)
                    proc, conn, sent = *self._spawn(), None
                except Exception as exc:
                    self._fail(batch, exc)
                else:
                    self._answer(batch, version, encoded)
        finally:
            try:
                conn.send(("stop",))
            except OSError:
                pass
            conn.close()
            self._drain()
