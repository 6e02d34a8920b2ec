"""What runs on Dask workers: the model as a WorkerPlugin, and the partition task.

Imports `distributed` at module level (the plugin must subclass its WorkerPlugin), so only
`slant.loop.engine` imports this module, inside the function that talks to a cluster.

The plugin carries the estimator as skops bytes (never a pickle of the model), the model
card and the taxonomy; each worker loads it once in `setup` and keeps it until the plugin
is removed. Its name holds a checksum of the model version and the taxonomy (not of the
bytes: skops archives differ run to run), so a second run with the same model finds it
registered (`idempotent`) instead of loading a second copy, and another model gets its own.

While the plugin is registered it pauses the worker's statistical profiler: sampling
every thread's stack every 10 ms (`distributed.worker.profile`) costs about a fifth of a
partition's CPU on slant's Python-heavy code (benchmarks/bench_scale.py, docs/performance.md).
It also collects young garbage less often (`gc.set_threshold(10_000, 10, 10)` against
Python's 700): a worker process holds far more live objects than a forked pool process,
so its collections cost ~2.3x as much per partition; at 1,000,000 sentences this cut the
workers' collector time from 23 to 12 s each and the run from 147 to 124 s
(docs/performance.md, corpus scale). The forked pool gained nothing from it, so only
workers get it.

And where the worker was started with a fixed malloc trim threshold (the nanny starts
workers with `MALLOC_TRIM_THRESHOLD_=65536`, which also pins glibc's mmap threshold at
128 KiB), every array of a batch above 128 KiB is mapped and unmapped afresh: ~12x the
pool's page faults and 2 s of kernel time per worker per 100,000 sentences. While slant
runs there, arrays up to 4 MiB come from the heap and up to 8 MiB of free heap is kept
(`glibc_thresholds`, `mallopt`; Python has no binding): faults fell to a quarter, kernel
time to 0.8 s, the worker's peak stayed within 15 MB. Workers started without that
variable keep glibc's own adaptive thresholds and are not touched.

All three are the worker's, counted over its slant plugins: the last one's `teardown`
starts the profiler again and puts the thresholds back.
"""

import ctypes
import gc
import json
import os
from dataclasses import dataclass

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from slant._files import sha256_bytes

__all__ = ["ModelPlugin", "run_partition"]

_TUNING = "_slant_tuning"  # the worker's attribute holding its `WorkerTuning`
GC_THRESHOLD = (10_000, 10, 10)
MALLOC_WHILE_RUNNING = {"mmap": 4 << 20, "trim": 8 << 20}
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def glibc_thresholds(values, *, libc=None):
    """Set glibc's mmap and trim thresholds (`values`: ``{"mmap": bytes, "trim": bytes}``)
    and return what to set to put back the ones the environment fixed, or None and change
    nothing where the environment fixed none (glibc then adapts them itself) or the C
    library is not glibc."""
    fixed = os.environ.get("MALLOC_TRIM_THRESHOLD_", "").strip()
    mmap = os.environ.get("MALLOC_MMAP_THRESHOLD_", "").strip() or str(128 << 10)  # glibc's default
    if not (fixed.isdigit() and mmap.isdigit()):
        return None
    try:
        libc = libc or ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    before = {"mmap": int(mmap), "trim": int(fixed)}
    if not (mallopt(_M_MMAP_THRESHOLD, values["mmap"]) and mallopt(_M_TRIM_THRESHOLD, values["trim"])):
        return None
    return before


@dataclass
class WorkerTuning:
    """What slant changed in a worker process, to put back when its last plugin goes."""
    plugins: int  # slant plugins registered that asked for it
    profiler: list  # the profiler callbacks stopped
    gc_threshold: tuple  # the collector's thresholds before
    malloc: dict = None  # glibc's thresholds to set back (None: untouched)


class ModelPlugin(WorkerPlugin):
    idempotent = True

    def __init__(self, name, blob, card, taxonomy_data):
        self.name = name
        self.blob = blob
        self.card = card
        self.taxonomy_data = taxonomy_data
        self.model = None
        self.tuned = False

    @staticmethod
    def name_for(model):
        key = json.dumps([str(model.model_version), model.taxonomy.raw], sort_keys=True, default=str)
        return f"slant-model-{sha256_bytes(key.encode())[:16]}"

    @classmethod
    def for_model(cls, model):
        from slant.model.persist import model_to_bytes

        return cls(cls.name_for(model), model_to_bytes(model), model.card, model.taxonomy.raw)

    def setup(self, worker):
        from threadpoolctl import threadpool_limits

        from slant.model.persist import model_from_bytes
        from slant.taxonomy.core import taxonomy_from_data
        from slant.text.segment import load_splitter

        self.model = model_from_bytes(self.blob, self.card, taxonomy_from_data(self.taxonomy_data))
        self.blob = None  # loaded: the worker keeps the model, not its bytes
        # Warm up once here (imports, the sentence splitter, the model's caches), not in the first task.
        load_splitter()
        self.model.predict(["Warm-up sentence, officials said."])
        # Small matrices per batch: a second BLAS thread per task only competes with the others.
        threadpool_limits(1)
        gc.collect()
        gc.freeze()
        tune_worker(worker)
        self.tuned = True

    def teardown(self, worker):
        self.model = None
        if self.tuned:
            untune_worker(worker)
        self.tuned = False

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("model", "tuned")}

    def __setstate__(self, state):
        self.__dict__.update(state, model=None, tuned=False)


def tune_worker(worker):
    """Stop `worker`'s running profiler callbacks, raise the collector's thresholds to
    `GC_THRESHOLD` and the allocator's to `MALLOC_WHILE_RUNNING`, or count one more plugin
    when a slant plugin did so already; `untune_worker` undoes one."""
    tuning = getattr(worker, _TUNING, None)
    if tuning is None:
        callbacks = getattr(worker, "periodic_callbacks", {})
        running = [callbacks[name] for name in ("profile", "profile-cycle")
                   if name in callbacks and callbacks[name].is_running()]
        for callback in running:
            callback.stop()
        tuning = WorkerTuning(0, running, gc.get_threshold(), glibc_thresholds(MALLOC_WHILE_RUNNING))
        gc.set_threshold(*GC_THRESHOLD)
        setattr(worker, _TUNING, tuning)
    tuning.plugins += 1


def untune_worker(worker):
    """Undo one `tune_worker`; the last starts the callbacks the first stopped again and
    puts the collector's and the allocator's thresholds back."""
    tuning = getattr(worker, _TUNING, None)
    if tuning is None:
        return
    tuning.plugins -= 1
    if tuning.plugins <= 0:
        delattr(worker, _TUNING)
        gc.set_threshold(*tuning.gc_threshold)
        if tuning.malloc is not None:
            glibc_thresholds(tuning.malloc)
        for callback in tuning.profiler:
            callback.start()


def run_partition(plugin_name, items, spec, batch_size):
    """One partition on a worker, with the model its `ModelPlugin` loaded there.
    `spec` is ``(taxonomy id, metadata columns)``."""
    from slant.loop.partition import analyze_partition

    plugin = get_worker().plugins[plugin_name]
    return analyze_partition(items, plugin.model, taxonomy_id=spec[0], meta_columns=spec[1],
                             batch_size=batch_size)
