"""slant.measure.estimate: the uniform estimators are ppi_py's; the hand-written stratified
estimator agrees with them on one stratum and with textbook formulas on several."""

import numpy as np
import pytest

from slant.errors import InputError
from slant.measure import estimate as est


def _sample(n_big=20000, n=500, seed=0):
    rng = np.random.default_rng(seed)
    y_all = (rng.random(n_big) < 0.2).astype(float)
    yhat_all = np.clip(0.6 * y_all + rng.normal(0.1, 0.15, n_big), 0, 1)
    rows = rng.choice(n_big, n, replace=False)
    return y_all, yhat_all, rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uniform_is_ppi_py(seed):
    """slant passes PPI++'s lam to ppi_py instead of letting it recompute: same answer as lam=None."""
    import ppi_py

    y_all, yhat_all, rows = _sample(seed=seed)
    got = est.ppi_uniform(y_all[rows], yhat_all[rows], yhat_all, 0.95)
    lo, hi = ppi_py.ppi_mean_ci(y_all[rows], yhat_all[rows], yhat_all, alpha=0.05)
    assert (got.low, got.high) == pytest.approx((lo[0], hi[0]))
    assert got.estimate == pytest.approx(float(ppi_py.ppi_mean_pointestimate(y_all[rows], yhat_all[rows], yhat_all)[0]))
    assert 0 < got.lam <= 1
    classical = est.classical_uniform(y_all[rows], 0.95)
    assert classical.estimate == pytest.approx(y_all[rows].mean())
    assert got.width < classical.width   # the model helps


def test_stratified_on_one_stratum_matches_ppi_py():
    """One stratum is a simple random sample: the hand-written IPW estimator must give what ppi_py gives
    (up to the finite-population correction and ppi_py's variance term for the predictions)."""
    y_all, yhat_all, rows = _sample()
    p = np.full(len(rows), len(rows) / len(y_all))
    strata = np.full(len(rows), "", dtype=object)
    dom = np.ones(len(rows))
    hand = est.stratified(y_all[rows], yhat_all[rows], p, strata, dom, yhat_all.mean(), 0.95)
    lib = est.ppi_uniform(y_all[rows], yhat_all[rows], yhat_all, 0.95)
    assert hand.estimate == pytest.approx(lib.estimate, abs=2e-3)
    assert hand.se == pytest.approx(lib.se, rel=0.05)
    assert hand.lam == pytest.approx(lib.lam, abs=0.02)
    classical = est.stratified(y_all[rows], yhat_all[rows], p, strata, dom, yhat_all.mean(), 0.95, lam=0.0)
    ref = y_all[rows].std(ddof=1) / np.sqrt(len(rows)) * np.sqrt(1 - p[0])
    assert classical.estimate == pytest.approx(y_all[rows].mean()) and classical.se == pytest.approx(ref)


def test_stratified_classical_is_the_textbook_stratified_mean():
    rng = np.random.default_rng(3)
    sizes, n_h = np.array([8000, 2000]), np.array([100, 100])
    ys = [(rng.random(n) < r).astype(float) for n, r in zip(n_h, (0.1, 0.5))]
    y = np.concatenate(ys)
    p = np.concatenate([np.full(n, n / big) for n, big in zip(n_h, sizes)])
    strata = np.array(["a"] * 100 + ["b"] * 100, dtype=object)
    got = est.stratified(y, np.zeros_like(y), p, strata, np.ones_like(y), 0.0, 0.95, lam=0.0)
    w = sizes / sizes.sum()
    want = sum(wh * yh.mean() for wh, yh in zip(w, ys))
    var = sum(wh ** 2 * (1 - n / big) * yh.var(ddof=1) / n for wh, yh, n, big in zip(w, ys, n_h, sizes))
    assert got.estimate == pytest.approx(want)
    assert got.se == pytest.approx(np.sqrt(var), rel=1e-9)


def test_differences():
    a = est.Interval(0.3, 0.25, 0.35, 0.02, 0.5)
    b = est.Interval(0.1, 0.05, 0.15, 0.015, 0.5)
    d = est.difference(a, b, 0.95)
    assert d.estimate == pytest.approx(0.2) and d.se == pytest.approx(0.025)
    assert est.difference(a, est.NONE, 0.95).estimate is None


def test_small_and_degenerate():
    assert est.ppi_uniform([1.0], [0.5], [0.5, 0.2], 0.95).estimate is None
    assert est.classical_uniform([], 0.95).low is None
    flat = est.ppi_uniform(np.array([0.0, 1.0, 1.0]), np.full(3, 0.4), np.full(50, 0.4), 0.95)
    assert flat.lam == 0.0 and flat.estimate == pytest.approx(2 / 3)
    n = est.naive(np.array([1, 0, 0, 0]), 0.95)
    assert n.estimate == 0.25 and n.low < 0.25 < n.high
    with pytest.raises(InputError, match="--confidence 1.5: must be between 0 and 1"):
        est.z_value(1.5)
