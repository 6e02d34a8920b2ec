"""slant.measure.core: rows per category x group x method, small groups marked, differences,
the JSON report valid against schemas/measure.schema.json."""

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from slant._files import schema
from slant.errors import InputError
from slant.measure.core import measure, measure_files
from slant.measure.corpus import read_corpus
from slant.measure.data import audit_from_arrays
from slant.measure.methods import methods_paragraph


def _valid(report):
    Draft202012Validator(schema("measure")).validate(report)


def _rows(report, method, **group):
    return [r for r in report["estimates"] if r["method"] == method and r["group"] == group]


def test_report_rows_and_schema(population, corpus_dir, uniform_audit):
    report = measure_files(corpus_dir, uniform_audit, by=["outlet"])
    _valid(report)
    assert report["audit"]["design"] == "uniform" and report["audit"]["sentences"] == 400
    assert report["corpus"]["sentences"] == population.n
    # 2 categories x (overall + 3 outlets) x 3 methods
    assert len(report["estimates"]) == 2 * 4 * 3
    for c in ("loaded_language", "attribution_vague"):
        for outlet in ("Gazette", "Courier", "Ledger"):
            mask = population.outlet == outlet
            (ppi,) = [r for r in _rows(report, "ppi", outlet=outlet) if r["category"] == c]
            (naive,) = [r for r in _rows(report, "naive", outlet=outlet) if r["category"] == c]
            assert ppi["n_corpus"] == mask.sum() == naive["n_corpus"]
            assert naive["estimate"] == pytest.approx(population.labels[c][mask].mean(), abs=1e-6)
            assert ppi["ci_low"] < ppi["estimate"] < ppi["ci_high"]
            assert ppi["ess"] > 0 and 0 <= ppi["lam"] <= 1 and ppi["gain"] == pytest.approx(ppi["ess"] / ppi["n_audit"], abs=1e-3)
    # 3 outlets: 3 pairs x 2 methods per category
    assert len(report["differences"]) == 2 * 3 * 2
    assert report["methods"]["model_versions"] == ["test-model-1"]


def test_stratified_audit_covers_overall_truth(population, corpus_dir, tmp_path):
    """Equal numbers per outlet (unequal p): the overall rate is the weighted one, not the sample mean."""
    rng = np.random.default_rng(2)
    rows, p, strata = [], [], []
    for outlet in ("Gazette", "Courier", "Ledger"):
        members = np.flatnonzero(population.outlet == outlet)
        take = rng.choice(members, 150, replace=False)
        rows += list(take)
        p += [150 / len(members)] * 150
        strata += [outlet] * 150
    report = measure_files(corpus_dir, population.audit(tmp_path / "s.jsonl", rows, p, strata), by=["outlet"])
    _valid(report)
    assert report["audit"]["design"] == "stratified"
    assert [s["n"] for s in report["audit"]["strata"]] == [150, 150, 150]
    text = methods_paragraph(report)
    assert "stratified random sample of 450 sentences" in text and "inverse of each sentence's inclusion" in text
    assert "Hajek" in text
    for c in ("loaded_language", "attribution_vague"):
        (ppi,) = [r for r in _rows(report, "ppi") if r["category"] == c]
        (classical,) = [r for r in _rows(report, "classical") if r["category"] == c]
        truth = population.true_rate(c)
        assert ppi["ci_low"] <= truth <= ppi["ci_high"]
        assert classical["ci_low"] <= truth <= classical["ci_high"]
        # the unweighted audit mean is pulled towards the small outlets; the estimate is not
        assert abs(ppi["estimate"] - truth) < abs(population.truth[c][rows].mean() - truth) + 0.01


def test_small_group_is_reported_with_a_warning(population, corpus_dir, tmp_path):
    ledger = np.flatnonzero(population.outlet == "Ledger")[:6]
    others = np.flatnonzero(population.outlet != "Ledger")[:200]
    rows = list(others) + list(ledger)
    report = measure_files(corpus_dir, population.audit(tmp_path / "a.jsonl", rows, 0.07), by=["outlet"])
    _valid(report)
    (row,) = [r for r in _rows(report, "ppi", outlet="Ledger") if r["category"] == "loaded_language"]
    assert row["n_audit"] == 6 and "fewer than 10" in row["warning"]


def test_group_without_audit_gets_no_interval(population, jsonl_corpus):
    corpus_rows = np.flatnonzero(population.outlet != "Ledger")[:100]
    corpus = jsonl_corpus
    audit = audit_from_arrays(corpus_rows, {c: population.truth[c][corpus_rows] for c in population.truth},
                              np.full(100, 0.05), np.full(100, "", dtype=object))
    report = measure(corpus, audit, by=["outlet"])
    _valid(report)
    (row,) = [r for r in _rows(report, "ppi", outlet="Ledger") if r["category"] == "loaded_language"]
    assert row["estimate"] is None and row["n_audit"] == 0 and "no interval" in row["warning"]
    assert all(d["estimate"] is None for d in report["differences"] if {"outlet": "Ledger"} in (d["group_a"], d["group_b"]))


@pytest.fixture(scope="module")
def jsonl_corpus(population, tmp_path_factory):
    return read_corpus(population.write_jsonl(tmp_path_factory.mktemp("jsonl") / "p.jsonl"), by=["outlet", "date"])


def test_two_fields_and_months(population, jsonl_corpus):
    corpus = jsonl_corpus
    rows = np.random.default_rng(1).choice(population.n, 600, replace=False)
    audit = audit_from_arrays(rows, {c: population.truth[c][rows] for c in population.truth},
                              np.full(600, 600 / population.n), np.full(600, "", dtype=object))
    report = measure(corpus, audit, by=["outlet", "date"], categories=["attribution_vague"])
    _valid(report)
    groups = {tuple(r["group"].items()) for r in report["estimates"] if r["group"]}
    assert len(groups) == 9 and (("outlet", "Gazette"), ("date", "2024-02")) in groups
    assert {r["category"] for r in report["estimates"]} == {"attribution_vague"}


def test_unknown_category(corpus_dir, uniform_audit):
    with pytest.raises(InputError, match=r"--category propaganda: not a category of the predictions; "
                                         r"categories there: loaded_language, attribution_vague"):
        measure_files(corpus_dir, uniform_audit, categories=["propaganda"])


def test_agreement_of_coders_goes_into_methods(population, corpus_dir, tmp_path):
    rows = np.random.default_rng(4).choice(population.n, 120, replace=False)
    path = population.audit(tmp_path / "a.jsonl", rows, 120 / population.n, coders=2)
    report = measure_files(corpus_dir, path)
    _valid(report)
    m = report["methods"]
    assert m["coders"] == 2 and m["multiply_coded"] == 120
    assert m["agreement"]["units"] == 120
    assert -1 <= m["agreement"]["categories"]["loaded_language"]["cohen_kappa"] < 1
    assert m["taxonomy"] == ["rhetoric 1.0.0"]
    text = methods_paragraph(report)
    assert "2 coders made 240 annotations; 120 audited sentences were coded by two or more of them" in text
    assert "loaded_language: Cohen's kappa" in text and "Krippendorff's alpha" in text


def test_lone_stratum_is_noted(population, jsonl_corpus):
    rows = np.arange(30)
    audit = audit_from_arrays(rows, {c: population.truth[c][rows] for c in population.truth},
                              [0.01] * 29 + [0.5], ["big"] * 29 + ["tiny"])
    report = measure(jsonl_corpus, audit)
    _valid(report)
    assert any("strata with a single audited sentence: 'tiny'" in n for n in report["notes"])
