"""Benchmark: reading reviewed-label JSONL (validate, default, migrate), slant vs jsonschema-only.

    .venv/bin/python benchmarks/bench_dataset.py                    # 200,000 synthetic records
    .venv/bin/python benchmarks/bench_dataset.py --records 20000
    .venv/bin/python benchmarks/bench_dataset.py --ptc DIR --brat DIR --csv FILE   # also time the importers

slant validates each line with jsonschema-rs and only asks jsonschema for the message
when a line is invalid; the baseline validates every line with jsonschema, as a plain
implementation would. Both read the same file in the same run.
Exits 1 if slant is not faster than the baseline.
"""

import argparse
import json
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from slant.records import brat, ptc, tabular
from slant.records import reviewed as dataset
from slant.taxonomy.core import load_taxonomy


def make_file(path, n, seed):
    tax = load_taxonomy()
    rng = random.Random(seed)
    ids = list(tax.ids)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            labels = rng.sample(ids, rng.choice([0, 0, 1, 1, 2]))
            spans = [{"start": 0, "end": 5, "label": label, "text": "Words"} for label in labels[:1]]
            rec = {"id": f"s{i}", "doc_id": f"d{i // 30}", "text": "Words of a sentence of middling length here.",
                   "labels": labels, "spans": spans,
                   "annotations": [{"annotator": f"a{k}@example.org", "labels": labels, "spans": spans} for k in range(2)],
                   "policy": "majority", "source": "bench", "sentence_index": i % 30}
            fh.write(json.dumps(rec) + "\n")
    return tax


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--ptc")
    ap.add_argument("--brat")
    ap.add_argument("--csv")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reviewed.jsonl"
        tax = make_file(path, args.records, 0)
        records, fast_s = timed(lambda: dataset.load_reviewed(path, taxonomy=tax))
        original = dataset._validators

        def slow_only():
            _, slow = original()
            return slow.is_valid, slow

        dataset._validators = slow_only
        try:
            _, slow_s = timed(lambda: dataset.load_reviewed(path, taxonomy=tax))
        finally:
            dataset._validators = original
        tracemalloc.start()
        sum(1 for _ in dataset.iter_reviewed(path, taxonomy=tax))
        stream_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{len(records)} records ({path.stat().st_size / 2**20:.0f} MiB)")
        print(f"slant load_reviewed (jsonschema-rs):  {fast_s:7.2f} s  {len(records) / fast_s:9.0f} records/s")
        print(f"baseline (jsonschema on every line): {slow_s:7.2f} s  {len(records) / slow_s:9.0f} records/s")
        print(f"ratio baseline / slant: {slow_s / fast_s:.2f}x; iter_reviewed peak traced memory {stream_peak:.1f} MiB")
        tax = load_taxonomy()
        for name, src, fn in (("ptc", args.ptc, ptc.import_ptc), ("brat", args.brat, brat.import_brat)):
            if src:
                summary = fn(src, taxonomy=tax, out=Path(tmp) / f"{name}.jsonl")
                print(summary.format().splitlines()[0])
        if args.csv:
            summary = tabular.import_csv(args.csv, text_col="sentence", label_col="label", taxonomy=tax,
                                         out=Path(tmp) / "csv.jsonl", mapping="SUBJ=epistemic_framing,OBJ=")
            print(summary.format().splitlines()[0])
    return 0 if fast_s < slow_s else 1


if __name__ == "__main__":
    sys.exit(main())
