"""Benchmark: retraining on 50,000 reviewed sentences with 5-fold CV, against a bare
scikit-learn TF-IDF + LogisticRegression fit on the same data.

    .venv/bin/python benchmarks/bench_train.py                  # 50,000 sentences, 5 folds
    .venv/bin/python benchmarks/bench_train.py --sentences 10000 --cv 3   # quicker

The reviewed sentences are made by recombining the project's seed sentences
(labels/seed): a labelled sentence keeps its labels and gets a few words of an
unlabelled one spliced in; 20 sentences to a document. Nothing from outside the repo.

Each measured step runs in its own process, so its peak memory (ru_maxrss) is its own:
1. slant: `slant.loop.train.retrain` with the seed base, 5 folds grouped by document (out-of-fold
   scores for calibration, thresholds and the card) and registering the version in a
   temporary registry: what `slant train reviewed.jsonl --holdout 0` does (all 50,000
   reviewed sentences train; the default keeps 20% of the documents out for the gate).
   The fold fits and the final fit run in forked workers (`n_jobs=-1`), so its memory is
   that of the process tree: the peak of the summed proportional set size (PSS: pages
   shared copy-on-write counted once, split between the processes), sampled every 0.25 s,
   or the process's own ru_maxrss when larger. Also printed: the largest worker's own
   peak RSS (RUSAGE_CHILDREN) and the upper bound parent peak + workers x that, which
   counts every shared page once per process;
2. baseline: TfidfVectorizer (word 1-2-grams) + OneVsRest(LogisticRegression), one fit.
Exits 1 when slant misses 90 s or 2 GB (process-tree peak).
"""

import argparse
import os
import random
import resource
import sys
import tempfile
import threading
import time

from _common import in_spawned_process

TARGET_S = 90.0
TARGET_MB = 2048


def make_records(n, seed=0, per_doc=20):
    from slant.model.seed import read_seed

    recs, _ = read_seed()
    neutral = [r["text"].split() for r in recs if not r["labels"]]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a = rng.choice(recs)
        w, b = a["text"].split(), rng.choice(neutral)
        k = rng.randint(2, 6)
        s, at = rng.randint(0, max(0, len(b) - k)), rng.randint(0, len(w))
        out.append({"id": f"s{i}", "doc_id": f"d{i // per_doc}", "text": " ".join(w[:at] + b[s:s + k] + w[at:]),
                    "labels": list(a["labels"]), "policy": "majority"})
    return out


def _tree_pss_mb(root):
    """Summed PSS (MB) of `root` and its descendants, from /proc (Linux); 0 elsewhere."""
    parents = {}
    for d in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    parents[int(d)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # exited meanwhile
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    kb = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                kb += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return kb / 1024


class _PeakSampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.stop = 0.0, threading.Event()

    def run(self):
        while not self.stop.wait(0.25):  # a sample costs ~10 ms of CPU
            self.peak = max(self.peak, _tree_pss_mb(os.getpid()))


def _cpu_seconds():
    """User + system CPU time of this process and its reaped children (the fit workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _slant(n, cv, queue):
    from slant.loop.registry import Registry
    from slant.loop.train import retrain
    from slant.taxonomy.core import load_taxonomy

    tax = load_taxonomy()
    records = make_records(n)
    sampler = _PeakSampler()
    sampler.start()
    with tempfile.TemporaryDirectory() as tmp:
        t0, cpu0 = time.perf_counter(), _cpu_seconds()
        result = retrain(records, taxonomy=tax, registry=Registry(tmp), base="seed", cv=cv, holdout=0.0)
        seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    sampler.stop.set()
    sampler.join()
    card = result.model.card
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # largest reaped fit worker
    workers = min(len(os.sched_getaffinity(0)), cv + 1) if child else 0
    queue.put({"seconds": seconds, "cpu": cpu, "sentences": card["training_data"]["sentences"], "heldout": result.heldout,
               "macro_f1": card["cv"]["macro"]["f1"], "peak_mb": max(own, sampler.peak), "own_mb": own,
               "tree_pss_mb": sampler.peak, "child_mb": child, "workers": workers,
               "bound_mb": own + workers * child})


def _baseline(n, queue):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from slant.model.linear import binarize_labels
    from slant.model.seed import read_seed
    from slant.taxonomy.core import load_taxonomy

    tax = load_taxonomy()
    records = read_seed()[0] + make_records(n)
    texts = [r["text"] for r in records]
    Y, _ = binarize_labels([r["labels"] for r in records], list(tax.ids))
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    X = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform(texts)
    OneVsRestClassifier(LogisticRegression(max_iter=1000)).fit(X, Y)
    seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    queue.put({"seconds": seconds, "cpu": cpu, "sentences": len(texts),
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=50_000)
    parser.add_argument("--cv", type=int, default=5)
    args = parser.parse_args(argv)

    load0 = os.getloadavg()[0]
    base = in_spawned_process(_baseline, args.sentences)
    ours = in_spawned_process(_slant, args.sentences, args.cv)
    load1 = os.getloadavg()[0]
    print(f"reviewed sentences: {args.sentences:,} (+ seed base), {args.cv}-fold CV grouped by document")
    print(f"slant retrain   : {ours['seconds']:7.1f} s  {ours['sentences'] / ours['seconds']:8.0f} sentences/s  "
          f"peak {ours['peak_mb']:6.0f} MB  CPU {ours['cpu']:6.1f} s  ({ours['sentences']:,} trained; "
          f"CV macro F1 {ours['macro_f1']:.3f})")
    print(f"  memory: process tree PSS peak {ours['tree_pss_mb']:.0f} MB; main process RSS peak {ours['own_mb']:.0f} MB; "
          f"{ours['workers']} fit workers, largest RSS peak {ours['child_mb']:.0f} MB "
          f"(upper bound, shared pages counted per process: {ours['bound_mb']:.0f} MB)")
    print(f"bare sklearn fit: {base['seconds']:7.1f} s  {base['sentences'] / base['seconds']:8.0f} sentences/s  "
          f"peak {base['peak_mb']:6.0f} MB  CPU {base['cpu']:6.1f} s  (TF-IDF 1-2-grams + one-vs-rest LogisticRegression, no CV)")
    print(f"ratio slant / bare: {ours['seconds'] / base['seconds']:.1f}x wall, {ours['cpu'] / base['cpu']:.1f}x CPU  "
          f"(slant also fits {args.cv} CV folds, char n-grams and cue features)")
    print(f"load average (1 min) before / after: {load0:.2f} / {load1:.2f} on {os.cpu_count()} cores")
    ok = ours["seconds"] <= TARGET_S and ours["peak_mb"] <= TARGET_MB
    print(f"target <= {TARGET_S:.0f} s and <= {TARGET_MB} MB: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
