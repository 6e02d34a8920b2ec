"""Benchmark: the full agreement report, and Krippendorff's alpha against its baselines.

    .venv/bin/python benchmarks/bench_agreement.py            # 100,000 units x 3 annotators x 12 categories
    .venv/bin/python benchmarks/bench_agreement.py --units 20000 --bootstrap 200   # quicker

Synthetic data with missing values: each annotator skips 15% of the units, labels are a
noisy copy of a per-unit truth, 20% of annotations carry a span, every unit has a
prediction from one of two model versions. In the same run, alpha for one category is
computed by slant, by the `krippendorff` package (same coders x units array) and by nltk's
AnnotationTask (on a subsample, scaled linearly: its alpha is one pass over the items).
Exits 1 if the report misses the 15 s target, the file end to end its 10 s target, or slant's
alpha is slower than `krippendorff`.
"""

import argparse
import gc
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from slant.agreement.core import agreement_from_file, compute_agreement, krippendorff_alpha
from slant.agreement.report import render
from slant.records.reviewed import iter_reviewed
from slant.taxonomy.core import load_taxonomy

TARGET_S = 15.0
TARGET_FILE_S = 10.0  # `slant agreement FILE` end to end (issue #19)


def make_records(n_units, n_coders, seed):
    tax = load_taxonomy()
    ids, span_ids = list(tax.sentence_ids), list(tax.span_ids)
    rng = np.random.default_rng(seed)
    truth = rng.random((n_units, len(ids))) < rng.uniform(0.03, 0.3, len(ids))
    labels = truth[None] ^ (rng.random((n_coders, n_units, len(ids))) < 0.08)
    present = rng.random((n_coders, n_units)) >= 0.15
    pred = truth ^ (rng.random(truth.shape) < 0.15)
    span_at = rng.random((n_coders, n_units)) < 0.2
    starts, lengths = rng.integers(0, 60, (n_coders, n_units)), rng.integers(3, 15, (n_coders, n_units))
    span_label = rng.integers(0, len(span_ids), (n_coders, n_units))
    records = []
    for u in range(n_units):
        anns = []
        for c in range(n_coders):
            if not present[c, u]:
                continue
            spans = ([{"start": int(starts[c, u]), "end": int(starts[c, u] + lengths[c, u]),
                       "label": span_ids[span_label[c, u]]}] if span_at[c, u] else [])
            anns.append({"annotator": f"annotator{c + 1}@example.org",
                         "labels": [ids[k] for k in np.flatnonzero(labels[c, u])], "spans": spans})
        records.append({"id": f"s{u}", "doc_id": f"d{u // 25}", "text": "A sentence.",
                        "labels": [ids[k] for k in np.flatnonzero(truth[u])], "annotations": anns,
                        "prediction": {"labels": [ids[k] for k in np.flatnonzero(pred[u])], "scores": {},
                                       "model_version": f"v{u % 2}"},
                        "data": {"outlet": f"outlet{u % 4}"}})
    category0 = np.where(present, labels[:, :, 0], np.nan).astype(float)
    return tax, records, category0


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return min(times), value


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--coders", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--nltk-units", type=int, default=5000, help="subsample for nltk's AnnotationTask")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import krippendorff
    from nltk.metrics.agreement import AnnotationTask

    t = time.perf_counter()
    tax, records, cat0 = make_records(args.units, args.coders, args.seed)
    print(f"data: {args.units:,} units x {args.coders} annotators x {len(tax.sentence_ids)} categories, "
          f"{sum(len(r['annotations']) for r in records):,} annotations (built in {time.perf_counter() - t:.1f} s)")

    # 1. the full report from records in memory, and end to end from a JSONL file
    cpu = time.process_time()
    t_report, report = best_of(lambda: compute_agreement(records, tax, bootstrap=args.bootstrap, seed=args.seed), 1)
    cpu_report = time.process_time() - cpu
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reviewed.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

        gc.disable()  # as agreement_from_file reads (the collector would walk the growing list)
        try:
            t_read, _ = best_of(lambda: list(iter_reviewed(path)), 1)
        finally:
            gc.enable()
        t_file, rep = best_of(lambda: agreement_from_file(path, bootstrap=args.bootstrap, seed=args.seed), 1)
        t_json, _ = best_of(lambda: render(rep, "json"), 1)
        t_html, _ = best_of(lambda: render(rep, "html"), 1)
        size_mb = path.stat().st_size / 1e6
    t_boot_0, _ = best_of(lambda: compute_agreement(records, tax, bootstrap=0), 1)
    tracemalloc.start()
    compute_agreement(records, tax, bootstrap=args.bootstrap, seed=args.seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # 2. alpha for one category: slant vs krippendorff (same array) vs nltk (subsample, scaled)
    t_slant = t_kripp = cpu_slant = cpu_kripp = float("inf")
    for _ in range(21):  # interleaved, best of 21: the two see the same machine load
        c = time.process_time()
        t, a_slant = best_of(lambda: krippendorff_alpha(cat0), 1)
        t_slant, cpu_slant = min(t_slant, t), min(cpu_slant, time.process_time() - c)
        c = time.process_time()
        t, a_kripp = best_of(lambda: krippendorff.alpha(reliability_data=cat0, level_of_measurement="nominal"), 1)
        t_kripp, cpu_kripp = min(t_kripp, t), min(cpu_kripp, time.process_time() - c)
    sub = cat0[:, :min(args.nltk_units, cat0.shape[1])]
    triples = [(c, u, int(sub[c, u])) for c in range(sub.shape[0]) for u in range(sub.shape[1]) if not np.isnan(sub[c, u])]
    t_nltk_sub, a_nltk = best_of(lambda: AnnotationTask(data=triples).alpha(), 1)
    t_nltk = t_nltk_sub * cat0.shape[1] / sub.shape[1]
    assert abs(a_slant - a_kripp) < 1e-9 and abs(a_nltk - krippendorff_alpha(sub)) < 1e-9

    units_per_s = args.units / t_report
    print(f"\nfull report, {args.bootstrap} bootstrap replicates (records in memory): {t_report:.2f} s "
          f"({units_per_s:,.0f} units/s); target <= {TARGET_S:.0f} s: {'met' if t_report <= TARGET_S else 'MISSED'}")
    print(f"  CPU time of this process: {cpu_report:.2f} s (wall time includes waiting for a busy machine)")
    print(f"  the same report without bootstrap (--bootstrap 0): {t_boot_0:.2f} s")
    t_end = t_file + t_json + t_html
    print(f"end to end from a {size_mb:.0f} MB JSONL file: {t_end:.2f} s (target <= {TARGET_FILE_S:.0f} s: "
          f"{'met' if t_end <= TARGET_FILE_S else 'MISSED'}) = agreement_from_file "
          f"{t_file:.2f} s (of which reading and validating the lines {t_read:.2f} s) + JSON {t_json:.2f} s "
          f"+ HTML with plots {t_html:.2f} s")
    print(f"peak traced memory (report): {peak / 2**20:.0f} MiB; process max RSS: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"\nalpha, one category, {cat0.shape[1]:,} units x {cat0.shape[0]} coders (alpha = {a_slant:.4f}):")
    print(f"  slant.krippendorff_alpha      {1000 * t_slant:9.1f} ms  (CPU {1000 * cpu_slant:.1f} ms)")
    print(f"  krippendorff.alpha            {1000 * t_kripp:9.1f} ms  (CPU {1000 * cpu_kripp:.1f} ms)   "
          f"ratio krippendorff/slant: {t_kripp / t_slant:.1f}x wall, {cpu_kripp / cpu_slant:.1f}x CPU")
    print(f"  nltk AnnotationTask.alpha     {1000 * t_nltk:9.1f} ms   (measured on {sub.shape[1]:,} units, scaled); "
          f"ratio nltk/slant: {t_nltk / t_slant:,.0f}x")
    print(f"\nload average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    ok = t_report <= TARGET_S and t_end <= TARGET_FILE_S and t_slant <= t_kripp
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
