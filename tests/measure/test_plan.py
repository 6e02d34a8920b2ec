"""slant.measure.plan: audit sizes from the PPI variance with the measured residual variance."""

import numpy as np
import pytest

from slant.errors import InputError
from slant.measure.corpus import read_corpus
from slant.measure.data import audit_from_arrays, read_audit
from slant.measure.estimate import ppi_uniform
from slant.measure.plan import plan, render_plan


def test_plan_sizes(population, corpus_dir, uniform_audit):
    corpus = read_corpus(corpus_dir, by=["outlet"])
    audit = read_audit(uniform_audit, corpus, every_record=True)
    wide = plan(corpus, audit, width=0.08)
    narrow = plan(corpus, audit, width=0.04, by=["outlet"])
    overall = [r for r in narrow["rows"] if not r["group"]]
    assert len(overall) == len(wide["rows"]) == 2
    for w, n in zip(wide["rows"], overall):
        # half the width needs 4x the audit, and more: the corpus term's share of the variance grows
        assert 4 * (w["n_ppi"] - 1) <= n["n_ppi"] < 6 * w["n_ppi"]
        assert n["n_classical"] == pytest.approx(4 * w["n_classical"], abs=4)
        assert n["n_ppi"] < n["n_classical"]                      # a useful model needs fewer sentences
    assert {tuple(r["group"].items()) for r in narrow["rows"]} >= {(("outlet", "Ledger"),)}
    text = render_plan(narrow)
    assert "Assumptions:" in text and "uniform random sample" in text and "pessimistic" in text


def test_plan_predicts_the_width_it_promises(population, corpus_dir, uniform_audit):
    """Draw audits of the planned size: their PPI intervals come out about the width asked for."""
    corpus = read_corpus(corpus_dir)
    need = plan(corpus, read_audit(uniform_audit, corpus, every_record=True), width=0.06,
                categories=["loaded_language"])["rows"][0]["n_ppi"]
    rng = np.random.default_rng(9)
    widths = []
    for _ in range(20):
        rows = rng.choice(population.n, need, replace=False)
        y = population.truth["loaded_language"][rows]
        widths.append(ppi_uniform(y, corpus.scores["loaded_language"][rows], corpus.scores["loaded_language"], 0.95).width)
    assert np.mean(widths) == pytest.approx(0.06, rel=0.15)


def test_plan_bad_width(population, corpus_dir):
    corpus = read_corpus(corpus_dir)
    audit = audit_from_arrays([1, 2, 3], {c: np.zeros(3) for c in corpus.categories}, [0.1] * 3, [""] * 3)
    with pytest.raises(InputError, match="--width 4: the full width of the interval as a share"):
        plan(corpus, audit, width=4)
