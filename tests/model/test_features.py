"""NgramFeatures and its Scorer."""


import numpy as np
import pytest


def test_fast_scores_equal_feature_matrix_scores(clf, records):
    X = [r["text"] for r in records] + ["Odd  spacing\u2014and “quotes”, İstanbul’s 40% rise!", "", "—", "Slashed."]
    reference = np.asarray(clf.transform(X) @ clf.coef_.T) + clf.intercept_
    assert np.allclose(clf.decision_function(X), reference, atol=1e-10)
    assert clf.transform(X).shape[0] == len(X)


@pytest.mark.parametrize("params", [{}, {"min_df": 1}, {"max_char_features": 50}, {"min_df": 0.05, "char_weight": 0.5}],
                         ids=["default", "min_df-1", "max-features", "fractional-min_df"])
def test_ngram_fit_transform_equals_fit_then_transform(records, params):
    from slant.model.features import NgramFeatures

    X = [r["text"] for r in records] + ["Odd  spacing\u2014and “quotes”, 40% rise!", ""]
    one = NgramFeatures(**params).fit_transform(X)
    two_est = NgramFeatures(**params).fit(X)
    two = two_est.transform(X)
    assert one.shape == two.shape
    assert abs(one - two).max() < 1e-12
    assert two_est.vocabulary_ == NgramFeatures(**params).fit(X).vocabulary_


def test_scorer_word_cache_starts_over_at_its_limit(clf, monkeypatch, explain_texts):
    """The per-word cache is bounded by distinct new words (not tokens) and gives the same
    scores whether it is warm, cold or has just started over."""
    from slant.model import features

    texts = explain_texts * 3  # many tokens, few distinct words
    reference = clf._get_scorer().score(texts).scores
    n_distinct = len({w for ws in clf._get_scorer().score(texts).words for w in ws})
    monkeypatch.setattr(features, "_ROW_LIMIT", n_distinct + 2)
    clf._scorer = None
    scorer = clf._get_scorer()
    assert np.allclose(scorer.score(texts).scores, reference)
    assert len(scorer._rows) == n_distinct
    scorer.score([" ".join(["zebras"] * 60)])  # many tokens, one new word: no restart
    assert len(scorer._rows) == n_distinct + 1
    other = ["Officials unveiled a sweeping new transit budget yesterday."]
    scorer.score(other)  # more new words than the limit leaves room for: start over
    assert len(scorer._rows) == len({w for ws in scorer.score(other).words for w in ws})
    assert np.allclose(scorer.score(texts).scores, reference)
    clf._scorer = None


@pytest.mark.parametrize("kwargs", [{}, {"max_char_features": 400}, {"min_df": 1}, {"min_df": 0.02, "word_ngram_range": (1, 1)},
                                    {"char_weight": 0.5, "char_ngram_range": (3, 4)}],
                         ids=["default", "max-features", "min-df-1", "min-df-float", "char-options"])
def test_ngram_fit_transform_equals_fit_then_transform_on_odd_text(kwargs, reviewed):
    import numpy as np

    from slant.model.features import NgramFeatures

    texts = [r["text"] for r in reviewed(n_docs=6, per_doc=20, seed=9)] + [
        "İstanbul  TAB\there\nnew", "", "   ", "Ünïcödé “quotes” — dash 😀 so-called", "a b", "... !!!"]
    ref, fast = NgramFeatures(**kwargs), NgramFeatures(**kwargs)
    A = ref.fit(texts).transform(texts)
    B = fast.fit_transform(texts)
    assert ref.vocabulary_ == fast.vocabulary_ and ref.char_vocabulary_ == fast.char_vocabulary_
    np.testing.assert_allclose(ref.idf_, fast.idf_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ref.char_idf_, fast.char_idf_, rtol=0, atol=1e-12)
    assert A.shape == B.shape and abs(A - B).max() < 1e-12
    for bad in (NgramFeatures(min_df=5), NgramFeatures(min_df=2)):
        texts = ["one two", "three four"]
        with pytest.raises(ValueError) as expected:
            NgramFeatures(**bad.get_params()).fit(texts)
        with pytest.raises(ValueError, match=str(expected.value)):
            bad.fit_transform(texts)
