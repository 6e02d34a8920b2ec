"""`slant analyze --scheduler` on a real Dask cluster started here as subprocesses
(`dask scheduler` and two `dask worker` processes on free ports): the same rows as this
process, and every sentence exactly once after a worker is killed mid-run."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from helpers.corpus import dataset_rows
from slant.cli.main import main
from slant.loop.corpus import analyze_corpus

# `python -m dask` is the `dask` command of this interpreter (a copied venv keeps stale script shebangs)
DASK = [sys.executable, "-m", "dask"]
CORPUS = {"n_docs": 24, "per_doc": 10, "seed": 1}  # the `corpus` fixture's (tests/loop/conftest.py)
PARTITION_SENTENCES = 20


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(address, {name: worker process})``: a scheduler and two single-thread workers."""
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask-logs")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([*DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=open(logs / "scheduler.log", "wb"))]
    workers = {}
    for name in ("w1", "w2"):
        workers[name] = subprocess.Popen(
            [*DASK, "worker", address, "--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard",
             "--host", "127.0.0.1", "--local-directory", str(logs / name)],
            stdout=subprocess.DEVNULL, stderr=open(logs / f"{name}.log", "wb"))
    procs += workers.values()
    try:
        with Client(address, timeout="120s") as client:
            client.wait_for_workers(2, timeout=180)
        yield address, workers
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def reference(analysed):
    return dataset_rows(analysed[0])


def test_analyze_on_the_cluster_from_the_command_line(cluster, corpus, reference, default_model_cache, monkeypatch,
                                                      tmp_path, capsys):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(default_model_cache))
    out = tmp_path / "preds"
    assert main(["analyze", str(corpus), "--out", str(out), "--scheduler", cluster[0],
                 "--partition-size", str(PARTITION_SENTENCES)]) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}: {len(reference):,} sentences from 24 documents" in err and f"Dask at {cluster[0]}" in err
    assert dataset_rows(out) == reference


def test_a_rerun_after_an_interruption_on_the_cluster_writes_only_the_missing_partitions(cluster, corpus, reference,
                                                                                       default_model, tmp_path):
    out = tmp_path / "preds"

    def interrupt(done, total, result):
        if result.written == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze_corpus([corpus], model=default_model, out=out, partition_sentences=PARTITION_SENTENCES,
                       scheduler=cluster[0], progress=interrupt)
    first = {p.name for p in out.glob("part-*.parquet")}
    assert len(first) == 3
    again = analyze_corpus([corpus], model=default_model, out=out, partition_sentences=PARTITION_SENTENCES,
                           scheduler=cluster[0])
    assert again.skipped == 3 and again.written == again.partitions - 3 and not set(again.written_files) & first
    assert dataset_rows(out) == reference


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(cluster, corpus, reference, default_model, tmp_path):
    address, workers = cluster
    killed = []

    def kill_one(done, total, result):
        if not killed:
            os.kill(workers["w2"].pid, signal.SIGKILL)
            killed.append(time.time())

    out = tmp_path / "preds"
    result = analyze_corpus([corpus], model=default_model, out=out, partition_sentences=PARTITION_SENTENCES,
                            scheduler=address, progress=kill_one)
    assert killed and workers["w2"].wait(timeout=10) == -signal.SIGKILL
    assert result.written == result.partitions > 5
    rows = dataset_rows(out)
    assert len(rows) == len({r["slant_id"] for r in rows}) == len(reference)
    assert rows == reference
