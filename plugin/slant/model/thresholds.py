"""Calibration and decision thresholds from out-of-fold scores (`calibrate`), and the cut
per category (`choose_threshold`): the F-beta-best one, optionally raised to reach a
precision floor, or `OFF` (never predicted) when the floor cannot be reached. The floor is
one number for every category or one per category (`floors`)."""

from collections.abc import Mapping
from numbers import Real

import numpy as np
from sklearn.linear_model import LogisticRegression

from slant.errors import InputError
from slant.model.metrics import best_threshold, binary_scores, precision_threshold

__all__ = ["OFF", "calibrate", "choose_threshold", "floors"]

OFF = 1.0  # the threshold of a category that is never predicted (decisions also need t < OFF)


def choose_threshold(p, y, beta=1.0, min_precision=None):
    """The cut maximising out-of-fold F-beta; with `min_precision`, raised to the lowest
    cut whose out-of-fold precision reaches it (`precision_threshold`), else `OFF`."""
    t = best_threshold(p, y.astype(int), beta)[0]
    if min_precision is None:
        return t
    floor = precision_threshold(p, y, min_precision)
    return OFF if floor is None else max(t, floor)


def floors(min_precision, classes):
    """The precision floor of each of `classes`: `min_precision` is None (no floor), a
    number in (0, 1] for every category, or a mapping of category id to a number or None
    (categories it does not name have no floor). Raises `InputError` naming a bad value or
    a category that is not among `classes`."""
    def check(value, where):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value <= 1:
            raise InputError(f"min_precision{where}={value!r}: use a precision between 0 and 1 (e.g. 0.8) or None")
        return float(value)

    classes = [str(c) for c in classes]
    if not isinstance(min_precision, Mapping):
        return [check(min_precision, "")] * len(classes)
    unknown = sorted(set(map(str, min_precision)) - set(classes))
    if unknown:
        raise InputError(f"min_precision names {', '.join(map(repr, unknown))}, not a category of this model; "
                         f"use some of {', '.join(classes)}")
    return [check(min_precision.get(c), f"[{c!r}]") for c in classes]


def _per_class(min_precision):
    """True when `min_precision` holds one floor per category: a sequence or a 1-d array,
    but not a string (or a mapping, which `floors` turns into a list first)."""
    return not isinstance(min_precision, (str, bytes, Mapping)) and np.ndim(min_precision) == 1


def calibrate(oof, Y, active, cross_validated, beta=1.0, min_precision=None):
    """``(calibration, thresholds, cv_scores, cv_pred)`` from out-of-fold decision scores
    `oof` (n x K) and the indicator matrix `Y`: a sigmoid per active category fitted on its
    scores and its threshold (`choose_threshold`; `min_precision` is one floor or K floors,
    a list as `floors` gives or any sequence or 1-d array); the other categories (too few
    positives or negatives, or no cross-validation) get the base rate and the cut 0.5. `cv_scores`
    maps column index to ``{precision, recall, f1, support, tp, fp, fn, threshold}``."""
    n, K = Y.shape
    per_class = list(min_precision) if _per_class(min_precision) else [min_precision] * K
    if len(per_class) != K:
        raise InputError(f"min_precision has {len(per_class)} floors for {K} categories; give one or one per category")
    pos = Y.sum(axis=0)
    calibration, thresholds = np.zeros((K, 2)), np.full(K, 0.5)
    cv_scores, cv_pred = {}, np.zeros((n, K), dtype=bool)
    for j in range(K):
        yj = Y[:, j].astype(bool)
        if j in active and cross_validated:
            cal = LogisticRegression(C=1e4).fit(oof[:, [j]], yj)
            a, b = float(cal.coef_[0, 0]), float(cal.intercept_[0])
            p = 1 / (1 + np.exp(-(a * oof[:, j] + b)))
            t = choose_threshold(p, yj, beta, per_class[j])
            calibration[j], thresholds[j] = (a, b), t
            cv_pred[:, j] = (p >= t) & (t < OFF)
        else:
            # Constant classes: always or never predicted, probability = base rate.
            rate = (pos[j] + 0.5) / (n + 1)
            calibration[j] = (0.0, float(np.log(rate / (1 - rate))))
            cv_pred[:, j] = rate >= 0.5
        cv_scores[j] = {**binary_scores(cv_pred[:, j], yj), "threshold": float(thresholds[j])}
    return calibration, thresholds, cv_scores, cv_pred
