"""Benchmark: `slant analyze --out DIR` on Dask (1 and 2 workers) against the local path and
the bare model.

    python benchmarks/bench_scale.py                         # 100,000 sentences
    python benchmarks/bench_scale.py --sentences 100000 1000000   # memory flat as the corpus grows?

The corpus is generated from the project's own seed sentences and sample article (fixed
random seed; `bench_prelabel.make_corpus`) with an outlet and a date per document, as
JSONL. Each measurement runs in a fresh spawned process, timing only the analysis (the
model is loaded and the cluster started before the clock starts):

- dask-1 / dask-2: `analyze_corpus(..., scheduler=...)` on 1 or 2 single-thread worker
  processes (the model shipped to each worker as a plugin). `--cluster commands` (the
  default) starts them as users do, `dask scheduler` and `dask worker` processes, so the
  scheduler has its own process; `--cluster local` uses a `distributed.LocalCluster`,
  whose scheduler shares this process (and its GIL) with the client;
- local-2: the same function on this machine's fork pool with 2 processes (`--jobs 2`);
- bare: `SlantModel.predict` with explanations on the same sentences, pre-split, in one
  process (no reading, splitting, Arrow or Parquet).

This machine's speed drifts by up to +-20 % over minutes (the same forked-pool run took
105 s and 130 s a quarter of an hour apart), so a single dask-2 run against a single
local-2 run measures the drift as much as the engines: `--pairs K` runs dask-2 and local-2
K times, alternating which goes first (ABBA), and judges the median of the K ratios of
back-to-back pairs.

Prints sentences/s; targets (exit 1 when one is missed): dask-2 / dask-1 speed-up >= 1.7
on 2 cores; dask-2 time / local-2 time <= 1.2; peak resident memory of each worker < 1 GB
and flat (within 25% or 150 MB) across the sizes given. Also prints the ratio to the bare
predict, the measured per-partition compute time and the scheduler + client overhead per
partition, and from them the time N machines would take (on paper, `_projection`).
"""

import argparse
import contextlib
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import in_spawned_process
from bench_prelabel import _peak_mb, make_corpus

OUTLETS = ("Harbor Herald", "Valley Voice", "Coast Courier", "Metro Ledger")


def _with_metadata(src, dst, seed=0):
    rng = random.Random(seed)
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            doc = json.loads(line)
            doc.update(outlet=rng.choice(OUTLETS), date=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
            fout.write(json.dumps(doc) + "\n")


def _load(cache):
    from slant.model.seed import load_model
    from slant.taxonomy.core import load_taxonomy

    model = load_model(taxonomy=load_taxonomy(), cache_dir=cache)
    model.predict(["Warm-up sentence, said Ana Ruiz."])
    return model


@contextlib.contextmanager
def _commands_cluster(workers):
    """The scheduler address of `dask scheduler` + `workers` single-thread `dask worker`
    processes, as a user starts them (`python -m dask`: this interpreter's dask)."""
    from distributed import Client

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address, dask = f"tcp://127.0.0.1:{port}", [sys.executable, "-m", "dask"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet)]
    try:
        procs.append(subprocess.Popen([*dask, "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                                       "--no-dashboard", "--host", "127.0.0.1"], **quiet))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in procs[::-1]:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def _in_process_cluster(workers):
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _run_dask(corpus, out, cache, workers, partition, kind, queue):
    from distributed import Client, get_task_stream

    from slant.loop.corpus import analyze_corpus
    from slant.loop.dask_worker import ModelPlugin

    model = _load(cache)
    cluster = _commands_cluster if kind == "commands" else _in_process_cluster
    with cluster(workers) as address, Client(address) as client:
        t = time.perf_counter()
        plugin = ModelPlugin.for_model(model)  # what analyze_corpus does first; timed apart as the start-up
        client.register_plugin(plugin, name=plugin.name)
        startup = time.perf_counter() - t
        t = time.perf_counter()
        with get_task_stream(client) as stream:
            result = analyze_corpus([corpus], model=model, out=out, scheduler=address, partition_sentences=partition)
        seconds = time.perf_counter() - t
        compute = [ss["stop"] - ss["start"] for task in stream.data for ss in task["startstops"] if ss["action"] == "compute"]
        def worker_peak_mb():  # nested: sent by value to workers that cannot import this script
            with open("/proc/self/status", encoding="ascii") as fh:
                return next((int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM:")), float("nan"))

        peaks = list(client.run(worker_peak_mb).values())
    queue.put({"seconds": seconds + startup, "startup": startup, "sentences": result.sentences, "partitions": result.partitions,
               "compute": sum(compute), "tasks": len(compute), "worker_peak_mb": max(peaks), "client_peak_mb": _peak_mb()})


def _run_local(corpus, out, cache, jobs, partition, queue):
    from slant.loop.corpus import analyze_corpus
    from slant.text.segment import load_splitter

    model = _load(cache)
    load_splitter()
    t = time.perf_counter()
    result = analyze_corpus([corpus], model=model, out=out, jobs=jobs, partition_sentences=partition)
    queue.put({"seconds": time.perf_counter() - t, "sentences": result.sentences, "partitions": result.partitions,
               "client_peak_mb": _peak_mb()})


def _run_bare(corpus, cache, queue):
    from slant.text.documents import read_documents

    model = _load(cache)
    sentences = [s.text for d in read_documents([corpus]) for s in d.sentences]  # not timed
    t = time.perf_counter()
    for i in range(0, len(sentences), 2000):
        model.predict(sentences[i:i + 2000])
    queue.put({"seconds": time.perf_counter() - t, "sentences": len(sentences), "peak_mb": _peak_mb()})


def _client_cost(out):
    """Seconds the client spends per partition: reading its documents and writing its Parquet file."""
    import pyarrow.parquet as pq

    from slant.loop.corpus import open_corpus

    _, manifest = open_corpus(out)
    files = [Path(out) / p["file"] for p in manifest["partitions"][:5]]
    t = time.perf_counter()
    for f in files:
        pq.write_table(pq.read_table(f), Path(out) / ".bench.tmp", compression="zstd")
    (Path(out) / ".bench.tmp").unlink()
    return (time.perf_counter() - t) / len(files)


def _projection(compute_per_part, overhead_per_part, client_per_part, partitions, machines):
    """Seconds on `machines` one-core workers: the compute spread over them, each partition's
    scheduling overhead on its worker, but the client's reading and writing one after another."""
    return max(partitions * (compute_per_part + overhead_per_part) / machines, partitions * client_per_part)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, nargs="+", default=[100_000])
    ap.add_argument("--partition-size", type=int, default=5000)
    ap.add_argument("--pairs", type=int, default=1,
                    help="dask-2 / local-2 pairs run back to back, alternating the order; the median ratio is judged")
    ap.add_argument("--cache-dir", help="slant cache with the default model (default: a temporary one)")
    ap.add_argument("--cluster", choices=("commands", "local"), default="commands",
                    help="Dask workers as `dask scheduler`/`dask worker` processes (default) or a LocalCluster")
    args = ap.parse_args(argv)
    failed = []
    with tempfile.TemporaryDirectory(prefix="slant-bench-scale-") as tmp:
        tmp = Path(tmp)
        cache = Path(args.cache_dir) if args.cache_dir else tmp / "cache"
        from slant.model.seed import build_default_model
        from slant.taxonomy.core import load_taxonomy

        build_default_model(taxonomy=load_taxonomy(), cache_dir=cache)
        peaks = []
        for n in args.sentences:
            plain, corpus = tmp / f"plain-{n}.jsonl", tmp / f"corpus-{n}.jsonl"
            docs = make_corpus(plain, n)
            _with_metadata(plain, corpus)
            plain.unlink()
            part = args.partition_size
            d1 = in_spawned_process(_run_dask, corpus, tmp / f"d1-{n}", cache, 1, part, args.cluster)
            pairs = []
            for i in range(max(1, args.pairs)):
                order = ("dask", "local") if i % 2 == 0 else ("local", "dask")
                pair = {}
                for which in order:
                    if which == "dask":
                        pair[which] = in_spawned_process(_run_dask, corpus, tmp / f"d2-{n}-{i}", cache, 2, part,
                                                         args.cluster)
                    else:
                        pair[which] = in_spawned_process(_run_local, corpus, tmp / f"l2-{n}-{i}", cache, 2, part)
                pairs.append(pair)
            ratios = [p["dask"]["seconds"] / p["local"]["seconds"] for p in pairs]
            d2 = sorted((p["dask"] for p in pairs), key=lambda r: r["seconds"])[len(pairs) // 2]  # the median run
            loc = sorted((p["local"] for p in pairs), key=lambda r: r["seconds"])[len(pairs) // 2]
            bare = in_spawned_process(_run_bare, corpus, cache)
            assert d1["sentences"] == d2["sentences"] == loc["sentences"] == bare["sentences"], (d1, d2, loc, bare)
            client = _client_cost(tmp / f"d2-{n}-0")
            speedup, vs_local = d1["seconds"] / d2["seconds"], statistics.median(ratios)
            per_part = d1["compute"] / d1["tasks"]
            overhead = max(0.0, (d2["seconds"] * 2 - d2["compute"]) / d2["tasks"])
            peaks.append(max(d1["worker_peak_mb"], d2["worker_peak_mb"]))
            rate = lambda r: r["sentences"] / r["seconds"]
            pair_line = "" if len(pairs) == 1 else (
                f"  {len(pairs)} back-to-back pairs (dask-2 s / local-2 s, order alternating): "
                + ", ".join(f"{p['dask']['seconds']:.1f}/{p['local']['seconds']:.1f} = {r:.2f}" for p, r in zip(pairs, ratios))
                + f"; median {vs_local:.2f}\n")
            print(f"{n:,} sentences ({docs:,} documents, {d2['partitions']} partitions of ~{part:,}; Dask cluster: "
                  f"{args.cluster}); times include "
                  f"the workers' start-up (model + splitter loaded once per worker: {d1['startup']:.1f} s with 1, "
                  f"{d2['startup']:.1f} s with 2):\n"
                  f"  dask 1 worker  {rate(d1):>7,.0f} sent/s ({d1['seconds']:.1f} s)\n"
                  f"  dask 2 workers {rate(d2):>7,.0f} sent/s ({d2['seconds']:.1f} s); speed-up {speedup:.2f} (target >= 1.7)\n"
                  f"  local 2 procs  {rate(loc):>7,.0f} sent/s ({loc['seconds']:.1f} s); dask-2 / local-2 {vs_local:.2f} "
                  f"(target <= 1.2)\n"
                  f"  bare predict   {rate(bare):>7,.0f} sent/s ({bare['seconds']:.1f} s); dask-1 / bare {d1['seconds'] / bare['seconds']:.2f}\n"
                  f"  peak memory: worker {peaks[-1]:.0f} MB (target < 1024), client {d2['client_peak_mb']:.0f} MB, "
                  f"local client {loc['client_peak_mb']:.0f} MB\n"
                  f"{pair_line}"
                  f"  per partition: compute {per_part:.2f} s, scheduler+transfer overhead {overhead:.3f} s, "
                  f"client read+write {client:.3f} s", flush=True)
            for machines in (1, 2, 4, 8, 16, 32, 64):
                t = _projection(per_part, overhead, client, d2["partitions"], machines)
                print(f"    on paper, {machines:>2} one-core workers: {t:,.1f} s ({n / t:,.0f} sent/s)")
            if speedup < 1.7:
                failed.append(f"{n:,}: speed-up {speedup:.2f} < 1.7")
            if vs_local > 1.2:
                failed.append(f"{n:,}: dask / local {vs_local:.2f} > 1.2")
            if peaks[-1] >= 1024:
                failed.append(f"{n:,}: worker peak {peaks[-1]:.0f} MB >= 1 GB")
        if len(peaks) > 1 and peaks[-1] - peaks[0] > max(150.0, 0.25 * peaks[0]):
            failed.append(f"worker peak grew from {peaks[0]:.0f} to {peaks[-1]:.0f} MB")
    print("all targets met" if not failed else "MISSED: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
