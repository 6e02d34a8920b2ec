"""Learning curve: does more annotation still pay?

`learning_curve` splits the reviewed sentences into K folds by document. For each fold
it trains on 25, 50, 75 and 100% of the other folds' documents (nested subsets: each
larger share adds documents to the smaller one, plus the base sentences) and predicts
the fold's sentences; per-category F1 and macro-F1 are computed over all folds at each
share. Every share is scored on the same sentences, so the points are comparable.
A curve still rising at 100% says more annotation will help; a flat one says it will not.

>>> curve = learning_curve(records, taxonomy=tax, base="none", cv=3)   # doctest: +SKIP
>>> print(render_curve(curve))
"""

import hashlib
import math

import numpy as np
from sklearn.model_selection import GroupKFold

from slant._words import counted
from slant.errors import DataError
from slant.loop.evaluate import scores_from_matrices
from slant.loop.train import base_records, usable_records
from slant.model.fit import fit_estimator, training_set

__all__ = ["FRACTIONS", "learning_curve", "plot_curve", "render_curve"]

FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def _order(doc_id, seed):
    return hashlib.sha256(f"{seed}:{doc_id}".encode()).hexdigest()


def learning_curve(records, *, taxonomy, base="seed", weight_reviewed=1.0, cv=5, fractions=FRACTIONS,
                   inner_cv=3, registry=None, seed=0, params=None):
    """Macro-F1 and per-category F1 at each share of the reviewed data (see the module doc).

    `base` and `weight_reviewed` as in `slant.loop.train.retrain`; `inner_cv` folds choose
    thresholds inside each training run. Returns a dict (JSON-ready).
    """
    fractions = sorted(float(f) for f in fractions)
    if not fractions or fractions[0] <= 0 or fractions[-1] > 1:
        raise DataError(f"learning-curve shares {fractions}: each must be in (0, 1], e.g. 0.25 0.5 0.75 1")
    base_recs, _, effective, extends, earlier = base_records(base, taxonomy, registry)
    merged = {str(r["id"]): r for r in earlier}
    merged.update((str(r["id"]), r) for r in records)
    reviewed, excluded = usable_records(list(merged.values()), taxonomy)
    docs = np.array([str(r["doc_id"]) for r in reviewed], dtype=object)
    n_docs = len(set(docs))
    if n_docs < 2 or cv < 2:
        raise DataError(f"a learning curve needs reviewed sentences from at least 2 documents and --cv 2 or more; "
                        f"got {counted(n_docs, 'document')}, --cv {cv}")
    k = min(cv, n_docs)
    ids = list(taxonomy.ids)
    index = {c: j for j, c in enumerate(ids)}
    gold = np.zeros((len(reviewed), len(ids)), dtype=bool)
    for i, r in enumerate(reviewed):
        for lab in r["labels"]:
            gold[i, index[lab]] = True
    preds = {f: np.zeros_like(gold) for f in fractions}
    sizes = {f: [] for f in fractions}
    texts = [r["text"] for r in reviewed]
    for train, test in GroupKFold(n_splits=k).split(texts, groups=docs):
        train_docs = sorted(set(docs[train]), key=lambda d: _order(d, seed))
        for f in fractions:
            keep = set(train_docs[:max(1, math.ceil(f * len(train_docs)))])
            rows = [i for i in train if docs[i] in keep]
            data = training_set([reviewed[i] for i in rows], taxonomy=taxonomy, base=base_recs, weight_reviewed=weight_reviewed)
            est = fit_estimator(data, taxonomy=taxonomy, cv=inner_cv, params=params)
            _, chosen, _ = est.predict_explain([texts[i] for i in test], explain=False)
            preds[f][test] = chosen
            sizes[f].append(len(rows))
    points = [scores_from_matrices(ids, gold, preds[f]) for f in fractions]
    return {
        "fractions": fractions,
        "reviewed_sentences": [int(round(np.mean(sizes[f]))) for f in fractions],
        "macro_f1": [p["macro"]["f1"] for p in points],
        "micro_f1": [p["micro"]["f1"] for p in points],
        "categories": {cid: [p["categories"][cid]["f1"] for p in points] for cid in ids},
        "support": {cid: int(gold[:, index[cid]].sum()) for cid in ids},
        "sentences": len(reviewed),
        "documents": n_docs,
        "folds": k,
        "base": extends or effective,
        "weight_reviewed": float(weight_reviewed),
        "excluded": excluded,
    }


def render_curve(curve):
    """The curve as a text table: one column per share of the reviewed data."""
    shares = [f"{round(f * 100)}%" for f in curve["fractions"]]
    w = max(14, *(len(c) for c in curve["categories"]))
    lines = [f"learning curve: {counted(curve['sentences'], 'reviewed sentence')} from {counted(curve['documents'], 'document')}, "
             f"{curve['folds']}-fold CV by document, base {curve['base']}",
             f"{'share':<{w}}  {'support':>7}  " + "  ".join(f"{s:>6}" for s in shares),
             f"{'train sentences':<{w}}  {'':>7}  " + "  ".join(f"{n:>6}" for n in curve["reviewed_sentences"])]
    for cid, f1s in curve["categories"].items():
        lines.append(f"{cid:<{w}}  {curve['support'][cid]:>7}  " + "  ".join(f"{v:>6.3f}" for v in f1s))
    lines.append(f"{'macro F1':<{w}}  {'':>7}  " + "  ".join(f"{v:>6.3f}" for v in curve["macro_f1"]))
    m = curve["macro_f1"]
    if len(m) >= 2:
        gain = m[-1] - m[-2]
        lines.append(f"last step ({shares[-2]} -> {shares[-1]}): macro F1 {gain:+.3f}; "
                     + ("still rising: more annotation should help" if gain > 0.01 else
                        "flat: more of the same annotation adds little; target the categories that lag"))
    return "\n".join(lines)


def plot_curve(curve, path):
    """A PNG: macro-F1 (bold) and per-category F1 against reviewed sentences."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = curve["reviewed_sentences"]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for cid, f1s in curve["categories"].items():
        if curve["support"][cid]:
            ax.plot(x, f1s, marker=".", linewidth=1, alpha=0.6, label=f"{cid} ({curve['support'][cid]})")
    ax.plot(x, curve["macro_f1"], marker="o", linewidth=3, color="black", label="macro F1")
    ax.set_xlabel("reviewed sentences in training (mean over folds)")
    ax.set_ylabel("F1 (grouped cross-validation)")
    ax.set_ylim(0, 1)
    ax.set_title(f"Learning curve, base {curve['base']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
