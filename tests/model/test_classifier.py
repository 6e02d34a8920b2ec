"""SlantClassifier: estimator conventions, labels, thresholds, parameters, explanations."""


import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
)

from slant.errors import DataError, InputError
from slant.model.classifier import SlantClassifier
from slant.model.linear import binarize_labels

TINY_IDS = ["loaded_language", "attribution_vague", "omission"]


@pytest.mark.parametrize(
    "check",
    [check_no_attributes_set_in_init, check_parameters_default_constructible, check_get_params_invariance,
     check_set_params, check_estimator_cloneable, check_estimator_repr, check_mixin_order,
     check_valid_tag_types, check_estimator_tags_renamed],
    ids=lambda c: c.__name__,
)
def test_sklearn_checks_that_apply_to_text_estimators(check):
    # The other checks in sklearn.utils.estimator_checks feed numeric 2-D arrays, which a
    # sentence classifier cannot take (its input is a list of strings); the tests below
    # cover their intent with text: fit returns self, unfitted errors, idempotence,
    # sample-order and subset invariance, multilabel output formats.
    check("SlantClassifier", SlantClassifier())


def test_fit_returns_self_and_learns_underscore_attributes(records):
    est = SlantClassifier(classes=TINY_IDS, cv=2, min_df=1)
    params = est.get_params()
    assert not [k for k in vars(est) if k.endswith("_")]
    assert est.fit([r["text"] for r in records], [r["labels"] for r in records]) is est
    assert est.get_params() == params
    learned = {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}
    assert {"classes_", "coef_", "intercept_", "thresholds_", "calibration_", "features_", "cv_scores_"} <= learned
    assert list(est.classes_) == TINY_IDS


def test_clone_keeps_params_not_fit(clf):
    c = clone(clf)
    assert c.get_params() == clf.get_params()
    assert not hasattr(c, "coef_")


def test_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError):
        SlantClassifier().predict(["x"])


def test_multilabel_output_formats(clf, records):
    X = [r["text"] for r in records[:10]]
    P = clf.predict_proba(X)
    Y = clf.predict(X)
    D = clf.decision_function(X)
    assert P.shape == Y.shape == D.shape == (10, 3)
    assert ((P >= 0) & (P <= 1)).all()
    assert set(np.unique(Y)) <= {0, 1}
    assert (Y == (P >= clf.thresholds_)).all()


def test_learns_tiny_data(clf):
    Y = clf.predict([
        "The mayor gutted the transit budget in a shameful vote.",
        "Critics say the housing plan will fail.",
        "Complaints about the water service jumped 45 percent.",
        "The school board met on Tuesday and approved the minutes.",
    ])
    assert Y.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]]


def test_order_and_subset_invariance_and_idempotent_fit(clf, records):
    X = [r["text"] for r in records]
    P = clf.predict_proba(X)
    perm = np.random.default_rng(0).permutation(len(X))
    assert np.allclose(clf.predict_proba([X[i] for i in perm]), P[perm])
    assert np.allclose(np.vstack([clf.predict_proba([x]) for x in X[:5]]), P[:5])
    again = clone(clf).fit(X, [r["labels"] for r in records], groups=[r["doc_id"] for r in records])
    assert np.allclose(again.predict_proba(X), P)


def test_constant_classes_without_positives(records):
    X = [r["text"] for r in records]
    y = [[lab for lab in r["labels"] if lab != "omission"] for r in records]
    est = SlantClassifier(classes=TINY_IDS, cv=2, min_df=1).fit(X, y)
    assert est.predict(X)[:, 2].sum() == 0
    assert est.cv_scores_["omission"]["support"] == 0


def test_indicator_matrix_labels(records):
    X = [r["text"] for r in records]
    Y, _ = binarize_labels([r["labels"] for r in records], TINY_IDS)
    est = SlantClassifier(classes=TINY_IDS, cv=2, min_df=1).fit(X, Y)
    assert list(est.classes_) == TINY_IDS


def test_thresholds_and_cv_scores_recorded(clf):
    assert ((clf.thresholds_ >= 0.05) & (clf.thresholds_ <= 0.95)).all()
    assert set(clf.cv_scores_) == set(TINY_IDS)
    for s in clf.cv_scores_.values():
        assert 0 <= s["f1"] <= 1 and s["support"] == 12


@pytest.mark.parametrize(
    "X, y, match, err",
    [
        (["a", "b"], ["loaded_language", []], r"labels of sentence 0 must be a list of category ids, got 'loaded_language'; use \[\] for none", DataError),
        (["a", "b"], [["nope"], []], r"sentence 0 has label 'nope', which is not a class; known: loaded_language, attribution_vague, omission", DataError),
        (["a", "b"], [[]], r"2 sentences but 1 label rows; pass one label list per sentence", DataError),
        (["a"], [[]], r"need at least 2 sentences to train, got 1; add reviewed sentences", DataError),
        ("a b", [[]], r"expected a list of sentences, got a single string; wrap it in a list", InputError),
        (["a", 2], [[], []], r"sentence 1 is int, not str; pass a list of strings", InputError),
        (["a", "b"], np.zeros((2, 2)), r"label matrix has 2 columns but there are 3 classes; pass one column per class", DataError),
        (["a", "b"], np.full((2, 3), 2), r"label matrix must hold only 0 and 1; pass label lists or an indicator matrix", DataError),
    ],
    ids=["string-labels", "unknown-label", "length", "too-few", "single-string", "non-string", "matrix-columns", "matrix-values"],
)
def test_fit_input_errors(X, y, match, err):
    with pytest.raises(err, match=match):
        SlantClassifier(classes=TINY_IDS).fit(X, y)


def test_other_parameter_errors(records):
    X = [r["text"] for r in records]
    y = [r["labels"] for r in records]
    with pytest.raises(DataError, match=r"3 group ids for 72 sentences; pass one doc_id per sentence"):
        SlantClassifier(classes=TINY_IDS).fit(X, y, groups=["a", "b", "c"])
    with pytest.raises(InputError, match=r"linear='forest' is not supported; use 'logistic', 'nb-logistic' or 'svm'"):
        SlantClassifier(classes=TINY_IDS, linear="forest", min_df=1).fit(X, y)


@pytest.mark.parametrize("linear", ["svm", "nb-logistic", "logistic"])
def test_linear_variants_fit(records, linear):
    X = [r["text"] for r in records]
    est = SlantClassifier(classes=TINY_IDS, linear=linear, cv=2, min_df=1).fit(X, [r["labels"] for r in records])
    assert est.predict_proba(X[:3]).shape == (3, 3)
    assert np.allclose(est.decision_function(X[:5]), np.asarray(est.transform(X[:5]) @ est.coef_.T) + est.intercept_)


