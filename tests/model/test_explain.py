"""Explanation spans (slant.model.explain through SlantClassifier.explain): exact offsets,
the words that drove a label, token contributions that add up to the n-gram score."""

import numpy as np
import pytest

from slant.errors import DataError


def test_explain_offsets_exact_and_labels_predicted(clf, explain_texts):
    Y = clf.predict(explain_texts)
    for text, spans, row in zip(explain_texts, clf.explain(explain_texts), Y):
        predicted = {c for c, on in zip(clf.classes_, row) if on}
        assert {s["label"] for s in spans} <= predicted
        for s in spans:
            assert text[s["start"]:s["end"]] == s["text"]
            assert set(s) == {"start", "end", "label", "text", "weight", "cue"}
        for label in predicted:
            weights = [s["weight"] for s in spans if s["label"] == label]
            assert 1 <= len(weights) <= clf.max_spans
            assert weights == sorted(weights, reverse=True)


def test_token_contributions_add_up_to_the_ngram_score(clf, explain_texts):
    scorer = clf._get_scorer()
    batch = scorer.score(explain_texts)
    C, start = scorer.token_contributions(batch, [0, 2, 3])
    for r, i in enumerate([0, 2, 3]):
        ngram_part = batch.scores[i] - batch.Xq[i] @ scorer.cue_coef.T - clf.intercept_
        assert start[r + 1] - start[r] == len(batch.words[i])
        assert np.allclose(C[start[r]:start[r + 1]].sum(axis=0), ngram_part)


def test_explain_finds_the_driving_words(clf, explain_texts):
    spans = clf.explain(explain_texts[:1])[0]
    assert spans[0]["label"] == "loaded_language"
    assert any("slashed" in s["text"] or "shameful" in s["text"] for s in spans)


def test_explain_given_labels_and_unknown_label(clf):
    (spans,) = clf.explain(["The school board met on Tuesday."], labels=[["attribution_vague"]])
    assert all(s["label"] == "attribution_vague" for s in spans)
    with pytest.raises(DataError, match=r"cannot explain 'nope': not a class of this model; known: loaded_language"):
        clf.explain(["x"], labels=[["nope"]])
