"""Span agreement and the model as an annotator (slant.agreement.spans)."""

from types import SimpleNamespace

import krippendorff
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.agreement import HYP, TAX, rec
from slant.agreement.core import compute_agreement, span_agreement
from slant.agreement.spans import model_agreement, pairwise_span_f1


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


def test_model_as_annotator_per_version():
    ll = "loaded_language"
    recs = [rec(0, [("x", [ll]), ("y", [ll])], [ll], [ll], "m1"),
            rec(1, [("x", []), ("y", [])], [], [ll], "m1"),
            rec(2, [("x", [ll]), ("y", [])], [ll], [], "m2"),
            rec(3, [("x", []), ("y", [])], [], [], "m2"),
            rec(4, [("x", []), ("y", [])], [], None)]
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
    pairs = [rec(r["id"], [("model", r["prediction"]["labels"]), ("adjudicated", r["labels"])], [])
             for r in recs if r["prediction"]]
    as_coders = compute_agreement(pairs, TAX, bootstrap=0)["categories"][0]
    for key in ("alpha", "ac1", "cohen_kappa", "observed_agreement"):
        assert allc[key] == pytest.approx(as_coders[key])


def test_pairwise_span_f1_directly():
    # one unit, two annotators (rows 0 and 1), span category 0: one exact match, one overlap only
    r = SimpleNamespace(unit=np.array([0, 0]), n_units=1, spans={0: [(0, 0, 5), (0, 10, 20)], 1: [(0, 0, 5), (0, 12, 18)]})
    table = pairwise_span_f1(r, ["quote"])
    assert table["categories"] == [{"id": "quote", "pairs": 1, "regions": 4, "exact_f1": 0.5, "overlap_f1": 1.0}]
    assert table["overall"] == {"pairs": 1, "regions": 4, "exact_f1": 0.5, "overlap_f1": 1.0}


def test_model_agreement_directly():
    P = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=bool)
    A = np.array([[1, 0], [0, 1], [1, 0], [0, 0]], dtype=bool)
    assert model_agreement(P, A, [None] * 4, ["a", "b"], {}) is None
    out = model_agreement(P, A, ["m1", "m1", "m2", None], ["a", "b"], {"a": 0.5})
    assert out["units"] == 3 and [v["model_version"] for v in out["versions"]] == ["m1", "m2"]
    cats = {c["id"]: c for c in out["all"]["categories"]}
    assert cats["a"]["f1"] == 1.0 and cats["a"]["human_alpha"] == 0.5 and cats["b"]["precision"] == 0.5


def test_model_as_annotator_compares_only_annotated_units():
    """Tasks nobody annotated (pulled with annotations: []) are no gold 'none of the
    categories': the model is not scored on them, nor do they dilute prevalence."""
    ll = "loaded_language"
    annotated = [rec(0, [("x", [ll]), ("y", [ll])], [ll], [ll], "m1"),
                 rec(1, [("x", []), ("y", [])], [], [ll], "m1"),
                 rec(2, [("x", [ll]), ("y", [ll])], [ll], [ll], "m1")]
    nobody = [{**rec(10 + i, [], [], [ll], "m1"), "adjudicated": False} for i in range(6)]
    alone = compute_agreement(annotated, TAX, bootstrap=0)
    rep = compute_agreement(annotated + nobody, TAX, bootstrap=0, by="doc_id")
    assert rep["model"]["units"] == 3
    assert rep["model"]["all"]["categories"][0]["precision"] == pytest.approx(2 / 3)
    assert rep["model"] == alone["model"]
    assert rep["categories"][0]["prevalence_adjudicated"] == pytest.approx(2 / 3)
    assert rep["groups"]["values"][0]["categories"][0]["prevalence_adjudicated"] == pytest.approx(2 / 3)
