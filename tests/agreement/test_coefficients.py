"""Coefficients (slant.agreement.coefficients): alpha, Fleiss, Cohen, AC1, bootstrap, label-set alphas, checked against reference packages and worked examples."""

import itertools
from types import SimpleNamespace

import krippendorff
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

from helpers.agreement import HYP, IDS, KRIPPENDORFF_2011, REFERENCE_WARNINGS, TAX, binary_data, records_from, reliability, tiny_taxonomy
from slant.agreement.coefficients import binary_coefficients, bootstrap_sums, json_number, nanmean, percentile_ci, unit_counts, unit_stats
from slant.agreement.core import compute_agreement, krippendorff_alpha

# --- Krippendorff's alpha --------------------------------------------------------------

def test_krippendorff_worked_example():
    data = np.array([[np.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011])
    assert round(krippendorff_alpha(data), 3) == 0.743
    # the same table through records: each value is one label, so the label-set alpha is the nominal alpha
    tax = tiny_taxonomy([f"v{v}" for v in range(1, 6)])
    records = [{"id": u, "doc_id": "d", "text": "t", "labels": [],
                "annotations": [{"annotator": f"obs{c}", "labels": [f"v{row[u]}"]}
                                for c, row in enumerate(KRIPPENDORFF_2011) if row[u] is not None]}
               for u in range(12)]
    rep = compute_agreement(records, tax, bootstrap=0)
    assert round(rep["overall"]["alpha_label_sets"], 3) == 0.743
    assert rep["summary"]["units_multi"] == 11  # unit 12 has one value and is not pairable


@REFERENCE_WARNINGS
@HYP
@given(st.integers(2, 5), st.integers(2, 40), st.integers(2, 4), st.integers(0, 10**6), st.floats(0, 0.6))
def test_krippendorff_alpha_matches_package(n_coders, n_units, n_values, seed, p_missing):
    rng = np.random.default_rng(seed)
    data = rng.integers(1, n_values + 1, size=(n_coders, n_units)).astype(float)
    data[rng.random(data.shape) < p_missing] = np.nan
    try:
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    except ValueError:  # one value in the domain or no pairable unit: undefined
        return
    assert krippendorff_alpha(data) == pytest.approx(expected, abs=1e-9, nan_ok=True)


@REFERENCE_WARNINGS
@HYP
@given(st.integers(2, 5), st.integers(3, 40), st.integers(0, 10**6), st.floats(0, 0.6))
def test_category_alpha_matches_package(n_coders, n_units, seed, p_missing):
    matrix = binary_data(n_coders, n_units, 3, seed, p_missing)
    if not ((matrix[..., 0] >= 0).sum(0) >= 2).any():
        return
    rep = compute_agreement(records_from(matrix, IDS[:3]), TAX, bootstrap=0)
    for k in range(3):
        try:
            expected = krippendorff.alpha(reliability_data=reliability(matrix, k), level_of_measurement="nominal")
        except ValueError:
            expected = None
        got = rep["categories"][k]["alpha"]
        if expected is None or not np.isfinite(expected):
            assert got is None
        else:
            assert got == pytest.approx(expected, abs=1e-9)


# --- Fleiss, Cohen, AC1 ----------------------------------------------------------------

@REFERENCE_WARNINGS
@HYP
@given(st.integers(3, 6), st.integers(3, 40), st.integers(0, 10**6), st.integers(2, 3))
def test_fleiss_matches_statsmodels(n_coders, n_units, seed, per_unit):
    # statsmodels needs the same number of ratings on every unit; which coders gave them varies
    matrix = binary_data(n_coders, n_units, 3, seed, min_per_unit=per_unit)
    rep = compute_agreement(records_from(matrix, IDS[:3]), TAX, bootstrap=0)
    for k in range(3):
        ones = (matrix[:, :, k] == 1).sum(0)
        table = np.column_stack([per_unit - ones, ones])
        expected = fleiss_kappa(table, method="fleiss")
        got = rep["categories"][k]["fleiss_kappa"]
        assert (got is None) if not np.isfinite(expected) else got == pytest.approx(expected, abs=1e-9)


def test_fleiss_generalised_to_varying_raters():
    # units with 2 and 3 raters (Gwet 2014): p_a over units with >= 2 ratings, pi = mean of unit shares
    matrix = np.array([[[1], [0], [1], [0]], [[1], [0], [0], [-1]], [[1], [-1], [0], [0]]])
    rep = compute_agreement(records_from(matrix, IDS[:1]), TAX, bootstrap=0)
    pa = np.mean([1, 1, 1 / 3, 1])  # 5/6
    pi = np.mean([1, 0, 1 / 3, 0])  # 1/3
    pe = pi ** 2 + (1 - pi) ** 2  # 5/9
    assert rep["categories"][0]["fleiss_kappa"] == pytest.approx((pa - pe) / (1 - pe))
    assert rep["categories"][0]["fleiss_kappa"] == pytest.approx(5 / 8)


@REFERENCE_WARNINGS
@HYP
@given(st.integers(2, 5), st.integers(3, 40), st.integers(0, 10**6), st.floats(0, 0.5))
def test_cohen_pairs_match_sklearn(n_coders, n_units, seed, p_missing):
    matrix = binary_data(n_coders, n_units, 2, seed, p_missing)
    if not ((matrix[..., 0] >= 0).sum(0) >= 2).any():
        return
    rep = compute_agreement(records_from(matrix, IDS[:2]), TAX, bootstrap=0)
    names = rep["pairwise"]["annotators"]
    for k, cid in enumerate(IDS[:2]):
        got = rep["pairwise"]["cohen_kappa"][cid]
        for a, b in itertools.combinations(range(n_coders), 2):
            shared = (matrix[a, :, 0] >= 0) & (matrix[b, :, 0] >= 0)
            if f"c{a}" not in names or f"c{b}" not in names:  # a coder who labelled nothing is not listed
                assert not shared.any()
                continue
            i, j = names.index(f"c{a}"), names.index(f"c{b}")
            assert rep["pairwise"]["shared_units"][i][j] == shared.sum()
            if not shared.any():
                assert got[i][j] is None
                continue
            expected = cohen_kappa_score(matrix[a, shared, k], matrix[b, shared, k])
            assert (got[i][j] is None) if not np.isfinite(expected) else got[i][j] == pytest.approx(expected, abs=1e-9)
        defined = [got[i][j] for i, j in itertools.combinations(range(len(names)), 2) if got[i][j] is not None]
        mean = rep["categories"][k]["cohen_kappa"]
        assert (mean is None) if not defined else mean == pytest.approx(np.mean(defined))


def test_ac1_hand_computed_example():
    # 3 raters, 5 units; unit 4 has one rating (it counts for pi only, Gwet 2014 with missing data)
    matrix = np.array([
        [[1], [0], [1], [-1], [0]],
        [[1], [0], [0], [1], [-1]],
        [[1], [-1], [0], [-1], [0]],
    ])
    rep = compute_agreement(records_from(matrix, IDS[:1]), TAX, bootstrap=0)
    cat = rep["categories"][0]
    # pa = (1 + 1 + 1/3 + 1) / 4 = 5/6; pi = (1 + 0 + 1/3 + 1 + 0) / 5 = 7/15; pe = 2 pi (1 - pi) = 112/225
    assert cat["observed_agreement"] == pytest.approx(5 / 6)
    assert cat["ac1"] == pytest.approx((5 / 6 - 112 / 225) / (1 - 112 / 225))
    assert cat["ac1"] == pytest.approx(151 / 226)


def test_prevalence_paradox_and_undefined_category():
    # category 0: raters agree on 18 of 20 units that it is absent: high AC1, low alpha/kappa
    matrix = np.zeros((2, 20, 2), dtype=int)
    matrix[0, 0, 0] = 1
    matrix[1, 1, 0] = 1
    rep = compute_agreement(records_from(matrix, IDS[:2]), TAX, bootstrap=200)
    rare, never = rep["categories"][0], rep["categories"][1]
    assert rare["observed_agreement"] == pytest.approx(0.9)
    assert rare["alpha"] < 0 and rare["cohen_kappa"] < 0 and rare["ac1"] > 0.85
    assert never["alpha"] is None and never["cohen_kappa"] is None and never["fleiss_kappa"] is None
    assert never["ac1"] == 1.0
    assert any(w.startswith(f"no variation in {IDS[1]}, ") for w in rep["warnings"])


# --- bootstrap ---------------------------------------------------------------------------

@REFERENCE_WARNINGS
def test_bootstrap_resamples_units_and_is_seeded():
    matrix = binary_data(3, 60, 1, seed=4, p_missing=0.2)
    records = records_from(matrix, IDS[:1])
    rep = compute_agreement(records, TAX, bootstrap=300, seed=11)
    again = compute_agreement(records, TAX, bootstrap=300, seed=11)
    other = compute_agreement(records, TAX, bootstrap=300, seed=12)
    assert rep["categories"][0]["alpha_ci"] == again["categories"][0]["alpha_ci"]
    assert rep["categories"][0]["alpha_ci"] != other["categories"][0]["alpha_ci"]
    # the same resamples, drawn and evaluated naively, one replicate at a time
    rated = (matrix[:, :, 0] >= 0).any(0)
    units = np.flatnonzero(rated)
    idx = np.random.default_rng(11).integers(0, len(units), size=(300, len(units)), dtype=np.uint32)
    naive = []
    for row in idx:
        data = reliability(matrix, 0)[:, units[row]]
        try:
            naive.append(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
        except ValueError:
            naive.append(np.nan)
    lo, hi = np.nanpercentile(naive, [2.5, 97.5])
    assert rep["categories"][0]["alpha_ci"] == pytest.approx([lo, hi], abs=1e-4)
    assert lo <= rep["categories"][0]["alpha"] <= hi


def test_no_bootstrap_gives_no_intervals():
    rep = compute_agreement(records_from(binary_data(3, 20, 2, seed=1), IDS[:2]), TAX, bootstrap=0)
    assert rep["categories"][0]["alpha_ci"] is None and rep["overall"]["mean"]["ac1_ci"] is None


# --- label sets ---------------------------------------------------------------------------

def test_label_set_alphas():
    same = [{"annotator": a, "labels": ["loaded_language", "doubt"]} for a in ("x", "y")]
    differ = [{"annotator": "x", "labels": ["loaded_language"]}, {"annotator": "y", "labels": ["loaded_language", "doubt"]}]
    none = [{"annotator": a, "labels": []} for a in ("x", "y")]
    recs = [{"id": i, "doc_id": "d", "text": "t", "labels": [], "annotations": anns}
            for i, anns in enumerate([same, differ, none, same])]
    rep = compute_agreement(recs, TAX, bootstrap=0)
    o = rep["overall"]
    # values: A = {ll, doubt} x5, B = {ll} x1, C = {} x2; n = 8; one unit disagrees (A vs B)
    assert o["distinct_label_sets"] == 3
    # nominal: Do = 2 ordered pairs / 8, De = (64 - 25 - 1 - 4) / 56
    assert o["alpha_label_sets"] == pytest.approx(1 - (2 / 8) / (34 / 56))
    # MASI: d(A, B) = 1 - (1/2)(2/3) = 2/3, d(A, C) = d(B, C) = 1
    de = 2 * (5 * 1 * 2 / 3 + 5 * 2 + 1 * 2) / 56
    assert o["alpha_masi"] == pytest.approx(1 - (2 * (2 / 3) / 8) / de)
    assert o["alpha_masi"] > o["alpha_label_sets"]  # partial credit for the subset


# --- the helpers, directly ---------------------------------------------------------------

def test_json_number_and_nanmean():
    assert json_number(None) is None and json_number(float("nan")) is None and json_number(np.inf) is None
    assert json_number(np.float32(0.5)) == 0.5 and type(json_number(np.int64(2))) is float
    assert nanmean(np.array([np.nan, np.nan])) != nanmean(np.array([np.nan, np.nan]))  # NaN, without a warning
    assert nanmean(np.array([1.0, np.nan, 3.0])) == 2.0


def test_unit_counts_and_binary_coefficients_of_perfect_agreement():
    r = SimpleNamespace(unit=np.array([0, 0, 1, 1]), n_units=2, Y=np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=bool))
    m, K1 = unit_counts(r)
    assert m.tolist() == [2, 2] and K1.tolist() == [[2, 0], [0, 2]]
    coef = binary_coefficients(unit_stats(m, K1).sum(0), 2)
    assert coef["alpha"][0].tolist() == [1.0, 1.0] and coef["observed_agreement"][0].tolist() == [1.0, 1.0]


def test_percentile_ci_drops_nan_replicates():
    reps = np.column_stack([np.arange(101, dtype=float), np.r_[np.full(100, np.nan), 1.0]])
    lo, hi, dropped = percentile_ci(reps, 0.9)
    assert lo[0] == pytest.approx(5) and hi[0] == pytest.approx(95) and lo[1] == hi[1] == 1.0 and dropped.tolist() == [0, 100]


def test_bootstrap_sums_are_seeded_and_keep_the_total_weight():
    stats = np.arange(12, dtype=float).reshape(6, 2)
    a, b = bootstrap_sums(stats, 5, seed=3), bootstrap_sums(stats, 5, seed=3)
    assert a.shape == (5, 2) and np.array_equal(a, b)
    ones = bootstrap_sums(np.ones((6, 1)), 4, seed=0)
    assert np.allclose(ones, 6)  # every resample draws 6 units
