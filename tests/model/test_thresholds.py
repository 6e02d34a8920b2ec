"""slant.model.thresholds: calibration, F-beta cuts raised to a precision floor, and
categories that are never predicted when the floor cannot be reached."""

import numpy as np

from slant.model.classifier import SlantClassifier
from slant.model.thresholds import OFF, calibrate, choose_threshold


def _scores(seed=0, n=600):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    return y, y * 1.5 + rng.normal(0, 1, n)  # a noisy but informative score


def test_a_precision_floor_raises_the_cut_and_precision():
    y, s = _scores()
    p = 1 / (1 + np.exp(-s))
    t_f1 = choose_threshold(p, y)
    t_p = choose_threshold(p, y, min_precision=0.8)
    prec = lambda t: (y & (p >= t)).sum() / max(1, (p >= t).sum())
    assert t_p >= t_f1 and prec(t_f1) < 0.8 <= prec(t_p)


def test_a_category_that_cannot_reach_the_floor_is_off():
    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.3
    p = rng.random(500)  # uninformative
    assert choose_threshold(p, y, min_precision=0.8) == OFF
    cal, thr, scores, pred = calibrate(np.c_[p, np.where(y, 3.0, -3.0)], np.c_[y, y].astype(int), [0, 1], True,
                                       min_precision=0.8)
    assert thr[0] == OFF and not pred[:, 0].any() and scores[0]["tp"] == 0 and scores[0]["threshold"] == OFF
    assert thr[1] < OFF and scores[1]["precision"] >= 0.8 and pred[:, 1].sum() == y.sum()


def test_per_category_floors_may_be_any_sequence_or_array():
    import pytest

    from slant.errors import InputError

    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.3
    oof, Y = np.c_[rng.random(500), np.where(y, 3.0, -3.0)], np.c_[y, y].astype(int)
    as_list = calibrate(oof, Y, [0, 1], True, min_precision=[0.8, None])
    assert as_list[1][0] == OFF and as_list[1][1] < OFF
    for floors in (np.array([0.8, 0.8]), np.array([0.8, None], dtype=object), (None, 0.8)):
        got = calibrate(oof, Y, [0, 1], True, min_precision=floors)
        expected = calibrate(oof, Y, [0, 1], True, min_precision=list(floors))
        np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(calibrate(oof, Y, [0, 1], True, min_precision=np.array([0.8, None], dtype=object))[1],
                                  as_list[1])
    one = calibrate(oof, Y, [0, 1], True, min_precision=np.float64(0.8))  # a numpy number is one floor for all
    np.testing.assert_array_equal(one[1], calibrate(oof, Y, [0, 1], True, min_precision=0.8)[1])
    with pytest.raises(InputError, match=r"min_precision has 3 floors for 2 categories"):
        calibrate(oof, Y, [0, 1], True, min_precision=np.array([0.8, 0.8, 0.8]))


def _noisy(records):
    """The records with omission moved to every third sentence at random: unlearnable."""
    rng = np.random.default_rng(3)
    out = []
    for r in records:
        labels = [c for c in r["labels"] if c != "omission"] + (["omission"] if rng.random() < 0.33 else [])
        out.append({**r, "labels": labels})
    return out


def test_the_classifier_never_predicts_an_off_category(records):
    records = _noisy(records)
    texts, labels = [r["text"] for r in records], [r["labels"] for r in records]
    clf = SlantClassifier(classes=["loaded_language", "attribution_vague", "omission"], cv=3, min_df=1,
                          min_precision=0.8).fit(texts, labels, groups=[r["doc_id"] for r in records])
    off = clf.off_
    assert off == ["omission"]
    P = clf.predict_proba(texts)
    for c in off:
        j = list(clf.classes_).index(c)
        assert clf.thresholds_[j] == OFF and not clf.predict(texts)[:, j].any()
        assert (P[:, j] < 1).all()
    plain = SlantClassifier(classes=["loaded_language", "attribution_vague", "omission"], cv=3, min_df=1).fit(
        texts, labels, groups=[r["doc_id"] for r in records])
    assert plain.off_ == [] and (plain.thresholds_ <= 0.95).all()


def test_the_card_names_the_categories_not_predicted(records, tiny_tax):
    from slant.model.card import check_card
    from slant.model.fit import train_model

    model = train_model(_noisy(records), taxonomy=tiny_tax, cv=3, params={"min_df": 1, "min_precision": 0.8})
    cv = model.card["cv"]
    assert cv["not_predicted"] == model.estimator.off_ and "not_predicted" in cv["note"]
    assert all(model.card["thresholds"][c] == OFF for c in cv["not_predicted"])
    check_card(model.card, "test")


def test_floors_one_for_all_or_one_per_category():
    import pytest

    from slant.errors import InputError
    from slant.model.thresholds import floors

    assert floors(None, ["a", "b"]) == [None, None]
    assert floors(0.8, ["a", "b"]) == [0.8, 0.8]
    assert floors({"b": 0.7}, ["a", "b", "c"]) == [None, 0.7, None]
    assert floors({"a": None, "b": 1}, ["a", "b"]) == [None, 1.0]
    with pytest.raises(InputError, match="'x', not a category of this model; use some of a, b"):
        floors({"x": 0.8}, ["a", "b"])
    for bad in (0, 1.5, "0.8", True):
        with pytest.raises(InputError, match="use a precision between 0 and 1"):
            floors({"a": bad}, ["a", "b"])
        with pytest.raises(InputError, match="use a precision between 0 and 1"):
            floors(bad, ["a"])


def test_a_floor_per_category_moves_only_that_category(records):
    records = _noisy(records)
    texts, labels, groups = [r["text"] for r in records], [r["labels"] for r in records], [r["doc_id"] for r in records]
    classes = ["loaded_language", "attribution_vague", "omission"]
    plain = SlantClassifier(classes=classes, cv=3, min_df=1).fit(texts, labels, groups=groups)
    one = SlantClassifier(classes=classes, cv=3, min_df=1, min_precision={"omission": 0.8}).fit(
        texts, labels, groups=groups)
    assert one.off_ == ["omission"] and plain.off_ == []
    np.testing.assert_array_equal(one.thresholds_[:2], plain.thresholds_[:2])


def test_a_floor_for_an_unknown_category_fails_before_fitting(records):
    import pytest

    from slant.errors import InputError

    clf = SlantClassifier(classes=["loaded_language", "attribution_vague", "omission"], cv=3, min_df=1,
                          min_precision={"loaded": 0.8})
    with pytest.raises(InputError, match="'loaded', not a category"):
        clf.fit([r["text"] for r in records], [r["labels"] for r in records])
    assert not hasattr(clf, "features_")
