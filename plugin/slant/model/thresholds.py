"""Calibration and decision thresholds from out-of-fold scores (`calibrate`), and the cut
per category (`choose_threshold`): the F-beta-best one, optionally raised to reach a
precision floor, or `OFF` (never predicted) when the floor cannot be reached."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from slant.model.metrics import best_threshold, binary_scores, precision_threshold

__all__ = ["OFF", "calibrate", "choose_threshold"]

OFF = 1.0  # the threshold of a category that is never predicted (decisions also need t < OFF)


def choose_threshold(p, y, beta=1.0, min_precision=None):
    """The cut maximising out-of-fold F-beta; with `min_precision`, raised to the lowest
    cut whose out-of-fold precision reaches it (`precision_threshold`), else `OFF`."""
    t = best_threshold(p, y.astype(int), beta)[0]
    if min_precision is None:
        return t
    floor = precision_threshold(p, y, min_precision)
    return OFF if floor is None else max(t, floor)


def calibrate(oof, Y, active, cross_validated, beta=1.0, min_precision=None):
    """``(calibration, thresholds, cv_scores, cv_pred)`` from out-of-fold decision scores
    `oof` (n x K) and the indicator matrix `Y`: a sigmoid per active category fitted on its
    scores and its threshold (`choose_threshold`); the other categories (too few positives
    or negatives, or no cross-validation) get the base rate and the cut 0.5. `cv_scores`
    maps column index to ``{precision, recall, f1, support, tp, fp, fn, threshold}``."""
    n, K = Y.shape
    pos = Y.sum(axis=0)
    calibration, thresholds = np.zeros((K, 2)), np.full(K, 0.5)
    cv_scores, cv_pred = {}, np.zeros((n, K), dtype=bool)
    for j in range(K):
        yj = Y[:, j].astype(bool)
        if j in active and cross_validated:
            cal = LogisticRegression(C=1e4).fit(oof[:, [j]], yj)
            a, b = float(cal.coef_[0, 0]), float(cal.intercept_[0])
            p = 1 / (1 + np.exp(-(a * oof[:, j] + b)))
            t = choose_threshold(p, yj, beta, min_precision)
            calibration[j], thresholds[j] = (a, b), t
            cv_pred[:, j] = (p >= t) & (t < OFF)
        else:
            # Constant classes: always or never predicted, probability = base rate.
            rate = (pos[j] + 0.5) / (n + 1)
            calibration[j] = (0.0, float(np.log(rate / (1 - rate))))
            cv_pred[:, j] = rate >= 0.5
        cv_scores[j] = {**binary_scores(cv_pred[:, j], yj), "threshold": float(thresholds[j])}
    return calibration, thresholds, cv_scores, cv_pred
