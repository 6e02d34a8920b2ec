"""Active selection: the N sentences of a large corpus most worth an annotator's time.

`select_informative` streams documents, predicts in batches without explanations and
keeps only a bounded heap, so memory does not grow with the corpus (a 1,000,000-sentence
corpus is never held at once). Strategies, each a score in 0..1 (higher = more
informative):

- ``uncertainty``: 1 - the smallest distance of a category's probability from its
  threshold, relative to the threshold (`slant.model.slantmodel.uncertainty`; the same
  number the review queue orders by, in each task's ``slant_uncertainty``);
- ``margin``: 1 - the smallest raw distance ``|p - threshold|`` over categories;
- ``entropy``: the mean binary entropy of the categories' probabilities (bits);
- ``diverse``: uncertainty, but spread out: a pool of the ``pool_factor * N`` most
  uncertain sentences is kept, then picked greedily by ``uncertainty * distance``,
  where distance is 1 - the highest cosine similarity (hashed word 1-2-grams) to a
  sentence already picked, and no document gives more than `per_document` sentences
  (default: 5% of N, at least 1) while others remain.

Sentences whose `slant_id` is in `existing` (already in the project) are skipped, so
rerunning a selection pushes the next N, not the same ones again.
"""

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from slant._words import counted
from slant.errors import InputError
from slant.model.slantmodel import uncertainty
from slant.studio.lsformat import iter_task_data

__all__ = ["STRATEGIES", "Selection", "informativeness", "select_informative", "uncertainty_scores"]

STRATEGIES = ("uncertainty", "margin", "entropy", "diverse")


def uncertainty_scores(proba, thresholds):
    """Per-sentence uncertainty, as `SlantModel.predict` computes it (0 certain .. 1)."""
    return uncertainty(np.asarray(proba, dtype=float), thresholds)


def informativeness(proba, thresholds, strategy):
    """Scores in 0..1 for a ``(n_sentences, n_categories)`` probability matrix."""
    proba = np.asarray(proba, dtype=float)
    if strategy in ("uncertainty", "diverse"):
        return uncertainty_scores(proba, thresholds)
    if strategy == "margin":
        return 1.0 - np.clip(np.abs(proba - np.asarray(thresholds, dtype=float)).min(axis=1), 0.0, 1.0)
    if strategy == "entropy":
        p = np.clip(proba, 1e-12, 1 - 1e-12)
        return (-(p * np.log2(p) + (1 - p) * np.log2(1 - p))).mean(axis=1)
    raise InputError(f"--strategy {strategy!r} is not known; use one of {', '.join(STRATEGIES)}")


@dataclass
class Selection:
    """The chosen task data (most informative first) and what was read to choose them."""

    strategy: str
    items: list = field(default_factory=list)   # task data dicts with uncertainty, informativeness
    documents: int = 0
    sentences: int = 0
    duplicates: int = 0                          # already in the project: not scored
    scored: int = 0

    def summary(self):
        if not self.items:
            return f"selected nothing: {counted(self.scored, 'new sentence')} scored ({self.duplicates} already in the project)"
        s = [d["informativeness"] for d in self.items]
        return (f"selected {len(self.items)} of {counted(self.scored, 'new sentence')} by {self.strategy} "
                f"(informativeness {min(s):.3f} to {max(s):.3f}; {self.duplicates} already in the project)")


def _batches(documents, taxonomy, existing, batch_size, sel):
    batch = []
    for document in documents:
        for data in iter_task_data(document, taxonomy=taxonomy):
            sel.sentences += 1
            if data["slant_id"] in existing:
                sel.duplicates += 1
                continue
            batch.append(data)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        sel.documents += 1
    if batch:
        yield batch


def select_informative(documents, *, model, taxonomy, n, strategy="uncertainty", existing=frozenset(),
                       batch_size=2000, per_document=None, pool_factor=5):
    """Stream `documents` and keep the `n` most informative sentences (see the module doc).

    Returns a `Selection`; each item is a task data dict (as `prelabel.task_data`) with
    ``uncertainty``, ``informativeness`` and ``selection`` (the strategy) added.
    """
    if strategy not in STRATEGIES:
        raise InputError(f"--strategy {strategy!r} is not known; use one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise InputError(f"--select {n}: choose at least 1 sentence")
    if batch_size < 1:
        raise InputError(f"batch size {batch_size} must be at least 1")
    keep = n if strategy != "diverse" else max(n, n * int(pool_factor))
    sel = Selection(strategy)
    heap, tick = [], 0   # min-heap of (score, tick, data): the weakest kept item on top
    held = set()         # slant_ids in the heap: a repeated document is scored again, kept once
    est = model.estimator
    thresholds = est.thresholds_
    for batch in _batches(documents, taxonomy, existing, batch_size, sel):
        proba, _, _ = est.predict_explain([d["text"] for d in batch], explain=False)
        scores = informativeness(proba, thresholds, strategy)
        unc = scores if strategy in ("uncertainty", "diverse") else uncertainty_scores(proba, thresholds)
        sel.scored += len(batch)
        floor = heap[0][0] if len(heap) >= keep else -1.0
        for i in np.flatnonzero(scores > floor):
            score = float(scores[i])
            if (len(heap) >= keep and score <= heap[0][0]) or batch[i]["slant_id"] in held:
                continue  # ties keep the earlier sentence, so an evicted repeat cannot come back either
            item = {**batch[i], "uncertainty": round(float(unc[i]), 4), "informativeness": round(score, 4),
                    "selection": strategy}
            tick += 1
            held.add(item["slant_id"])
            if len(heap) < keep:
                heapq.heappush(heap, (score, tick, item))
            else:
                held.discard(heapq.heapreplace(heap, (score, tick, item))[2]["slant_id"])
    ranked = [item for _, _, item in sorted(heap, key=lambda e: (-e[0], e[1]))]
    if strategy == "diverse":
        ranked = _spread(ranked, n, per_document or max(1, math.ceil(0.05 * n)))
    sel.items = ranked[:n]
    return sel


def _spread(pool, n, cap):
    """Greedy uncertainty x distance picks from `pool` (most uncertain first), `cap` per document."""
    from sklearn.feature_extraction.text import HashingVectorizer

    if not pool:
        return []
    X = HashingVectorizer(n_features=1 << 18, ngram_range=(1, 2), alternate_sign=False, norm="l2").transform(
        [d["text"] for d in pool])
    u = np.array([d["informativeness"] for d in pool])
    rows = {}
    for i, d in enumerate(pool):
        rows.setdefault(d["doc_id"], []).append(i)
    closest = np.zeros(len(pool))         # highest similarity to anything picked so far
    taken = np.zeros(len(pool), dtype=bool)
    full = np.zeros(len(pool), dtype=bool)  # from a document that has given `cap` already
    per_doc, out = {}, []
    while len(out) < min(n, len(pool)):
        gain = u * (1.0 - closest)
        gain[taken] = -1.0
        if (~full & ~taken).any():
            gain[full] = -1.0  # the cap holds while other documents can still give
        j = int(np.argmax(gain))
        taken[j] = True
        doc = pool[j]["doc_id"]
        per_doc[doc] = per_doc.get(doc, 0) + 1
        if per_doc[doc] >= cap:
            full[rows[doc]] = True
        out.append(pool[j])
        closest = np.maximum(closest, (X @ X[j].T).toarray().ravel())
    return out
