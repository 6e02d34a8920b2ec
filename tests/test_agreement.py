import itertools
import json

import krippendorff
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

from slant.agreement.core import agreement_from_file, compute_agreement, krippendorff_alpha, span_agreement
from slant.errors import DataError, InputError
from slant.taxonomy.core import Category, Taxonomy, load_taxonomy

TAX = load_taxonomy()
IDS = list(TAX.sentence_ids)
REFERENCE_WARNINGS = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")
HYP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, values 1-5, None = missing. Nominal alpha = 0.743.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _tiny_taxonomy(ids, level="sentence"):
    cats = tuple(Category(id=c, name=c.title(), group="g", description=c, level=level) for c in ids)
    return Taxonomy(id="tiny", version="1.0.0", title="tiny", groups=({"id": "g", "name": "G"},), categories=cats)


def records_from(matrix, ids=IDS, coders=None):
    """Records from a coders x units x categories array of 0/1 (-1 = the coder skipped the unit)."""
    matrix = np.asarray(matrix)
    coders = coders or [f"c{i}" for i in range(matrix.shape[0])]
    out = []
    for u in range(matrix.shape[1]):
        anns = [{"annotator": coders[c], "labels": [ids[k] for k in np.flatnonzero(matrix[c, u] == 1)]}
                for c in range(matrix.shape[0]) if matrix[c, u, 0] >= 0]
        out.append({"id": f"s{u}", "doc_id": "d", "text": "A sentence.", "labels": [], "annotations": anns})
    return out


def binary_data(n_coders, n_units, n_cats, seed, p_missing=0.3, min_per_unit=0):
    rng = np.random.default_rng(seed)
    truth = rng.random((n_units, n_cats)) < rng.uniform(0.1, 0.6, n_cats)
    data = (truth[None] ^ (rng.random((n_coders, n_units, n_cats)) < 0.25)).astype(int)
    missing = rng.random((n_coders, n_units)) < p_missing
    if min_per_unit:
        for u in range(n_units):  # keep exactly min_per_unit coders on every unit
            keep = rng.choice(n_coders, min_per_unit, replace=False)
            missing[:, u] = True
            missing[keep, u] = False
    data[missing] = -1
    return data


def reliability(matrix, k):
    out = matrix[:, :, k].astype(float)
    out[out < 0] = np.nan
    return out


# --- Krippendorff's alpha --------------------------------------------------------------

def test_krippendorff_worked_example():
    data = np.array([[np.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011])
    assert round(krippendorff_alpha(data), 3) == 0.743
    # the same table through records: each value is one label, so the label-set alpha is the nominal alpha
    tax = _tiny_taxonomy([f"v{v}" for v in range(1, 6)])
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


# --- label sets, spans ---------------------------------------------------------------------

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


def test_span_f1_exact_and_overlap():
    a, b = [(0, 5), (10, 20)], [(0, 5), (12, 25), (30, 31)]
    assert span_agreement(a, b) == (1, 2, 5)
    # greedy in listed order would match (0, 10)-(5, 6) and miss the second pair
    assert span_agreement([(0, 10), (5, 6)], [(5, 6), (8, 12)])[1] == 2


@HYP
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8)), max_size=6),
       st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8)), max_size=6), st.randoms())
def test_span_f1_is_order_independent(a, b, rnd):
    a = [(s, s + n) for s, n in a]
    b = [(s, s + n) for s, n in b]
    expected = span_agreement(a, b)
    a2, b2 = a[:], b[:]
    rnd.shuffle(a2)
    rnd.shuffle(b2)
    assert span_agreement(a2, b2) == expected
    assert span_agreement(b2, a2) == expected
    assert expected[0] <= expected[1] <= min(len(a), len(b))


def test_span_table_in_report():
    def ann(who, spans):
        return {"annotator": who, "labels": [], "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]}
    recs = [
        {"id": 1, "doc_id": "d", "text": "t", "labels": [], "annotations": [
            ann("x", [(0, 5, "loaded_language"), (10, 20, "Name calling")]),
            ann("y", [(0, 5, "loaded_language"), (12, 20, "name_calling")]),
            ann("z", [])]},
        {"id": 2, "doc_id": "d", "text": "t", "labels": [], "annotations": [ann("x", []), ann("y", [])]},
    ]
    rep = compute_agreement(recs, TAX, bootstrap=0)
    cats = {c["id"]: c for c in rep["spans"]["categories"]}
    # loaded_language: x-y exact (2 regions, 1 match), x-z and y-z none (1 region each)
    assert cats["loaded_language"]["regions"] == 4 and cats["loaded_language"]["exact_f1"] == pytest.approx(0.5)
    assert cats["name_calling"]["exact_f1"] == 0 and cats["name_calling"]["overlap_f1"] == pytest.approx(0.5)
    assert cats["doubt" if "doubt" in cats else "scare_quotes"]["exact_f1"] is None


# --- model, annotators, groups ----------------------------------------------------------

def _rec(i, anns, labels, pred=None, version="m1", **data):
    return {"id": i, "doc_id": "d", "text": "t", "labels": labels, "data": data,
            "annotations": [{"annotator": a, "labels": lab} for a, lab in anns],
            "prediction": None if pred is None else {"labels": pred, "scores": {}, "model_version": version}}


def test_model_as_annotator_per_version():
    ll = "loaded_language"
    recs = [_rec(0, [("x", [ll]), ("y", [ll])], [ll], [ll], "m1"),
            _rec(1, [("x", []), ("y", [])], [], [ll], "m1"),
            _rec(2, [("x", [ll]), ("y", [])], [ll], [], "m2"),
            _rec(3, [("x", []), ("y", [])], [], [], "m2"),
            _rec(4, [("x", []), ("y", [])], [], None)]
    rep = compute_agreement(recs, TAX, bootstrap=0)
    m = rep["model"]
    assert m["units"] == 4 and [v["model_version"] for v in m["versions"]] == ["m1", "m2"]
    allc = m["all"]["categories"][0]
    assert allc["precision"] == 0.5 and allc["recall"] == 0.5 and allc["observed_agreement"] == 0.5
    assert allc["human_alpha"] == rep["categories"][0]["alpha"]
    # two coders, no missing values: alpha equals krippendorff's on the pair
    expected = krippendorff.alpha(reliability_data=[[1, 1, 0, 0], [1, 0, 1, 0]], level_of_measurement="nominal")
    assert allc["alpha"] == pytest.approx(expected)
    assert m["versions"][0]["categories"][0]["recall"] == 1.0
    # the same figures as treating model and adjudication as two annotators
    pairs = [_rec(r["id"], [("model", r["prediction"]["labels"]), ("adjudicated", r["labels"])], [])
             for r in recs if r["prediction"]]
    as_coders = compute_agreement(pairs, TAX, bootstrap=0)["categories"][0]
    for key in ("alpha", "ac1", "cohen_kappa", "observed_agreement"):
        assert allc[key] == pytest.approx(as_coders[key])


def test_annotators_leave_one_out_majority():
    ll = "loaded_language"
    recs = [_rec(0, [("x", [ll]), ("y", [ll]), ("z", [])], []),
            _rec(1, [("x", [ll]), ("y", []), ("z", [])], []),
            _rec(2, [("x", []), ("y", [])], [])]
    rep = compute_agreement(recs, TAX, bootstrap=0)
    by = {a["annotator"]: a for a in rep["annotators"]}
    assert by["x"]["tasks"] == 3 and by["z"]["tasks"] == 2
    # z on unit 0: others x, y both say yes -> z disagrees on that cell; unit 1: others split -> no decision
    n_cat = len(IDS)
    assert by["z"]["decisions"] == 2 * n_cat - 1
    assert by["z"]["agreement_with_majority"] == pytest.approx((2 * n_cat - 2) / (2 * n_cat - 1))


def test_by_field_repeats_the_table(tmp_path):
    matrix = binary_data(3, 40, 3, seed=5, p_missing=0.2)
    recs = records_from(matrix, IDS[:3])
    for i, r in enumerate(recs):
        r["data"] = {"outlet": "north" if i % 2 else "south"}
    rep = compute_agreement(recs, TAX, by="outlet", bootstrap=100)
    values = {v["value"]: v for v in rep["groups"]["values"]}
    assert set(values) == {"north", "south"}
    alone = compute_agreement([r for r in recs if r["data"]["outlet"] == "north"], TAX, bootstrap=100)
    for got, want in zip(values["north"]["categories"], alone["categories"]):
        assert got["alpha"] == pytest.approx(want["alpha"]) and got["ac1_ci"] == pytest.approx(want["ac1_ci"])
    with pytest.raises(DataError, match=r"--by region: no record has a data field 'region'"):
        compute_agreement(recs, TAX, by="region", bootstrap=0)


def test_names_and_migrated_ids_are_accepted():
    recs = [_rec(0, [("x", ["Loaded language"]), ("y", ["loaded_language"])], ["loaded_language"])]
    rep = compute_agreement(recs, TAX, bootstrap=0)
    assert rep["categories"][0]["observed_agreement"] == 1.0


def test_repeated_annotator_uses_last_annotation():
    recs = [_rec(0, [("x", ["doubt"]), ("x", []), ("y", [])], [])]
    rep = compute_agreement(recs, TAX, bootstrap=0)
    assert rep["summary"]["annotations"] == 2
    assert any("repeated annotations" in w for w in rep["warnings"])


# --- bad input ---------------------------------------------------------------------------

def _write(tmp_path, lines, name="reviewed.jsonl"):
    path = tmp_path / name
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


GOOD = _rec(0, [("x", ["doubt"]), ("y", [])], [])


def _bad(**changes):
    return {"id": "bad", "doc_id": "d", "text": "t", "labels": [], **changes}


MALFORMED = [  # (record, message from the file reader (file:line), message for records in memory)
    (_bad(annotations=[{"labels": []}]), r"reviewed.jsonl:2: annotations\[0\]: 'annotator' is a required property",
     r"record 2: annotations\[0\] needs 'annotator' and 'labels'"),
    (_bad(annotations=[{"annotator": "x", "labels": "doubt"}]), r"reviewed.jsonl:2: annotations\[0\].labels: 'doubt' is not",
     r"record 2: annotations\[0\].labels must be a list of category ids, not str"),
    (_bad(annotations={"x": []}), r"reviewed.jsonl:2: annotations: .* is not of type 'array'",
     r"record 2: 'annotations' must be a list"),
    (_bad(annotations=[{"annotator": "x", "labels": [], "spans": [{"start": "0", "end": 3, "label": "doubt"}]}]),
     r"reviewed.jsonl:2: annotations\[0\].spans\[0\].start: '0' is not of type 'integer'",
     r"record 2: annotations\[0\].spans entries need integer 'start', 'end'"),
    (_bad(prediction=["doubt"]), r"reviewed.jsonl:2: prediction: \['doubt'\] is not of type",
     r"record 2: 'prediction' must be an object"),
]


@pytest.mark.parametrize("record, file_message, memory_message", MALFORMED,
                         ids=["no-annotator", "labels-not-list", "annotations-not-list", "bad-span", "bad-prediction"])
def test_malformed_records(tmp_path, record, file_message, memory_message):
    with pytest.raises(DataError, match=file_message):
        agreement_from_file(_write(tmp_path, [GOOD, record]), bootstrap=0)
    with pytest.raises(DataError, match=memory_message):
        compute_agreement([GOOD, record], TAX, bootstrap=0)


@pytest.mark.parametrize("lines, message", [
    ([], r"reviewed.jsonl: no records"),
    (["", "  "], r"reviewed.jsonl: no records"),
    ([GOOD, "{not json"], r"reviewed.jsonl:2: not valid JSON"),
    ([GOOD, "[1, 2]"], r"reviewed.jsonl:2: expected a JSON object"),
    ([_bad(id=1), _bad(id=2)], r"no record has annotations, so there are no units to compare; "
                               r"agreement needs at least two annotators per unit"),
    ([_rec(0, [("ann@x.org", ["doubt"])], []), _rec(1, [("ann@x.org", [])], [])],
     r"agreement needs at least two annotators per unit; only one annotator \(ann@x\.org\) labelled the 2 units"),
    ([_rec(0, [("x", ["doubt"])], []), _rec(1, [("y", [])], [])],
     r"agreement needs at least two annotators per unit; none of the 2 annotated units was labelled by two"),
    ([_rec(0, [("x", ["Propaganda"]), ("y", ["Propaganda", "Spin"])], ["Spin"])],
     r"labels unknown to taxonomy rhetoric 1.0.0: 'Propaganda' \(2\), 'Spin' \(2\); .*pass --taxonomy FILE"),
    ([dict(GOOD, taxonomy={"id": "news_frames", "version": "2.0.0"})],
     r"reviewed.jsonl: record 1: record was labelled with taxonomy 'news_frames', not 'rhetoric'; pass --taxonomy"),
], ids=["empty", "blank-lines", "bad-json", "not-object", "no-annotations", "one-annotator", "no-overlap",
        "unknown-labels", "other-taxonomy"])
def test_bad_input_messages(tmp_path, lines, message):
    with pytest.raises(DataError, match=message):
        agreement_from_file(_write(tmp_path, lines), bootstrap=0)


def test_record_not_an_object_in_memory():
    with pytest.raises(DataError, match=r"record 2: expected a JSON object \(a reviewed-label record\), got list"):
        compute_agreement([GOOD, [1, 2]], TAX, bootstrap=0)


def test_missing_file_and_bad_settings(tmp_path):
    with pytest.raises(InputError, match=r"nope.jsonl: no such file"):
        agreement_from_file(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match=r"records: no records"):
        compute_agreement([], TAX)
    with pytest.raises(InputError, match=r"bootstrap=-1: the number of replicates must be 0"):
        compute_agreement([GOOD], TAX, bootstrap=-1)
    with pytest.raises(InputError, match=r"confidence=95: must lie between 0 and 1"):
        compute_agreement([GOOD], TAX, confidence=95)
