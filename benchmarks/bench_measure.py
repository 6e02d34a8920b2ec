"""Benchmark: are `slant measure`'s intervals valid, and narrower than the audit alone?

    .venv/bin/python benchmarks/bench_measure.py                    # 500 audits per design
    .venv/bin/python benchmarks/bench_measure.py --reps 100 --audit 700

A fully labelled real corpus plays the population: the PolNeAR training split
(/work/shared/data/polnear-train, imported with `slant import brat`: 7 outlets, attribution
labels) and the PTC training split (`slant import ptc`: loaded language, name calling;
no outlets, so four fixed batches of articles serve as groups and strata). The default model, which never saw PolNeAR, predicts every sentence (predictions
cached under the temp dir). Each repetition draws a random audit, hands `slant.measure`
the model's predictions for the corpus and the true labels of the audited sentences only,
and checks whether each 95% interval covers the true rate of its group (the share over
the whole corpus). Two designs: uniform (simple random sample of N sentences) and
stratified by outlet or batch (equal numbers per stratum, so unequal inclusion
probabilities), where the overall rate and PolNeAR's per-year rates cut across the strata. The baseline in the
same run is the classical interval from the audit alone; the naive count of model labels
is shown to miss.

Prints coverage (PPI, classical, naive), mean width ratio PPI/classical, audits per
second and peak memory. A speed part (`--scale N`, default one million sentences) writes
a synthetic Parquet corpus, reads it and measures it by outlet and month, against a
row-by-row reader of the same columns in the same run (each in its own process for its
peak memory); target 30 s per million sentences. Exits 1 if PPI coverage leaves [0.93, 0.97] for either design,
PPI is not narrower than classical, the naive interval covers more than half the time,
or the speed part misses its target.
"""

import argparse
import hashlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path("/work/shared/data")
SCALE_TARGET_S = 30.0   # per million sentences: read the Parquet predictions and measure, by outlet and month
CORPORA = {  # name: (folder, importer, categories, stratum field, designs as (design, --by))
    "polnear": ("polnear-train", "brat", ("attribution_named", "attribution_vague"), "outlet",
                (("uniform", ["outlet"]), ("stratified", ["outlet"]), ("stratified", ["year"]))),
    "ptc": ("ptc-train", "ptc", ("loaded_language", "name_calling"), "part",
            (("uniform", ["part"]), ("stratified", ["part"]), ("stratified", []))),
}


def _cache_dir():
    d = Path(tempfile.gettempdir()) / "slant-bench-measure"
    d.mkdir(exist_ok=True)
    return d


def _part(doc_id):
    """A stable batch of articles (PTC has no outlets): one of four letters from the id's hash."""
    return "ABCD"[int(hashlib.sha256(str(doc_id).encode()).hexdigest(), 16) % 4]


def load_population(name="polnear", data=DATA):
    """``(corpus, truth)``: the default model's predictions over a real labelled corpus as a
    `Corpus` (PolNeAR groups: outlet, year; PTC: part, a batch of articles) and the true
    labels {category: 0/1 array}. Imports (`slant import brat|ptc`) and predictions are cached."""
    from slant.measure.corpus import read_corpus
    from slant.model.seed import load_model
    from slant.records.brat import import_brat
    from slant.records.ptc import import_ptc
    from slant.taxonomy.core import load_taxonomy

    folder, importer, categories, _, _ = CORPORA[name]
    root = Path(data) / folder
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is absent (a fresh clone has no /work/shared/data)")
    tax = load_taxonomy()
    cache = _cache_dir()
    imported = cache / f"{name}.jsonl"
    if not imported.is_file():
        (import_brat if importer == "brat" else import_ptc)(root, taxonomy=tax, out=imported)
    records = [json.loads(line) for line in imported.open(encoding="utf-8")]
    model = load_model(None, taxonomy=tax)
    key = hashlib.sha256(model.model_version.encode() + imported.read_bytes()).hexdigest()[:12]
    preds_path = cache / f"predictions-{name}-{key}.jsonl"
    if not preds_path.is_file():
        preds = model.predict([r["text"] for r in records], explain=False)
        tmp = preds_path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for r, p in zip(records, preds):
                data = r.get("data") or {}
                fh.write(json.dumps({"doc_id": r["doc_id"], "sentence_index": r["sentence_index"], "start": r["start"],
                                     "end": r["end"], "text": r["text"], "labels": p.labels, "scores": p.scores,
                                     "spans": [], "model_version": model.model_version,
                                     "outlet": data.get("publisher"), "part": _part(r["doc_id"]),
                                     "year": (data.get("publication_date") or "")[:4]}) + "\n")
        tmp.replace(preds_path)
    corpus = read_corpus(preds_path, by=["outlet", "year", "part"] if name == "polnear" else ["part"])
    truth = {c: np.array([1.0 if c in r["labels"] else 0.0 for r in records]) for c in categories}
    return corpus, truth


def draw(corpus, truth, rng, design, size, field="outlet"):
    """One random audit `Audit` of `size` sentences: 'uniform', or 'stratified' by `field`
    with the same number per stratum (so unequal inclusion probabilities)."""
    from slant.measure.data import audit_from_arrays

    if design == "uniform":
        rows = rng.choice(corpus.n, size, replace=False)
        p = np.full(size, size / corpus.n)
        strata = np.full(size, "", dtype=object)
    else:
        outlets = corpus.groups[field]
        names = sorted(set(outlets))
        per = size // len(names)
        rows, p, strata = [], [], []
        for name in names:
            members = np.flatnonzero(outlets == name)
            take = rng.choice(members, min(per, len(members)), replace=False)
            rows.extend(take)
            p.extend([len(take) / len(members)] * len(take))
            strata.extend([name] * len(take))
        rows = np.array(rows)
    return audit_from_arrays(rows, {c: truth[c][rows] for c in truth}, p, strata)


def true_rates(corpus, truth, by):
    from slant.measure.core import group_ids

    labels, gid = group_ids(corpus, by)
    out = {}
    for c, t in truth.items():
        out[(c, ())] = float(t.mean())
        if by:
            for g, key in enumerate(labels):
                out[(c, tuple(zip(by, key)))] = float(t[gid == g].mean())
    return out


def simulate(corpus, truth, *, design, reps, size, by, seed=0, confidence=0.95, field="outlet"):
    """Coverage and widths over `reps` audits: {method: {"covered", "total", "width"}} and per group."""
    from slant.measure.core import measure

    rng = np.random.default_rng(seed)
    truth_of = true_rates(corpus, truth, by)
    tally = {m: {"covered": 0, "total": 0, "width": 0.0} for m in ("ppi", "classical", "naive")}
    per_group = {}
    for _ in range(reps):
        audit = draw(corpus, truth, rng, design, size, field)
        rep = measure(corpus, audit, by=by, categories=list(truth), confidence=confidence, differences=False)
        for row in rep["estimates"]:
            if row["ci_low"] is None:
                continue
            t = truth_of[(row["category"], tuple(row["group"].items()))]
            hit = row["ci_low"] <= t <= row["ci_high"]
            m = tally[row["method"]]
            m["covered"] += hit
            m["total"] += 1
            m["width"] += row["ci_high"] - row["ci_low"]
            if row["method"] == "ppi":
                g = per_group.setdefault((row["category"], tuple(row["group"].items())), [0, 0])
                g[0] += hit
                g[1] += 1
    for m in tally.values():
        m["coverage"] = m["covered"] / max(m["total"], 1)
        m["mean_width"] = m["width"] / max(m["total"], 1)
    return tally, per_group


def write_synthetic(path, n, seed=0):
    """A Parquet dataset like `slant analyze --out` writes: n sentences, 7 outlets, a year of dates,
    6 categories' scores as a map, labels as a list; 4 files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    cats = ["loaded_language", "name_calling", "exaggeration", "doubt", "attribution_named", "attribution_vague"]
    score = rng.beta(1, 6, (n, len(cats))).round(4)
    chosen = score >= 0.4
    def strings(values):  # pyarrow may hand back a chunked array for long inputs
        arr = pa.array(values, type=pa.string())
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr

    names = np.tile(np.array(cats, dtype=object), n)
    labels = pa.ListArray.from_arrays(np.concatenate([[0], np.cumsum(chosen.sum(1))]).astype(np.int32),
                                      strings(names[chosen.ravel()]))
    scores = pa.MapArray.from_arrays(np.arange(0, n * len(cats) + 1, len(cats), dtype=np.int32),
                                     strings(names), pa.array(score.ravel()))
    day = np.datetime64("2016-01-01") + rng.integers(0, 366, n)
    table = pa.table({"slant_id": pa.array([f"{i:032x}" for i in range(n)]),
                      "doc_id": pa.array([f"doc{i // 30}" for i in range(n)]),
                      "sentence_index": pa.array(np.arange(n) % 30), "labels": labels, "scores": scores,
                      "outlet": pa.array(np.array(["a", "b", "c", "d", "e", "f", "g"])[rng.integers(0, 7, n)]),
                      "date": pa.array(day.astype("datetime64[D]")), "model_version": pa.array(["m1"] * n)})
    path.mkdir(parents=True, exist_ok=True)
    for k in range(4):
        pq.write_table(table.slice(k * n // 4, n // 4 if k < 3 else n - 3 * (n // 4)), path / f"part-{k}.parquet")
    return cats


def _scale_step(step, path, queue):
    """One measured step in its own process: ('columnar'|'rowwise', seconds, peak MB, estimates)."""
    from slant.measure.core import measure
    from slant.measure.corpus import read_corpus
    from slant.measure.data import audit_from_arrays

    t0 = time.perf_counter()
    by = ["outlet", "date"]
    if step == "columnar":
        corpus = read_corpus(path, by=by)
    else:  # the baseline: every row as a Python dict, then the same arrays
        import pyarrow.dataset as ds

        from slant.measure import data

        table = ds.dataset(str(path), format="parquet").to_table()
        corpus = data._from_rows(table.to_pylist(), by, "month", str(path))
    read = time.perf_counter() - t0
    rng = np.random.default_rng(1)
    rows = rng.choice(corpus.n, 2000, replace=False)
    audit = audit_from_arrays(rows, {c: (rng.random(2000) < corpus.scores[c][rows]).astype(float)
                                     for c in corpus.categories}, np.full(2000, 2000 / corpus.n), [""] * 2000)
    report = measure(corpus, audit, by=by)
    total = time.perf_counter() - t0
    queue.put((step, read, total, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               len(report["estimates"]), corpus.n))


def scale(n):
    """Columnar Parquet reading + the whole measurement vs. a row-by-row reader, on n sentences."""
    from _common import in_spawned_process

    with tempfile.TemporaryDirectory(prefix="slant-bench-measure-") as tmp:
        path = Path(tmp) / "predictions"
        write_synthetic(path, n)
        got = {step: in_spawned_process(_scale_step, step, str(path)) for step in ("columnar", "rowwise")}
    (_, read, total, peak, rows, n), (_, read_b, total_b, peak_b, _, _) = got["columnar"], got["rowwise"]
    print(f"scale: {n:,} sentences, --by outlet,date (7 outlets x 13 months), 6 categories, {rows} estimate rows; "
          f"read {read:.1f} s + measure = {total:.1f} s ({n / total:,.0f} sentences/s), peak {peak:.0f} MB; "
          f"row-by-row baseline read {read_b:.1f} s, total {total_b:.1f} s, peak {peak_b:.0f} MB; "
          f"ratio {total_b / total:.1f}x")
    return total, total_b


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=500, help="random audits per design")
    ap.add_argument("--audit", type=int, default=1400, help="audited sentences per audit")
    ap.add_argument("--corpus", choices=[*CORPORA, "all"], default="all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=int, default=1_000_000, metavar="N",
                    help="sentences in the synthetic Parquet corpus for the speed part (0: skip)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    failed = []
    if args.scale:
        total, total_b = scale(args.scale)
        if total >= total_b:
            failed.append(f"scale: columnar reading ({total:.1f} s) not faster than row by row ({total_b:.1f} s)")
        if total > SCALE_TARGET_S * args.scale / 1e6:
            failed.append(f"scale: {total:.1f} s for {args.scale:,} sentences, target {SCALE_TARGET_S} s per million")
    for name in (CORPORA if args.corpus == "all" else [args.corpus]) if args.reps else ():
        t1 = time.perf_counter()
        corpus, truth = load_population(name)
        field, designs = CORPORA[name][3], CORPORA[name][4]
        print(f"population {name}: {corpus.n} sentences, {len(set(corpus.groups[field]))} {field}s; true rates "
              + ", ".join(f"{c} {truth[c].mean():.3f}" for c in truth) + f" (loaded in {time.perf_counter() - t1:.1f} s)")
        for design, by in designs:
            label = f"{name} {design} by {by[0] if by else '(overall)'}"
            t1 = time.perf_counter()
            tally, groups = simulate(corpus, truth, design=design, reps=args.reps, size=args.audit, by=by,
                                     seed=args.seed, field=field)
            secs = time.perf_counter() - t1
            ppi, cla, nai = tally["ppi"], tally["classical"], tally["naive"]
            ratio = ppi["mean_width"] / cla["mean_width"]
            worst = min(groups.items(), key=lambda kv: kv[1][0] / kv[1][1])
            print(f"  {label}: {args.reps} audits of {args.audit}; coverage ppi {ppi['coverage']:.3f} "
                  f"({ppi['total']} intervals), classical {cla['coverage']:.3f}, naive {nai['coverage']:.3f}; "
                  f"mean width ppi {ppi['mean_width']:.4f} / classical {cla['mean_width']:.4f} = ratio {ratio:.3f} "
                  f"(effective audit x{1 / ratio ** 2:.2f}); lowest group coverage {worst[1][0] / worst[1][1]:.3f} "
                  f"({worst[0][0]} {dict(worst[0][1]) or 'overall'}); {args.reps / secs:.1f} audits/s")
            if not 0.93 <= ppi["coverage"] <= 0.97:
                failed.append(f"{label}: PPI coverage {ppi['coverage']:.3f} outside [0.93, 0.97]")
            if ratio >= 1:
                failed.append(f"{label}: PPI intervals not narrower than classical (ratio {ratio:.3f})")
            if nai["coverage"] > 0.5:
                failed.append(f"{label}: the naive interval covers {nai['coverage']:.3f}: expected it to miss")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB; total {time.perf_counter() - t0:.1f} s")
    for f in failed:
        print("MISSED:", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
