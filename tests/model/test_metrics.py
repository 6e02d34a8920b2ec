"""slant.model.metrics: threshold search and THE precision/recall/F1 computation."""

import numpy as np
import pytest

from slant.model.metrics import best_threshold, binary_scores, counts, prf


@pytest.mark.parametrize(
    "p, y, expected",
    [
        ([0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0], 0.55),
        ([0.99, 0.98, 0.97], [1, 1, 1], 0.485),  # every sentence positive: cut below the lowest
        ([0.6, 0.4, 0.4, 0.1], [1, 0, 1, 0], 0.25),  # ties are never split
        ([0.5, 0.2], [0, 0], 0.5),  # no positives: neutral threshold
    ],
    ids=["separable", "all-positive", "ties", "no-positives"],
)
def test_best_threshold_maximises_f1(p, y, expected):
    t, _ = best_threshold(np.array(p), np.array(y))
    assert t == pytest.approx(expected)


@pytest.mark.parametrize("tp, fp, fn, expected", [
    (3, 1, 2, (0.75, 0.6, 2 * 0.75 * 0.6 / 1.35)),
    (0, 0, 0, (0.0, 0.0, 0.0)),      # nothing predicted, nothing to find
    (0, 4, 0, (0.0, 0.0, 0.0)),
    (5, 0, 0, (1.0, 1.0, 1.0)),
])
def test_prf(tp, fp, fn, expected):
    assert prf(tp, fp, fn) == pytest.approx(expected)


def test_counts_and_binary_scores_agree_with_sklearn():
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(0)
    gold, pred = rng.random(200) < 0.3, rng.random(200) < 0.4
    tp, fp, fn = counts(pred, gold)
    assert (tp, fp, fn) == (int((pred & gold).sum()), int((pred & ~gold).sum()), int((~pred & gold).sum()))
    got = binary_scores(pred, gold)
    p, r, f, _ = precision_recall_fscore_support(gold, pred, average="binary", zero_division=0)
    assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((p, r, f))
    assert got["support"] == int(gold.sum()) and (got["tp"], got["fp"], got["fn"]) == (tp, fp, fn)


def test_best_threshold_with_beta_below_one_favours_precision():
    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.3
    p = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1)
    t1, f1 = best_threshold(p, y.astype(int))
    th, fh = best_threshold(p, y.astype(int), beta=0.5)
    assert th >= t1
    prec = lambda t: (y & (p >= t)).sum() / max(1, (p >= t).sum())
    assert prec(th) >= prec(t1)


def test_precision_threshold_gives_the_most_recall_at_the_target_precision():
    from slant.model.metrics import precision_threshold

    # ranked: 12 positives, then alternating noise; precision over the top k falls as k grows
    p = np.linspace(0.99, 0.01, 40)
    y = np.r_[np.ones(12), np.tile([1, 0], 4), np.zeros(20)].astype(bool)
    t = precision_threshold(p, y, 0.8)
    chosen = p >= t
    assert (y & chosen).sum() / chosen.sum() >= 0.8
    # one more sentence (the next lower cut) would drop below the target
    k = int(chosen.sum())
    assert y[:k + 1].sum() / (k + 1) < 0.8 or not y[k]
    assert precision_threshold(p, y, 0.99, min_tp=14) is None  # 13 clean positives, then noise
    assert precision_threshold(p, ~y, 0.8) is None  # positives ranked last: never reached


def test_precision_threshold_needs_enough_true_positives():
    from slant.model.metrics import precision_threshold

    p = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    y = np.array([1, 1, 1, 0, 0], dtype=bool)
    assert precision_threshold(p, y, 0.8, min_tp=3) == pytest.approx(0.45)
    assert precision_threshold(p, y, 0.8, min_tp=4) is None
