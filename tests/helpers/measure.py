"""Shared by tests/measure and tests/cli/test_measure.py (imported as `helpers.measure`): a small
synthetic corpus with known truth, written as `slant analyze --out` would (Parquet), and audit samples written as `slant pull` would (reviewed JSONL with ``audit: {p, stratum}``)."""

import json

import numpy as np

CATS = ("loaded_language", "attribution_vague")
OUTLETS = ("Gazette", "Courier", "Ledger")
RATES = {"Gazette": (0.30, 0.10), "Courier": (0.15, 0.20), "Ledger": (0.08, 0.05)}


class Population:
    """Truth and model predictions for N sentences across three outlets and three months."""

    def __init__(self, n=3000, seed=0):
        rng = np.random.default_rng(seed)
        self.n = n
        self.outlet = np.array([OUTLETS[i] for i in rng.choice(3, n, p=[0.5, 0.3, 0.2])], dtype=object)
        self.date = np.array([f"2024-{m:02d}-{d:02d}" for m, d in zip(rng.integers(1, 4, n), rng.integers(1, 28, n))],
                             dtype=object)
        self.truth, self.scores, self.labels = {}, {}, {}
        for k, c in enumerate(CATS):
            rate = np.array([RATES[o][k] for o in self.outlet])
            t = rng.random(n) < rate
            # a useful but biased model: it misses a third of the positives and adds a few false ones
            s = np.clip(np.where(t, rng.beta(5, 3, n), rng.beta(1.2, 8, n)), 0, 1)
            self.truth[c] = t.astype(float)
            self.scores[c] = np.round(s, 4)
            self.labels[c] = s >= 0.55
        self.doc = np.array([f"doc{i // 20}" for i in range(n)], dtype=object)
        self.sidx = np.array([i % 20 for i in range(n)])
        self.sid = np.array([f"sid{i:05d}" for i in range(n)], dtype=object)

    def rows(self):
        for i in range(self.n):
            yield {"slant_id": self.sid[i], "doc_id": self.doc[i], "sentence_index": int(self.sidx[i]), "start": 0,
                   "end": 10, "text": f"Sentence {i}.", "kind": "body", "outlet": self.outlet[i], "date": self.date[i],
                   "labels": [c for c in CATS if self.labels[c][i]],
                   "scores": {c: float(self.scores[c][i]) for c in CATS}, "spans": [], "uncertainty": 0.5,
                   "model_version": "test-model-1"}

    def write_parquet(self, path, scores_as="map"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = list(self.rows())
        if scores_as == "map":
            scores = pa.array([list(r["scores"].items()) for r in rows], type=pa.map_(pa.string(), pa.float64()))
        elif scores_as == "struct":
            scores = pa.array([r["scores"] for r in rows])
        else:
            scores = pa.array([json.dumps(r["scores"]) for r in rows])
        cols = {k: [r[k] for r in rows] for k in rows[0] if k not in ("scores", "spans")}
        cols["labels"] = pa.array(cols["labels"], type=pa.list_(pa.string()))
        table = pa.table({**cols, "scores": scores})
        path.mkdir(parents=True, exist_ok=True)
        half = self.n // 2   # two files, as a partitioned dataset has
        pq.write_table(table.slice(0, half), path / "part-0.parquet")
        pq.write_table(table.slice(half), path / "part-1.parquet")
        return path

    def write_jsonl(self, path):
        with path.open("w", encoding="utf-8") as fh:
            for r in self.rows():
                r = dict(r)
                del r["slant_id"]   # today's `slant analyze --format jsonl` has no slant_id
                fh.write(json.dumps(r) + "\n")
        return path

    def audit(self, path, rows, p, strata=None, *, mark=True, slant_id=True, coders=1, extra=None):
        """Reviewed records for corpus `rows` with the true labels, as `slant pull` writes them."""
        strata = strata if strata is not None else [""] * len(rows)
        with path.open("w", encoding="utf-8") as fh:
            for k, i in enumerate(rows):
                labels = [c for c in CATS if self.truth[c][i]]
                anns = [{"annotator": f"coder{j}@example.com", "labels": labels if j == 0 or k % 7 else labels[:0]}
                        for j in range(coders)]
                rec = {"id": self.sid[i] if slant_id else f"task-{k}", "doc_id": self.doc[i], "text": f"Sentence {i}.",
                       "labels": labels, "annotations": anns, "policy": "majority", "adjudicated": True,
                       "sentence_index": int(self.sidx[i]), "taxonomy": {"id": "rhetoric", "version": "1.0.0"},
                       "data": {"slant_id": self.sid[i]} if slant_id else {}}
                if mark:
                    rec["audit"] = {"p": p[k] if np.ndim(p) else p, "stratum": strata[k]}
                rec.update(extra or {})
                fh.write(json.dumps(rec) + "\n")
        return path

    def true_rate(self, c, mask=None):
        t = self.truth[c]
        return float(t.mean() if mask is None else t[mask].mean())


def uniform_rows(population, n=400, seed=5):
    return np.random.default_rng(seed).choice(population.n, n, replace=False)
