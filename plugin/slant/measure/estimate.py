"""Estimators of one rate in one group: prediction-powered, classical, naive; differences.

- Uniform audits (every audited sentence has the same inclusion probability): the
  audited sentences of a group are a simple random sample of the group, so `ppi_py`
  gives the estimate and interval directly (`ppi_mean_pointestimate`, `ppi_mean_ci` with
  PPI++ power tuning, ``lam=None``), and `classical_mean_ci` the audit-only one.
- Stratified audits (unequal probabilities): `ppi_py`'s ``w=`` reweights rows but its
  standard error treats the audit as one i.i.d. sample, not as fixed-size samples per
  stratum, so the interval is not the design's; `_stratified` writes the inverse-probability
  (Hajek) estimator of the rectifier and its stratified linearised variance by hand.
  With ``lam=0`` it is the classical design-based estimate.
- Naive: the share of corpus sentences the model labels, with the binomial interval one
  would report if the model were never wrong (it is shown to miss).
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.stats import norm

from slant.errors import InputError

__all__ = ["Interval", "classical_uniform", "difference", "naive", "ppi_uniform", "stratified", "z_value"]


@dataclass
class Interval:
    estimate: float | None
    low: float | None
    high: float | None
    se: float | None
    lam: float | None = None

    @property
    def width(self):
        return None if self.low is None else self.high - self.low


NONE = Interval(None, None, None, None)


@lru_cache(maxsize=16)
def z_value(confidence):
    if not 0 < confidence < 1:
        raise InputError(f"--confidence {confidence}: must be between 0 and 1, e.g. 0.95")
    return float(norm.ppf(0.5 + confidence / 2))


def _ppi():
    try:
        import ppi_py
    except ImportError:
        raise InputError("slant measure needs ppi-python: pip install 'slant[corpus]'") from None
    return ppi_py


def _interval(est, se, z):
    return Interval(float(est), float(est - z * se), float(est + z * se), float(se))


def ppi_uniform(y, yhat, yhat_group, confidence):
    """PPI++ over a uniform audit of one group (ppi_py)."""
    if len(y) < 2:
        return NONE
    ppi = _ppi()
    y, yhat, yhat_group = (np.asarray(a, dtype=float) for a in (y, yhat, yhat_group))
    alpha = 1 - confidence
    # PPI++'s lam, computed once with ppi_py's own formula and passed in: with lam=None each of the
    # two calls recomputes it with np.cov over the group's whole corpus (2/3 of the time on a million
    # sentences). tests/measure/test_estimate.py checks the result equals ppi_py's lam=None answer.
    lam = _tuned_lam(y, yhat, yhat_group)
    est = float(np.asarray(ppi.ppi_mean_pointestimate(y, yhat, yhat_group, lam=lam)).ravel()[0])
    lo, hi = (float(np.asarray(b).ravel()[0]) for b in ppi.ppi_mean_ci(y, yhat, yhat_group, alpha=alpha, lam=lam))
    se = (hi - lo) / (2 * z_value(confidence))
    return Interval(est, lo, hi, se, lam)


def _tuned_lam(y, yhat, yhat_group):
    """PPI++'s power-tuning weight for a mean, as ppi_py's _calc_lam_glm computes it:
    cov(Y, Yhat) / ((1 + n/N) var(Yhat over both sets)), clipped to [0, 1]; 0 when the model
    is constant (it carries no information, and ppi_py would divide by 0)."""
    n, big_n = len(y), len(yhat_group)
    var = np.var(np.concatenate([yhat, yhat_group]), ddof=1)
    if var <= 0:
        return 0.0
    cov = np.mean((y - y.mean()) * (yhat - yhat.mean()))
    return float(np.clip(cov / ((1 + n / big_n) * var), 0, 1))


def classical_uniform(y, confidence):
    """The audit-only CLT interval (ppi_py's classical_mean_ci)."""
    if len(y) < 2:
        return NONE
    ppi = _ppi()
    y = np.asarray(y, dtype=float)
    lo, hi = (float(np.asarray(b).ravel()[0]) for b in ppi.classical_mean_ci(y, alpha=1 - confidence))
    return Interval(float(y.mean()), lo, hi, (hi - lo) / (2 * z_value(confidence)), 0.0)


def naive(labels, confidence):
    """Share of the group's sentences the model labels; binomial interval as if it never erred."""
    n = len(labels)
    if not n:
        return NONE
    m = float(np.mean(labels))
    return _interval(m, np.sqrt(m * (1 - m) / n), z_value(confidence))


# --- stratified (inverse-probability) -------------------------------------------------------

def _strata_weights(p, strata):
    """Stratum index per audited sentence and c_h = n_h (1 - p_h) / p_h^2 per stratum."""
    keys = [f"{s}\x1f{q!r}" for s, q in zip(strata, p)]
    uniq, idx = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
    n_h = np.bincount(idx, minlength=len(uniq)).astype(float)
    p_h = np.zeros(len(uniq))
    p_h[idx] = p
    return idx, n_h * (1 - p_h) / p_h ** 2, n_h


def _strat_var(z, idx, c, n_h):
    """sum_h c_h s_h^2(z): the variance of sum(z / p) under stratified sampling without replacement."""
    k = len(c)
    sums = np.bincount(idx, weights=z, minlength=k)
    sq = np.bincount(idx, weights=z * z, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.where(n_h > 1, (sq - sums ** 2 / n_h) / np.maximum(n_h - 1, 1), 0.0)
    return float(np.sum(c * np.maximum(s2, 0.0)))


def _strat_cov(u, v, idx, c, n_h):
    k = len(c)
    su, sv = (np.bincount(idx, weights=a, minlength=k) for a in (u, v))
    suv = np.bincount(idx, weights=u * v, minlength=k)
    cov = np.where(n_h > 1, (suv - su * sv / n_h) / np.maximum(n_h - 1, 1), 0.0)
    return float(np.sum(c * cov))


def _hajek_parts(y, yhat, p, dom):
    w = dom / p
    big_n_hat = w.sum()
    return w, big_n_hat, (w * y).sum() / big_n_hat, (w * yhat).sum() / big_n_hat


def stratified(y, yhat, p, strata, dom, yhat_group_mean, confidence, *, lam=None, design=None):
    """Prediction-powered (``lam`` None: tuned; 1: plain PPI) or classical (``lam=0``) rate of a
    group over a stratified audit.

    `dom` marks the audited sentences in the group (the group is a domain of the design);
    `yhat_group_mean` is the model's mean over all the group's corpus sentences (known: the
    corpus is fully predicted). Estimate: ``lam * mean_corpus(yhat) + Hajek mean of (y - lam yhat)``.
    """
    y, yhat, p, dom = (np.asarray(a, dtype=float) for a in (y, yhat, p, dom))
    if dom.sum() < 2:
        return NONE
    idx, c, n_h = design if design is not None else _strata_weights(p, strata)
    _, big_n_hat, ybar, hbar = _hajek_parts(y, yhat, p, dom)
    u = dom * (y - ybar) / big_n_hat
    v = dom * (yhat - hbar) / big_n_hat
    if lam is None:
        vv = _strat_var(v, idx, c, n_h)
        lam = float(np.clip(_strat_cov(u, v, idx, c, n_h) / vv, 0, 1)) if vv > 0 else 0.0
    est = lam * yhat_group_mean + (ybar - lam * hbar)
    se = np.sqrt(_strat_var(u - lam * v, idx, c, n_h))
    out = _interval(est, se, z_value(confidence))
    out.lam = lam
    return out


def difference(a, b, confidence, *, y=None, yhat=None, p=None, strata=None, dom_a=None, dom_b=None, design=None):
    """Interval for rate(a) - rate(b).

    Uniform audits: the groups' audited sentences are disjoint random samples, so the
    variances add. Stratified: the linearised variables of both groups are subtracted
    sentence by sentence and the stratified variance taken of the result (the groups
    share strata, so their estimates covary).
    """
    if a.estimate is None or b.estimate is None:
        return NONE
    z = z_value(confidence)
    if dom_a is None:
        return _interval(a.estimate - b.estimate, np.hypot(a.se, b.se), z)
    y, yhat, p = (np.asarray(x, dtype=float) for x in (y, yhat, p))
    idx, c, n_h = design if design is not None else _strata_weights(p, strata)
    parts = []
    for r, dom in ((a, dom_a), (b, dom_b)):
        dom = np.asarray(dom, dtype=float)
        _, big_n_hat, ybar, hbar = _hajek_parts(y, yhat, p, dom)
        parts.append(dom * ((y - ybar) - r.lam * (yhat - hbar)) / big_n_hat)
    se = np.sqrt(_strat_var(parts[0] - parts[1], idx, c, n_h))
    return _interval(a.estimate - b.estimate, se, z)


def design_of(p, strata):
    """Precomputed stratum index and weights for `stratified` and `difference`."""
    return _strata_weights(np.asarray(p, dtype=float), strata)
