"""model + classifier: estimator conventions, thresholds, explanations, persistence, default model, CLI."""

import json
import random
import re

import numpy as np
import pytest
from jsonschema import Draft202012Validator
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

from slant._files import schema
from slant.cli.main import main
from slant.errors import DataError, InputError, ModelError
from slant.model.classifier import SlantClassifier, _best_threshold, binarize_labels
from slant.model.core import TRUSTED_TYPES, Prediction, SlantModel, load_model, read_seed, save_model, train_model
from slant.taxonomy.core import load_taxonomy

TINY_IDS = ["loaded_language", "attribution_vague", "omission"]


@pytest.fixture(scope="module")
def tiny_tax_path(sub_taxonomy):
    return sub_taxonomy("tiny", TINY_IDS)


@pytest.fixture(scope="module")
def tiny_tax(tiny_tax_path):
    return load_taxonomy(tiny_tax_path)


def _tiny_records():
    """Sentences written for these tests: three categories plus plain ones, 12 documents."""
    rng = random.Random(7)
    topics = ["library", "transit", "water", "school", "park", "housing", "road", "clinic", "port", "museum", "police", "bridge"]
    charged = ["slashed", "gutted", "rammed through", "torpedoed", "hijacked", "squandered"]
    vague = ["Critics say", "Officials said", "Some experts warn", "Sources claim"]
    out = []
    for d, topic in enumerate(topics):
        doc = f"doc{d:02d}"
        rows = [
            (f"The council {rng.choice(charged)} the {topic} budget in a shameful late-night vote.", ["loaded_language"]),
            (f"{rng.choice(vague)} the {topic} plan will fail within a year.", ["attribution_vague"]),
            (f"Complaints about the {topic} service jumped {rng.randint(20, 90)} percent.", ["omission"]),
            (f"The {topic} board met on Tuesday and approved the minutes.", []),
            (f"A public hearing on the {topic} project is scheduled for next month.", []),
            (f"The {topic} department employs staff in three offices.", []),
        ]
        for i, (text, labels) in enumerate(rows):
            out.append({"id": f"{doc}-{i}", "doc_id": doc, "text": text, "labels": labels})
    return out


@pytest.fixture(scope="module")
def records():
    return _tiny_records()


@pytest.fixture(scope="module")
def clf(records):
    X = [r["text"] for r in records]
    y = [r["labels"] for r in records]
    return SlantClassifier(classes=TINY_IDS, cv=3, min_df=1).fit(X, y, groups=[r["doc_id"] for r in records])


@pytest.fixture(scope="module")
def tiny_model(records, tiny_tax):
    return train_model(records, taxonomy=tiny_tax, cv=3, params={"min_df": 1})


# --- estimator conventions ----------------------------------------------------------------

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


@pytest.mark.parametrize(
    "p, y, expected",
    [
        ([0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0], 0.55),
        ([0.99, 0.98, 0.97], [1, 1, 1], 0.485),  # every sentence positive: cut below the lowest
        ([0.6, 0.4, 0.4, 0.1], [1, 0, 1, 0], 0.25),  # ties are never split
        ([0.5, 0.2], [0, 0], 0.5),  # no positives: neutral threshold
    ],
    ids=["separable", "all-positive", "ties", "no-positives"],
)
def test_best_threshold_maximises_f1(p, y, expected):
    t, _ = _best_threshold(np.array(p), np.array(y))
    assert t == pytest.approx(expected)


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


# --- explanations ---------------------------------------------------------------------------

EXPLAIN_TEXTS = [
    "The council slashed the library budget in a shameful late-night vote.",
    "Critics say the “transit” plan will fail — and 40% of riders agree!",
    "Complaints about the  water service jumped 45 percent.",
    "The school board met on Tuesday.",
]


def test_explain_offsets_exact_and_labels_predicted(clf):
    Y = clf.predict(EXPLAIN_TEXTS)
    for text, spans, row in zip(EXPLAIN_TEXTS, clf.explain(EXPLAIN_TEXTS), Y):
        predicted = {c for c, on in zip(clf.classes_, row) if on}
        assert {s["label"] for s in spans} <= predicted
        for s in spans:
            assert text[s["start"]:s["end"]] == s["text"]
            assert set(s) == {"start", "end", "label", "text", "weight", "cue"}
        for label in predicted:
            weights = [s["weight"] for s in spans if s["label"] == label]
            assert 1 <= len(weights) <= clf.max_spans
            assert weights == sorted(weights, reverse=True)


def test_token_contributions_add_up_to_the_ngram_score(clf):
    scorer = clf._get_scorer()
    batch = scorer.score(EXPLAIN_TEXTS)
    C, start = scorer.token_contributions(batch, [0, 2, 3])
    for r, i in enumerate([0, 2, 3]):
        ngram_part = batch.scores[i] - batch.Xq[i] @ scorer.cue_coef.T - clf.intercept_
        assert start[r + 1] - start[r] == len(batch.words[i])
        assert np.allclose(C[start[r]:start[r + 1]].sum(axis=0), ngram_part)


def test_explain_finds_the_driving_words(clf):
    spans = clf.explain(EXPLAIN_TEXTS[:1])[0]
    assert spans[0]["label"] == "loaded_language"
    assert any("slashed" in s["text"] or "shameful" in s["text"] for s in spans)


def test_explain_given_labels_and_unknown_label(clf):
    (spans,) = clf.explain(["The school board met on Tuesday."], labels=[["attribution_vague"]])
    assert all(s["label"] == "attribution_vague" for s in spans)
    with pytest.raises(DataError, match=r"cannot explain 'nope': not a class of this model; known: loaded_language"):
        clf.explain(["x"], labels=[["nope"]])


# --- SlantModel, persistence, cards ---------------------------------------------------------------

def test_predict_returns_predictions(tiny_model):
    preds = tiny_model.predict(EXPLAIN_TEXTS)
    assert all(isinstance(p, Prediction) for p in preds)
    assert preds[0].labels == ["loaded_language"]
    assert list(preds[0].scores) == TINY_IDS
    assert all(0 <= p.uncertainty <= 1 for p in preds)
    assert tiny_model.predict([]) == []
    assert tiny_model.predict(EXPLAIN_TEXTS[:1], explain=False)[0].spans == []


def test_card_follows_schema(tiny_model, tiny_tax):
    card = tiny_model.card
    assert not list(Draft202012Validator(schema("model-card")).iter_errors(card))
    assert card["taxonomy"] == {"id": "tiny", "version": tiny_tax.version, "hash": tiny_tax.hash}
    assert card["training_data"]["sentences"] == 72 and card["training_data"]["documents"] == 12
    assert card["training_data"]["label_counts"] == {"loaded_language": 12, "attribution_vague": 12, "omission": 12}
    assert set(card["cv"]["categories"]) == set(TINY_IDS)
    assert card["model_version"].startswith("trained-")
    assert {"scikit-learn", "numpy", "scipy", "skops", "slant", "python"} <= set(card["libraries"])


def test_save_load_roundtrip(tiny_model, tiny_tax, tmp_path):
    path = save_model(tiny_model, tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == ["model-card.json", "model.skops"]
    loaded = load_model(path, taxonomy=tiny_tax)
    assert isinstance(loaded, SlantModel) and loaded.model_version == tiny_model.model_version
    a, b = tiny_model.predict(EXPLAIN_TEXTS), loaded.predict(EXPLAIN_TEXTS)
    assert [p.scores for p in a] == [p.scores for p in b]
    assert [p.spans for p in a] == [p.spans for p in b]
    assert load_model(path / "model.skops", taxonomy=tiny_tax).model_version == loaded.model_version
    raw = (path / "model.skops").read_bytes()
    assert b"__reduce__" not in raw and b"pickle" not in raw.lower()


def test_load_refuses_other_taxonomy(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m")
    with pytest.raises(ModelError, match=r"model .* was built for taxonomy tiny .*\(hash [0-9a-f]+\), but the taxonomy in use is rhetoric .*retrain with `slant train DATA.jsonl --taxonomy"):
        load_model(path, taxonomy=load_taxonomy())


def test_load_refuses_tampered_file(tiny_model, tiny_tax, tmp_path):
    path = save_model(tiny_model, tmp_path / "m")
    data = bytearray((path / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (path / "model.skops").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"model\.skops: checksum .* does not match its model card; the file was changed after saving"):
        load_model(path, taxonomy=tiny_tax)


class NotASlantModel:
    """A type outside TRUSTED_TYPES."""


def test_load_refuses_untrusted_types(tiny_model, tiny_tax, tmp_path):
    import hashlib

    import skops.io as sio

    path = save_model(tiny_model, tmp_path / "m")
    sio.dump({"estimator": NotASlantModel()}, path / "model.skops")
    card = json.loads((path / "model-card.json").read_text())
    card["artifact"]["sha256"] = hashlib.sha256((path / "model.skops").read_bytes()).hexdigest()
    (path / "model-card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"refusing to load untrusted types test_model\.NotASlantModel; only slant models are loaded"):
        load_model(path, taxonomy=tiny_tax)
    assert "test_model.NotASlantModel" not in TRUSTED_TYPES


def test_load_refuses_unreadable_skops(tiny_model, tiny_tax, tmp_path):
    import hashlib

    path = save_model(tiny_model, tmp_path / "m")
    (path / "model.skops").write_bytes(b"not a zip file")
    card = json.loads((path / "model-card.json").read_text())
    card["artifact"]["sha256"] = hashlib.sha256(b"not a zip file").hexdigest()
    (path / "model-card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"not a readable skops file .*; rebuild it with `slant train`"):
        load_model(path, taxonomy=tiny_tax)


def test_load_errors_for_missing_and_broken_cards(tiny_model, tiny_tax, tmp_path):
    with pytest.raises(ModelError, match=r"model .*nowhere: no such directory; train one with `slant train DATA.jsonl --out"):
        load_model(tmp_path / "nowhere", taxonomy=tiny_tax)
    path = save_model(tiny_model, tmp_path / "m")
    card = (path / "model-card.json").read_text()
    (path / "model-card.json").write_text("{broken")
    with pytest.raises(ModelError, match=r"model card .*model-card\.json: not valid JSON .*; rebuild the model with `slant train`"):
        load_model(path, taxonomy=tiny_tax)
    bad = json.loads(card)
    del bad["taxonomy"]
    (path / "model-card.json").write_text(json.dumps(bad))
    with pytest.raises(ModelError, match=r"model card .*: \(top level\): 'taxonomy' is a required property; rebuild the model"):
        load_model(path, taxonomy=tiny_tax)
    (path / "model-card.json").unlink()
    with pytest.raises(ModelError, match=r"model-card\.json is missing; a model directory holds model\.skops and model-card\.json"):
        load_model(path, taxonomy=tiny_tax)


def test_train_model_errors(tiny_tax):
    with pytest.raises(ModelError, match=r"base 'other' is not known; use 'seed' or 'none'"):
        train_model([], taxonomy=tiny_tax, base="other")
    with pytest.raises(DataError, match=r"no reviewed sentences to train on; pass a JSONL file of reviewed records"):
        train_model([], taxonomy=tiny_tax)
    with pytest.raises(DataError, match=r"record 0 \(a1\): unknown label 'name_calling' for taxonomy tiny .*pass the taxonomy the data was labeled with"):
        train_model([{"id": "a1", "doc_id": "d", "text": "x", "labels": ["name_calling"]}], taxonomy=tiny_tax)
    with pytest.raises(DataError, match=r"record 0 \(a1\): needs a non-empty 'text'"):
        train_model([{"id": "a1", "doc_id": "d", "text": " ", "labels": []}], taxonomy=tiny_tax)
    with pytest.raises(DataError, match=r"record 0 \(a1\): 'labels' must be a list of category ids, got 'omission'"):
        train_model([{"id": "a1", "doc_id": "d", "text": "x", "labels": "omission"}], taxonomy=tiny_tax)


# --- the default model --------------------------------------------------------------------------

def test_seed_files_are_read():
    records, files = read_seed()
    assert len(records) == sum(f["sentences"] for f in files) >= 1000
    assert all(f["path"].startswith("labels/seed/") for f in files)


def test_default_model_card_and_cache(default_model, default_model_cache):
    card = default_model.card
    assert card["model_version"].startswith("seed-")
    assert card["training_data"]["base"] == "seed"
    assert card["cv"]["folds"] == 5
    assert list(default_model.estimator.classes_) == list(load_taxonomy().ids)
    entries = list((default_model_cache / "models").iterdir())
    assert len(entries) == 1 and entries[0].name.startswith("default-")
    # Loading again comes from the cache: same version, no rebuild.
    again = load_model(taxonomy=load_taxonomy(), cache_dir=default_model_cache)
    assert again.model_version == default_model.model_version
    assert again.card["created_at"] == card["created_at"]


@pytest.mark.parametrize(
    "text, label",
    [
        ("Opposition leaders slammed the reckless scheme as a shameless power grab.", "loaded_language"),
        ("Critics argue the merger will drive up prices for rural customers.", "attribution_vague"),
        ("The fund's spokesman, Daniel Ortiz, said the payments would resume in May.", "attribution_named"),
        ("The agency's so-called \u201creview\u201d took less than a day.", "scare_quotes"),
    ],
    ids=["loaded", "vague", "named", "scare"],
)
def test_default_model_recognises_unseen_sentences(default_model, text, label):
    (pred,) = default_model.predict([text])
    assert label in pred.labels, pred


# Words the seed sentences never use: the model reaches them only through the lexicon
# families (cue features), which is how it generalises past the seed's wording.
UNSEEN_IN_SEED = [
    ("The mayor called the council members imbeciles and halfwits on Tuesday.", "name_calling", ("imbeciles", "halfwits")),
    ("Operatives believe the bill will pass next week.", "attribution_vague", ("Operatives",)),
    ("A new poll shows the mayor well ahead of her rivals.", "attribution_vague", ("A new poll",)),
]


def test_seed_never_uses_the_unseen_words():
    from slant.model.core import read_seed

    records, _ = read_seed()
    seed_words = {w for r in records for w in re.findall(r"[a-z]+", r["text"].lower())}
    unseen = {e.split()[-1].lower() for _, _, evidence in UNSEEN_IN_SEED for e in evidence}
    assert unseen == {"imbeciles", "halfwits", "operatives", "poll"} and not seed_words & unseen


@pytest.mark.parametrize("text, label, evidence", UNSEEN_IN_SEED, ids=["insults", "operatives-believe", "poll-shows"])
def test_default_model_generalises_through_lexicons(default_model, text, label, evidence):
    (pred,) = default_model.predict([text])
    assert label in pred.labels, pred
    marked = [s["text"] for s in pred.spans if s["label"] == label]
    assert any(word in span for span in marked for word in evidence), pred.spans


def test_default_model_leaves_plain_news_alone(default_model):
    (pred,) = default_model.predict(["The committee will meet again on Thursday at 10 a.m. in room 204."])
    assert pred.labels == []


# --- CLI ----------------------------------------------------------------------------------------

@pytest.fixture
def tiny_jsonl(tmp_path, records):
    path = tmp_path / "reviewed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_cli_train_then_evaluate(tmp_path, tiny_jsonl, tiny_tax_path, capsys):
    out = tmp_path / "model"
    assert main(["train", str(tiny_jsonl), "--base", "none", "--cv", "3", "--out", str(out), "--taxonomy", str(tiny_tax_path)]) == 0
    said = capsys.readouterr().out
    assert "trained trained-" in said and "on 72 sentences" in said and "macro F1" in said
    assert (out / "model.skops").is_file() and (out / "model-card.json").is_file()
    assert main(["evaluate", str(tiny_jsonl), "--model", str(out), "--taxonomy", str(tiny_tax_path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert not list(Draft202012Validator(schema("evaluation")).iter_errors(report))
    assert report["method"] == "holdout" and report["data"]["sentences"] == 72
    assert set(report["categories"]) == set(TINY_IDS) and report["micro"]["f1"] > 0.5
    assert main(["evaluate", str(tiny_jsonl), "--model", str(out), "--taxonomy", str(tiny_tax_path)]) == 0
    table = capsys.readouterr().out
    assert "loaded_language" in table and "macro average" in table


def test_cli_evaluate_cross_validation(tmp_path, tiny_jsonl, tiny_tax_path, capsys):
    report_path = tmp_path / "cv.json"
    assert main(["evaluate", str(tiny_jsonl), "--cv", "3", "--taxonomy", str(tiny_tax_path), "--format", "json", "-o", str(report_path),
                 "--combine", "loaded_language+attribution_vague"]) == 0
    report = json.loads(report_path.read_text())
    progress = re.findall(r"fold (\d)/3: trained and scored (\d+) held-out sentences in [\d,]+\.\d s", capsys.readouterr().err)
    assert [f for f, _ in progress] == ["1", "2", "3"]  # one line per fold as it ends, on stderr
    assert sum(int(n) for _, n in progress) == report["data"]["sentences"]
    assert not list(Draft202012Validator(schema("evaluation")).iter_errors(report))
    assert report["method"] == "cross-validation" and report["folds"] == 3 and report["model_version"] is None
    both = report["combined"]["loaded_language+attribution_vague"]
    assert both["support"] == 24 and both["f1"] >= min(report["categories"]["loaded_language"]["f1"], report["categories"]["attribution_vague"]["f1"]) - 0.1
    assert main(["evaluate", str(tiny_jsonl), "--cv", "3", "--taxonomy", str(tiny_tax_path), "--combine", "loaded_language+bogus"]) == 1
    assert "--combine 'loaded_language+bogus': 'bogus' is not a category id" in capsys.readouterr().err


def test_cli_minimal_lines_accepted(tmp_path, tiny_tax_path, records, capsys):
    path = tmp_path / "min.jsonl"
    path.write_text("".join(json.dumps({k: r[k] for k in ("id", "doc_id", "text", "labels")}) + "\n" for r in records))
    assert main(["train", str(path), "--base", "none", "--cv", "2", "--out", str(tmp_path / "m"), "--taxonomy", str(tiny_tax_path)]) == 0


def test_cli_errors(tmp_path, tiny_jsonl, tiny_tax_path, capsys):
    assert main(["train", str(tiny_jsonl), "--cv", "1", "--out", str(tmp_path / "m"), "--taxonomy", str(tiny_tax_path)]) == 1
    assert "error: --cv 1: thresholds need at least 2 folds; use --cv 2 or more" in capsys.readouterr().err
    assert main(["evaluate", str(tiny_jsonl), "--model", str(tmp_path / "none"), "--taxonomy", str(tiny_tax_path)]) == 1
    assert "no such directory" in capsys.readouterr().err
    single = tmp_path / "one.jsonl"
    single.write_text(json.dumps({"id": "a", "doc_id": "d", "text": "x", "labels": []}) + "\n")
    assert main(["evaluate", str(single), "--cv", "3", "--taxonomy", str(tiny_tax_path)]) == 1
    assert "cross-validation needs at least 2 documents and --cv 2 or more; got 1 documents, cv=3" in capsys.readouterr().err


def test_cli_model_build_writes_a_copy(tmp_path, tiny_tax_path, monkeypatch, capsys):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "default"
    assert main(["model", "build", "--out", str(out), "--taxonomy", str(tiny_tax_path)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("built seed-") and str(out) in said
    tax = load_taxonomy(tiny_tax_path)
    assert load_model(out, taxonomy=tax).model_version == load_model(taxonomy=tax, cache_dir=tmp_path / "cache").model_version


# --- contrast rows from marked spans -------------------------------------------------------

def _confounded_records():
    """Every loaded sentence also says "weekend session"; only the charged verb is marked.
    Without the spans the two are equally good evidence; with them, only the verb is."""
    charged = ["gutted", "torpedoed", "hijacked", "squandered", "slashed", "butchered"]
    topics = ["library", "transit", "water", "school", "park", "housing", "road", "clinic", "port"]
    out = []
    for d, topic in enumerate(topics):
        verb = charged[d % len(charged)]
        text = f"The council {verb} the {topic} budget in a weekend session."
        start = text.index(verb)
        out += [
            {"id": f"c{d}-0", "doc_id": f"c{d}", "text": text, "labels": ["loaded_language"],
             "spans": [{"start": start, "end": start + len(verb), "label": "loaded_language"}]},
            {"id": f"c{d}-1", "doc_id": f"c{d}", "text": f"The {topic} board approved the minutes on Tuesday.", "labels": []},
            {"id": f"c{d}-2", "doc_id": f"c{d}", "text": f"A hearing on the {topic} plan is set for next month.", "labels": []},
            {"id": f"c{d}-3", "doc_id": f"c{d}", "text": f"The {topic} office opened a new branch.", "labels": []},
        ]
    return out


def _fit_confounded(records, **params):
    est = SlantClassifier(classes=["loaded_language"], cv=3, min_df=1, **params)
    return est.fit([r["text"] for r in records], [r["labels"] for r in records], groups=[r["doc_id"] for r in records],
                   spans=[r.get("spans") for r in records])


def test_contrast_rows_move_weight_onto_the_marked_words():
    records = _confounded_records()
    with_spans = _fit_confounded(records)
    without = _fit_confounded(records, span_contrast=0)
    assert with_spans.n_contrast_ == 9 and without.n_contrast_ == 0
    probes = ["They met in a weekend session.", "The mayor gutted the plan."]
    (s_session, s_verb), (w_session, w_verb) = with_spans.decision_function(probes)[:, 0], without.decision_function(probes)[:, 0]
    # The unmarked companion words lose weight, the marked verb gains relative to them.
    assert s_session < w_session
    assert s_verb - s_session > w_verb - w_session + 0.5


def test_contrast_off_or_without_spans_is_the_plain_fit():
    records = _confounded_records()
    off = _fit_confounded(records, span_contrast=0)
    est = SlantClassifier(classes=["loaded_language"], cv=3, min_df=1)
    plain = est.fit([r["text"] for r in records], [r["labels"] for r in records], groups=[r["doc_id"] for r in records])
    for attr in ("coef_", "intercept_", "calibration_", "thresholds_"):
        assert np.array_equal(getattr(off, attr), getattr(plain, attr)), attr


def test_contrast_rows_only_for_labelled_categories_and_known_labels():
    from slant.model.classifier import _Contrast, _cut

    texts = ["Critics say the gutted plan failed.", "The plan failed."]
    Y = np.array([[1, 0], [0, 0]])
    spans = [[{"start": 0, "end": 10, "label": "attribution_vague"},      # not a label of sentence 0: no row
              {"start": 16, "end": 22, "label": "loaded_language"},   # "gutted"
              {"start": 0, "end": 3, "label": "ptc:Slogans"}],             # not a class: ignored
             [{"start": 4, "end": 8, "label": "loaded_language"}]]         # sentence 1 is not loaded: no row
    c = _Contrast(texts, Y, ["loaded_language", "attribution_vague"], spans)
    assert c.texts == ["Critics say the plan failed."] and c.src.tolist() == [0] and c.cls.tolist() == [0]
    assert _cut("a b c d", [(2, 3), (2, 5)]) == "a d"       # overlapping ranges merge
    assert _cut("Lies!", [(0, 4)]) == ""                     # nothing but punctuation left: no row


@pytest.mark.parametrize("spans, match", [
    ([[{"start": 0, "end": 999, "label": "loaded_language"}]] + [None] * 35, "0 <= start < end"),
    ([[{"start": 3, "end": 1, "label": "loaded_language"}]] + [None] * 35, "0 <= start < end"),
    ([[{"start": 0, "end": 3}]] + [None] * 35, "needs a 'label'"),
    ([None], "1 span lists for 36 sentences"),
])
def test_bad_spans_are_refused(spans, match):
    records = _confounded_records()
    est = SlantClassifier(classes=["loaded_language"], cv=3, min_df=1)
    with pytest.raises(DataError, match=match):
        est.fit([r["text"] for r in records], [r["labels"] for r in records], spans=spans)


def test_bad_contrast_parameters_are_refused():
    records = _confounded_records()
    with pytest.raises(InputError, match="span_contrast"):
        _fit_confounded(records, span_contrast=-1)
    with pytest.raises(InputError, match="span_C"):
        _fit_confounded(records, span_C=0)


def test_train_model_passes_migrated_spans(tiny_tax):
    from slant.model.core import record_spans

    text = "Officials said the council gutted it."
    recs = [{"text": text, "spans": [{"start": 27, "end": 33, "label": "loaded_language"},
                                     {"start": 0, "end": 14, "label": "ptc:Doubt"},
                                     {"start": 0, "end": 99, "label": "loaded_language"},
                                     "junk"]},
            {"text": "Plain."}]
    assert record_spans(recs, tiny_tax) == [[{"start": 27, "end": 33, "label": "loaded_language"}], []]
    records = _confounded_records()
    model = train_model(records, taxonomy=tiny_tax, cv=3, params={"min_df": 1})
    assert model.estimator.n_contrast_ == 9
    # The card says which categories trained with contrast rows, and still follows its schema.
    assert model.card["estimator"]["contrast_rows"] == {"loaded_language": 9}
    Draft202012Validator(schema("model-card")).validate(model.card)


def test_no_contrast_rows_for_categories_marked_on_whole_sentences():
    from slant.model.classifier import _Contrast

    texts = ["Can we really trust these figures at all?", "Is any of this true?", "Who believes the agency now?",
             "The gutted plan and the torpedoed deal were both announced today."]
    Y = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    whole = lambda t, lab: [{"start": 0, "end": len(t), "label": lab}]
    spans = [whole(texts[0], "doubt"), whole(texts[1], "doubt"),
             [{"start": 0, "end": 3, "label": "doubt"}],   # one local span of three marked sentences: not enough
             [{"start": 4, "end": 10, "label": "loaded_language"}, {"start": 24, "end": 33, "label": "loaded_language"}]]
    c = _Contrast(texts, Y, ["doubt", "loaded_language"], spans)
    assert c.cls.tolist() == [1] and c.src.tolist() == [3]
    assert c.texts == ["The plan and the deal were both announced today."]
    # More than half of the sentence marked: no row either.
    c = _Contrast(texts[3:], Y[3:], ["doubt", "loaded_language"], [[{"start": 0, "end": 40, "label": "loaded_language"}]])
    assert len(c) == 0 and c.classes.tolist() == []


def test_scorer_word_cache_starts_over_at_its_limit(clf, monkeypatch):
    """The per-word cache is bounded by distinct new words (not tokens) and gives the same
    scores whether it is warm, cold or has just started over."""
    from slant.model import features

    texts = EXPLAIN_TEXTS * 3  # many tokens, few distinct words
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
