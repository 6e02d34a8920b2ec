"""`slant analyze --out DIR`: the Parquet dataset (columns, metadata, slant ids), resuming
after an interruption, refusing directories that are not slant's, and a real
`distributed.LocalCluster` giving the same rows as this process."""

import json

import pytest

from helpers.corpus import dataset_rows
from slant.errors import InputError
from slant.loop.corpus import MANIFEST, analyze_corpus, open_corpus
from slant.studio.lsformat import task_data
from slant.text.documents import read_documents

COLUMNS = ["slant_id", "doc_id", "sentence_index", "start", "end", "text", "kind", "date", "lean", "outlet", "source",
           "title", "url", "labels", "scores", "spans", "uncertainty", "model_version"]
CORPUS = {"n_docs": 24, "per_doc": 10}  # the `corpus` and `analysed` fixtures' (tests/loop/conftest.py)
PARTITION_SENTENCES = 60


def test_one_row_per_sentence_with_metadata_and_the_task_key(analysed, corpus, default_model, tax):
    out, result = analysed
    dataset, manifest = open_corpus(out)
    table = dataset.to_table()
    assert table.schema.names == COLUMNS
    docs = list(read_documents([corpus]))
    assert table.num_rows == sum(len(d.sentences) for d in docs) == result.sentences
    assert result.partitions == len(manifest["partitions"]) > 2 and result.written == result.partitions
    rows = table.to_pylist()
    assert len({r["slant_id"] for r in rows}) == len(rows)
    first = next(r for r in rows if r["doc_id"] == "doc-0-4" and r["kind"] == "body")
    assert (first["outlet"], first["date"], first["lean"], first["url"]) == ("Valley Voice", "2024-05-15", "2",
                                                                            "https://news.example/0/4")
    pushed = {d["slant_id"]: d for doc in docs for d in task_data(doc, taxonomy=tax)}
    assert {r["slant_id"] for r in rows if r["kind"] in ("title", "body")} == set(pushed)
    direct = default_model.predict([first["text"]])[0]
    assert first["labels"] == direct.labels and dict(first["scores"]) == direct.scores
    assert [(s["start"], s["end"], s["label"]) for s in first["spans"]] == [(s["start"], s["end"], s["label"]) for s in direct.spans]
    assert manifest["complete"] and manifest["model_version"] == default_model.model_version
    assert result.summary().startswith(f"wrote {out}: {table.num_rows:,} sentences from 24 documents")


def test_a_rerun_after_an_interruption_writes_only_the_missing_partitions(analysed, corpus, default_model, tmp_path):
    out = tmp_path / "preds"

    def stop_after_two(done, total, result):
        if result.written == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze_corpus([corpus], model=default_model, out=out, partition_sentences=PARTITION_SENTENCES,
                       progress=stop_after_two)
    first = sorted(p.name for p in out.glob("part-*.parquet"))
    assert len(first) == 2 and not list(out.glob(".*tmp"))
    with pytest.raises(InputError, match=r"the analysis did not finish; rerun the same `slant analyze"):
        open_corpus(out)
    again = analyze_corpus([corpus], model=default_model, out=out, partition_sentences=PARTITION_SENTENCES)
    assert again.skipped == 2 and again.written == again.partitions - 2
    assert not set(again.written_files) & set(first)
    assert dataset_rows(out) == dataset_rows(analysed[0])
    third = analyze_corpus([corpus], model=default_model, out=out, partition_sentences=PARTITION_SENTENCES)
    assert third.written == 0 and third.new_sentences == 0


def test_directories_that_are_not_a_finished_slant_dataset(analysed, corpus, default_model, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"holds other files and no _slant_manifest\.json; give a new or empty directory"):
        analyze_corpus([corpus], model=default_model, out=other)
    with pytest.raises(InputError, match=r"no _slant_manifest\.json, so not a dataset written by `slant analyze --out`"):
        open_corpus(other)
    (other / MANIFEST).write_text(json.dumps({"format": "something"}), encoding="utf-8")
    with pytest.raises(InputError, match=r"not written by `slant analyze --out`"):
        open_corpus(other)
    with pytest.raises(InputError, match=r"holds a run with another partition size \(60, now 5000\)"):
        analyze_corpus([corpus], model=default_model, out=analysed[0])
    with pytest.raises(InputError, match=r"--from .*missing: no such directory"):
        open_corpus(tmp_path / "missing")


def test_a_local_dask_cluster_gives_the_same_rows(analysed, corpus, default_model, tmp_path):
    from distributed import Client, LocalCluster

    from slant.loop.dask_worker import ModelPlugin

    def profiling(dask_worker):
        return [dask_worker.periodic_callbacks[n].is_running() for n in ("profile", "profile-cycle")]

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        assert list(client.run(profiling).values()) == [[True, True]] * 2
        result = analyze_corpus([corpus], model=default_model, out=tmp_path / "dask",
                                partition_sentences=PARTITION_SENTENCES, scheduler=cluster.scheduler_address)
        # The model stays on the workers for the next run, their stack sampler paused while it does.
        assert list(client.run(profiling).values()) == [[False, False]] * 2
        # A second run finds the model there: one plugin, not a second copy of the model.
        analyze_corpus([corpus], model=default_model, out=tmp_path / "again", partition_sentences=PARTITION_SENTENCES,
                       scheduler=cluster.scheduler_address)
        plugins = client.run(lambda dask_worker: sorted(n for n in dask_worker.plugins if n.startswith("slant-")))
        assert list(plugins.values()) == [[ModelPlugin.name_for(default_model)]] * 2
        client.unregister_worker_plugin(ModelPlugin.name_for(default_model))
        assert list(client.run(profiling).values()) == [[True, True]] * 2
    assert result.engine.startswith("Dask at tcp://") and "2 worker threads" in result.engine
    assert dataset_rows(tmp_path / "dask") == dataset_rows(analysed[0])


def test_the_profiler_pause_and_gc_thresholds_last_until_the_last_slant_plugin_goes(default_model):
    from distributed import Client, LocalCluster

    from slant.loop.dask_worker import ModelPlugin

    def profiling(dask_worker):
        return [dask_worker.periodic_callbacks[n].is_running() for n in ("profile", "profile-cycle")]

    def thresholds():
        import gc

        return gc.get_threshold()

    first = ModelPlugin.for_model(default_model)
    second = ModelPlugin("slant-model-second", first.blob, first.card, first.taxonomy_data)  # another model's plugin
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        before = list(client.run(thresholds).values())
        assert before[0][0] < 10_000
        for plugin in (first, second):
            client.register_plugin(plugin, name=plugin.name)
        assert list(client.run(profiling).values()) == [[False, False]]
        assert list(client.run(thresholds).values()) == [(10_000, 10, 10)]  # young garbage collected less often
        client.unregister_worker_plugin(first.name)
        assert list(client.run(profiling).values()) == [[False, False]]  # the second plugin is still there
        assert list(client.run(thresholds).values()) == [(10_000, 10, 10)]
        # The nanny fixed glibc's trim threshold (64 KiB): slant's setting is noted to be put back.
        restore = client.run(lambda dask_worker: dask_worker._slant_tuning.malloc)
        assert list(restore.values()) == [{"mmap": 128 << 10, "trim": 65536}]
        client.unregister_worker_plugin(second.name)
        assert list(client.run(profiling).values()) == [[True, True]]
        assert list(client.run(thresholds).values()) == before
        assert list(client.run(lambda dask_worker: hasattr(dask_worker, "_slant_tuning")).values()) == [False]


FAULTS = """
import resource, sys
import numpy as np
from slant.loop.dask_worker import MALLOC_WHILE_RUNNING, glibc_thresholds
if sys.argv[1] == "set":
    assert glibc_thresholds(MALLOC_WHILE_RUNNING) == {"mmap": 128 << 10, "trim": 65536}
np.ones(1 << 17).sum()  # a first 1 MiB array: heap grown once
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    np.ones(1 << 17).sum()  # 1 MiB, allocated and freed as a batch's arrays are
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.parametrize("env", [{"MALLOC_TRIM_THRESHOLD_": "65536"}, {}])
def test_a_fixed_trim_threshold_is_raised_while_slant_runs_and_nothing_else_is(env):
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    faults = {}
    for how in ("leave", "set"):
        if how == "set" and not env:
            code = FAULTS.replace('== {"mmap": 128 << 10, "trim": 65536}', "is None")  # nothing fixed: untouched
        else:
            code = FAULTS
        run = subprocess.run([sys.executable, "-c", code, how], env={**base, **env}, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        faults[how] = int(run.stdout)
    if env:
        # 200 arrays of 256 pages: each mapped afresh with the fixed threshold, from the heap with slant's.
        assert faults["leave"] > 200 * 200 and faults["set"] < 2000, faults
    else:
        assert faults["leave"] < 2000 and faults["set"] < 2000, faults  # glibc's adaptive thresholds already reuse


def test_glibc_thresholds_change_nothing_without_mallopt(monkeypatch):
    from slant.loop.dask_worker import MALLOC_WHILE_RUNNING, glibc_thresholds

    class NoMallopt:  # a C library without mallopt (not glibc)
        pass

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    assert glibc_thresholds(MALLOC_WHILE_RUNNING, libc=NoMallopt()) is None
    calls = []

    class Glibc:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "262144")
    assert glibc_thresholds({"mmap": 1, "trim": 2}, libc=Glibc()) == {"mmap": 262144, "trim": 65536}
    assert calls == [(-3, 1), (-1, 2)]
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    assert glibc_thresholds({"mmap": 1, "trim": 2}, libc=Glibc()) is None and len(calls) == 2


def test_local_processes_give_the_same_rows(analysed, corpus, default_model, tmp_path):
    result = analyze_corpus([corpus], model=default_model, out=tmp_path / "pool", partition_sentences=PARTITION_SENTENCES,
                            jobs=2)
    assert result.engine == "2 local processes"
    assert dataset_rows(tmp_path / "pool") == dataset_rows(analysed[0])
