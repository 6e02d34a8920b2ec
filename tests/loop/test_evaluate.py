"""slant.loop.evaluate: scores from matrices, a model scored on reviewed sentences,
cross-validation and the rendered report."""

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from slant.errors import DataError, ModelError
from slant.loop.evaluate import cross_validate, evaluate_model, render_evaluation, scores_from_matrices
from slant.model.fit import train_model


def test_scores_from_matrices_by_hand():
    ids = ["a", "b", "c"]
    gold = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=bool)
    pred = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]], dtype=bool)
    s = scores_from_matrices(ids, gold, pred, combine=["a+b"])
    assert s["categories"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "predicted": 2, "kappa": 0.0}
    assert s["categories"]["b"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2, "predicted": 2, "kappa": 1.0}
    assert s["categories"]["c"]["support"] == 0  # no positives: left out of the macro average
    assert s["macro"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75}
    assert s["micro"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75}
    # any of a, b: sentences 0-2 are positive and predicted, sentence 3 is a false positive
    assert s["combined"]["a+b"] == {"precision": 0.75, "recall": 1.0, "f1": 0.8571, "support": 3, "predicted": 4}
    rng = np.random.default_rng(0)
    g, q = rng.random((200, 3)) < 0.3, rng.random((200, 3)) < 0.4
    for j, cid in enumerate(ids):  # kappa as scikit-learn computes it
        kappa = scores_from_matrices(ids, g, q)["categories"][cid]["kappa"]
        assert kappa == pytest.approx(cohen_kappa_score(g[:, j], q[:, j]), abs=1e-4)
    with pytest.raises(DataError, match=r"--combine 'a\+x': 'x' is not a category id"):
        scores_from_matrices(ids, gold, pred, combine=["a+x"])


@pytest.fixture(scope="module")
def small(tax, reviewed):
    records = reviewed(n_docs=6, per_doc=10, seed=31)
    return records, train_model(records[:40], taxonomy=tax, cv=2)


def test_evaluate_model_on_reviewed_sentences(small, tax):
    records, model = small
    report = evaluate_model(model, records[40:], files=["gold.jsonl"])
    assert report["method"] == "holdout" and report["model_version"] == model.model_version
    assert report["data"]["sentences"] == 20 and report["data"]["files"] == ["gold.jsonl"]
    assert set(report["categories"]) == set(tax.ids)
    support = sum(c["support"] for c in report["categories"].values())
    assert support == sum(len(r["labels"]) for r in records[40:])
    assert json.loads(render_evaluation(report, "json")) == report
    table = render_evaluation(report)
    assert "(macro average)" in table and tax.ids[0] in table


def test_cross_validate_and_its_errors(small, tax):
    records, _ = small
    report = cross_validate(records, taxonomy=tax, cv=2, inner_cv=2)
    assert report["folds"] == 2 and report["base"] == "none" and report["data"]["documents"] == 6
    with pytest.raises(ModelError, match=r"base 'other' is not known; use 'seed' or 'none'"):
        cross_validate(records, taxonomy=tax, base="other")
    with pytest.raises(DataError, match="cross-validation needs at least 2 documents"):
        cross_validate([{**r, "doc_id": "one"} for r in records], taxonomy=tax, cv=2)


def test_span_scores_count_characters_end_to_end(tmp_path):
    from slant.loop.evaluate import span_scores
    from slant.taxonomy.core import load_taxonomy

    tax = load_taxonomy()
    gold = [[{"start": 0, "end": 6, "label": "loaded_language"}], [{"start": 4, "end": 8, "label": "name_calling"}], []]
    pred = [[{"start": 3, "end": 9, "label": "loaded_language"}], [], [{"start": 0, "end": 2, "label": "loaded_language"}]]
    s = span_scores(pred, gold, tax)
    # loaded_language: 3 characters overlap, 6 + 2 predicted, 6 marked; name_calling: 4 marked, none predicted
    assert s["loaded_language"] == {"precision": 0.375, "recall": 0.5, "f1": 0.4286, "gold_chars": 6}
    assert s["name_calling"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "gold_chars": 4}
