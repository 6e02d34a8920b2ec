"""Where the partitions of `slant analyze --out` run: in this process, in forked local
worker processes, or on a Dask `distributed` cluster. Every engine calls the same
`slant.loop.partition.analyze_partition` and hands each result to the caller, who writes it;
partitions are independent, so an engine may run one twice (a lost Dask worker) and the
caller still writes it once.

- serial (`jobs` 1): no process to start, for small inputs and tests;
- pool (`jobs` > 1, no scheduler): forked processes sharing the loaded model
  copy-on-write, the cheapest way to use the cores of one machine;
- Dask (`scheduler` address): the model goes to each worker once, as skops bytes in a
  `distributed` WorkerPlugin (`slant.loop.dask_worker`), and is loaded there once; a task
  carries only its partition's documents. At most two partitions per worker thread wait,
  so memory stays flat on the client and on the workers.
"""

import gc
from collections import deque

from threadpoolctl import threadpool_limits

from slant.errors import InputError, SlantError
from slant.text.inputs import missing_extra

__all__ = ["check_scheduler", "run_partitions"]


def run_partitions(partitions, model, write, *, scheduler=None, jobs=1, batch_size=2000, meta_columns=None):
    """Analyse each `Partition` of `partitions` and call ``write(partition, table)`` in this
    process as results arrive (in any order). Returns the engine's name for the summary."""
    if not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"--jobs {jobs!r}: use 1 or more worker processes")
    spec = (model.taxonomy.id, meta_columns)  # what every partition needs besides the model
    if scheduler:
        return _run_dask(partitions, model, write, scheduler, batch_size, spec)
    gc.freeze()  # the model lives as long as the run: keep the collector from walking it
    limits = threadpool_limits(1)
    try:
        if jobs == 1 or getattr(model.estimator, "encoder_", None) is not None:
            _run_serial(partitions, model, write, batch_size, spec)
            return "1 process"
        _run_pool(partitions, model, write, jobs, batch_size, spec)
        return f"{jobs} local processes"
    finally:
        limits.restore_original_limits()
        gc.unfreeze()


def _run_serial(partitions, model, write, batch_size, spec):
    from slant.loop.partition import analyze_partition

    for part in partitions:
        write(part, analyze_partition(part.items, model, taxonomy_id=spec[0], meta_columns=spec[1],
                                      batch_size=batch_size))


_POOL = {}


def _init_pool(model, batch_size, spec):
    _POOL.update(model=model, batch_size=batch_size, spec=spec)


def _pool_partition(items):
    from slant.loop.partition import analyze_partition

    taxonomy_id, meta_columns = _POOL["spec"]
    table = analyze_partition(items, _POOL["model"], taxonomy_id=taxonomy_id, meta_columns=meta_columns,
                              batch_size=_POOL["batch_size"])
    sink = _ipc_bytes(table)
    return sink


def _ipc_bytes(table):
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_ipc(data):
    import pyarrow as pa

    return pa.ipc.open_stream(data).read_all()


def _run_pool(partitions, model, write, jobs, batch_size, spec):
    import multiprocessing as mp

    from slant.text.segment import load_splitter

    load_splitter()  # once here rather than in every forked worker
    pending = deque()
    with mp.get_context("fork").Pool(jobs, initializer=_init_pool, initargs=(model, batch_size, spec)) as pool:
        for part in partitions:
            items, part.items = part.items, None  # the worker has them; the client keeps the key
            pending.append((part, pool.apply_async(_pool_partition, (items,))))
            while len(pending) >= 2 * jobs:
                done, result = pending.popleft()
                write(done, _from_ipc(result.get()))
        while pending:
            done, result = pending.popleft()
            write(done, _from_ipc(result.get()))


def _client(scheduler):
    try:
        from distributed import Client
    except ImportError:
        raise missing_extra("--scheduler") from None
    try:
        return Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); start one with "
                         "`dask scheduler` (and workers with `dask worker ADDRESS`) or check the address") from None


def check_scheduler(scheduler):
    """`InputError` now, before a model is loaded, when no Dask scheduler answers at `scheduler`."""
    _client(scheduler).close()


def _run_dask(partitions, model, write, scheduler, batch_size, spec):
    from asyncio import CancelledError

    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    from slant.loop.dask_worker import ModelPlugin, run_partition

    client = _client(scheduler)
    try:
        plugin = ModelPlugin.for_model(model)
        client.register_plugin(plugin, name=plugin.name)
        threads = sum(client.nthreads().values())
        window = max(4, 2 * threads)
        queue = as_completed(with_results=True, loop=client.loop)
        held = {}
        for part in partitions:
            items, part.items = part.items, None
            future = client.submit(run_partition, plugin.name, items, spec, batch_size,
                                   key=f"slant-partition-{part.index}-{part.digest[:16]}", pure=False, retries=2)
            held[future.key] = part
            queue.add(future)
            while queue.count() >= window:
                _take(queue, held, write)
        while queue.count():
            _take(queue, held, write)
        return f"Dask at {scheduler} ({threads} worker threads)"
    except (KilledWorker, CancelledError, OSError) as exc:
        raise SlantError(f"the Dask cluster at {scheduler} failed ({type(exc).__name__}: {exc}); finished partitions are "
                         "kept: check the workers' logs, then run the same command again to finish") from None
    finally:
        client.close()


def _take(queue, held, write):
    future, table = next(queue)
    write(held.pop(future.key), table)
    future.release()
