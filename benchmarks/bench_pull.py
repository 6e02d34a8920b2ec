"""Pull throughput: a synthetic Label Studio full JSON export -> reviewed records.

    .venv/bin/python benchmarks/bench_pull.py                 # 100,000 tasks x 3 annotations
    .venv/bin/python benchmarks/bench_pull.py --tasks 20000   # quicker

Baseline in the same run: ``json.load`` of the whole file (what the SDK's helpers do).
Prints seconds, tasks/s and peak memory for both (time measured without tracemalloc,
memory in a second run under it).
"""

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

from slant.loop.pull import pull_export
from slant.taxonomy.core import load_taxonomy


def _export(path, n, tax):
    names = [tax.category(c).name for c in tax.sentence_ids]
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[")
        for i in range(n):
            anns = [{"id": i * 3 + k, "completed_by": {"id": k + 1, "email": f"a{k}@x.org"}, "was_cancelled": False,
                     "ground_truth": False, "created_at": "2024-01-01T00:00:00Z", "lead_time": 4.2,
                     "result": [{"from_name": "categories", "to_name": "text", "type": "choices",
                                 "value": {"choices": [names[(i + k) % len(names)]]}}]} for k in range(3)]
            task = {"id": i, "project": 1, "annotations": anns,
                    "predictions": [{"model_version": "seed-1", "score": 0.5, "result": []}],
                    "data": {"text": f"Sentence {i} of the synthetic export, long enough to look real.", "doc_id": f"d{i // 20}",
                             "sentence_index": i % 20, "start": 0, "end": 60, "slant_id": f"s{i}", "outlet": "G"}}
            fh.write(("," if i else "") + json.dumps(task))
        fh.write("]")


def _measure(fn):
    """(seconds, peak bytes): timed on its own, then run again under tracemalloc for memory."""
    t = time.perf_counter()
    fn()
    secs = time.perf_counter() - t
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return secs, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100_000)
    args = ap.parse_args()
    tax = load_taxonomy()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "export.json"
        _export(src, args.tasks, tax)
        size = src.stat().st_size
        base_s, base_mem = _measure(lambda: json.load(src.open(encoding="utf-8")))
        pull_s, pull_mem = _measure(lambda: pull_export(src, Path(tmp) / "out.jsonl", taxonomy=tax))
    print(f"export: {args.tasks} tasks, {size / 1e6:.1f} MB")
    print(f"json.load (baseline, parse only): {base_s:.2f} s, peak {base_mem / 1e6:.1f} MB")
    print(f"slant pull_export (parse + adjudicate + write): {pull_s:.2f} s, {args.tasks / pull_s:,.0f} tasks/s, "
          f"peak {pull_mem / 1e6:.1f} MB")
    print(f"ratio time pull/json.load {pull_s / base_s:.2f}, memory pull/json.load {pull_mem / base_mem:.3f}")


if __name__ == "__main__":
    main()
