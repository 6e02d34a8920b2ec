"""Scores: THE one precision/recall/F1 computation, and the F1-best probability threshold.

The classifier's cross-validated scores, the model card, `slant evaluate`, the promotion
gate and the learning curve all count through `prf`.
"""

import numpy as np

__all__ = ["best_threshold", "binary_scores", "chance_f1", "char_overlap", "counts", "precision_threshold", "prf", "span_prf"]


def prf(tp, fp, fn):
    """``(precision, recall, f1)`` from true positives, false positives and false
    negatives; 0.0 where a ratio is undefined."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def counts(pred, gold):
    """``(tp, fp, fn)`` of two boolean arrays of the same shape."""
    pred, gold = np.asarray(pred, dtype=bool), np.asarray(gold, dtype=bool)
    return int((pred & gold).sum()), int((pred & ~gold).sum()), int((~pred & gold).sum())


def binary_scores(pred, gold):
    """``{precision, recall, f1, support, tp, fp, fn}`` of boolean predictions against gold
    (unrounded)."""
    tp, fp, fn = counts(pred, gold)
    p, r, f = prf(tp, fp, fn)
    return {"precision": p, "recall": r, "f1": f, "support": int(np.asarray(gold, dtype=bool).sum()),
            "tp": tp, "fp": fp, "fn": fn}


def best_threshold(p, y, beta=1.0):
    """``(cut, f)``: the probability cut that maximises F-beta on out-of-fold predictions
    (ties: higher cut), clipped to 0.05..0.95. beta < 1 weighs precision more (0.5: the
    default model's pre-labels, which annotators must delete when wrong)."""
    if y.sum() == 0:
        return 0.5, 0.0
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ys) + 1)
    b2 = beta * beta
    f1 = (1 + b2) * tp / (k + b2 * ys.sum())
    # Only cut between distinct probabilities.
    last = np.r_[ps[1:] != ps[:-1], True]
    f1 = np.where(last, f1, -1)
    best = int(np.argmax(f1))
    nxt = ps[best + 1] if best + 1 < len(ps) else 0.0
    t = float((ps[best] + nxt) / 2)
    return float(np.clip(t, 0.05, 0.95)), float(f1[best])


def precision_threshold(p, y, target, min_tp=10):
    """The lowest probability cut whose out-of-fold precision (over every sentence at or
    above it) reaches `target`, i.e. the most recall at that precision; None when no cut
    reaches it with at least `min_tp` true positives (the category is then not predicted:
    a pre-label that is wrong more often than `target` allows costs annotators more than it
    saves)."""
    y = np.asarray(y, dtype=bool)
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    prec = tp / np.arange(1, len(ys) + 1)
    ok = (prec >= target) & (tp >= min_tp) & np.r_[ps[1:] != ps[:-1], True]  # only cut between distinct values
    if not ok.any():
        return None
    k = int(np.flatnonzero(ok)[-1])
    nxt = ps[k + 1] if k + 1 < len(ps) else 0.0
    return float(np.clip((ps[k] + nxt) / 2, 0.05, 0.999))


def chance_f1(pred, gold):
    """The F1 that predictions made without looking at the sentences would get on average:
    predicting positive at the same rate q as `pred`, on gold with prevalence p, gives
    expected F1 = 2pq / (p + q). The promotion gate compares a model's F1 with it."""
    pred, gold = np.asarray(pred, dtype=bool), np.asarray(gold, dtype=bool)
    q, p = float(pred.mean()) if pred.size else 0.0, float(gold.mean()) if gold.size else 0.0
    return 2 * p * q / (p + q) if p + q else 0.0


def char_overlap(pred, gold):
    """``(overlap, predicted chars, gold chars)`` of two lists of (start, end) spans."""
    p = set().union(*(range(s, e) for s, e in pred)) if pred else set()
    g = set().union(*(range(s, e) for s, e in gold)) if gold else set()
    return len(p & g), len(p), len(g)


def span_prf(pred_spans, gold_spans, labels):
    """Character-overlap precision, recall and F1 per label over a corpus: per sentence,
    ``[{start, end, label}]`` predicted and marked. Labels with no marked character are
    left out (a corpus that marks no spans of a label cannot score it)."""
    totals = {}
    for pred, gold in zip(pred_spans, gold_spans):
        for lab in labels:
            g = [(s["start"], s["end"]) for s in gold or () if s["label"] == lab]
            p = [(s["start"], s["end"]) for s in pred or () if s["label"] == lab]
            if g or p:
                row = totals.setdefault(lab, [0, 0, 0])
                for k, v in enumerate(char_overlap(p, g)):
                    row[k] += v
    out = {}
    for lab, (o, n_p, n_g) in sorted(totals.items()):
        if n_g:
            pr, rc, f1 = prf(o, n_p - o, n_g - o)
            out[lab] = {"precision": round(pr, 4), "recall": round(rc, 4), "f1": round(f1, 4), "gold_chars": n_g}
    return out
