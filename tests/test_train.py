"""Retraining: which records train, held-out split, registry, promotion gate, rollback,
learning curve and the `slant train` / `slant models` commands."""

import json
import random

import pytest

from slant.cli.main import main
from slant.errors import DataError, ModelError
from slant.loop.curve import learning_curve, plot_curve, render_curve
from slant.loop.registry import Registry
from slant.loop.train import (
    adjudicated,
    heldout_documents,
    promote,
    retrain,
    retrain_and_maybe_promote,
    rollback,
    usable_records,
)
from slant.model.core import load_model, read_seed
from slant.taxonomy.core import load_taxonomy


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def reviewed(n_docs=30, per_doc=12, seed=0, policy="majority"):
    """Reviewed records made by recombining seed sentences: a labelled sentence keeps its
    labels and gets a few words of an unlabelled one spliced in."""
    recs, _ = read_seed()
    neutral = [r["text"].split() for r in recs if not r["labels"]]
    rng = random.Random(seed)
    out = []
    for d in range(n_docs):
        for i in range(per_doc):
            a = rng.choice(recs)
            w, b = a["text"].split(), rng.choice(neutral)
            at, s = rng.randint(0, len(w)), rng.randint(0, max(0, len(b) - 3))
            out.append({"id": f"r{seed}-{d}-{i}", "doc_id": f"doc{seed}-{d}", "text": " ".join(w[:at] + b[s:s + 3] + w[at:]),
                        "labels": list(a["labels"]), "policy": policy})
    return out


def corrupt(records, held_docs, seed=1):
    """Labels of the training documents shuffled among sentences; held-out ones stay clean."""
    rng = random.Random(seed)
    train = [r for r in records if r["doc_id"] not in held_docs]
    labels = [r["labels"] for r in train]
    rng.shuffle(labels)
    bad = iter(labels)
    return [r if r["doc_id"] in held_docs else {**r, "labels": next(bad)} for r in records]


# --- which records train ----------------------------------------------------------------

@pytest.mark.parametrize("record, ok, why", [
    ({"policy": "majority"}, True, ""),
    ({}, True, ""),
    ({"policy": "latest", "task_id": 3, "annotations": [{"annotator": 1, "labels": []}]}, True, ""),
    ({"policy": "unresolved"}, False, "policy 'unresolved'"),
    ({"policy": "majority", "adjudicated": False}, False, "no adjudicated decision"),
    ({"policy": "majority", "task_id": 7, "annotations": []}, False, "no annotations"),
    ({"policy": "ground-truth", "task_id": 7, "annotations": []}, True, ""),
], ids=["majority", "default-given", "live-latest", "unknown-policy", "flagged", "unannotated-task", "ground-truth"])
def test_adjudicated(record, ok, why):
    assert adjudicated(record) == (ok, why)


def test_usable_records_migrates_and_reports_unknown_labels(tmp_path):
    from slant._files import default_taxonomy_path

    data = json.loads(default_taxonomy_path().read_text(encoding="utf-8"))
    data["version"] = "9.0.0"
    data["migrations"] = [{"from_version": "1.0.0", "op": "rename", "from": "emotive_language", "to": "loaded_language"},
                          {"from_version": "1.0.0", "op": "retire", "from": "old_bias"}]
    path = tmp_path / "tax.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    tax = load_taxonomy(path)
    records = [
        {"id": 1, "doc_id": "a", "text": "x", "labels": ["emotive_language"]},
        {"id": 2, "doc_id": "a", "text": "y", "labels": ["old_bias", "doubt"]},
        {"id": 3, "doc_id": "a", "text": "z", "labels": ["mystery"]},
        {"id": 4, "doc_id": "a", "text": "w", "labels": [], "unknown_labels": ["mystery"]},
        {"id": 5, "doc_id": "a", "text": "v", "labels": [], "policy": "none"},
    ]
    kept, excluded = usable_records(records, tax)
    assert [(r["id"], r["labels"]) for r in kept] == [(1, ["loaded_language"]), (2, ["doubt"])]
    assert excluded == {"unknown labels": 2, "unknown label names": {"mystery": 2}, "policy 'none'": 1}


def test_heldout_documents_is_stable_and_never_empty_or_total():
    docs = [f"d{i}" for i in range(200)]
    held = heldout_documents(docs, 0.2)
    assert 20 < len(held) < 60
    # more documents later: the earlier held-out ones stay held out
    assert held <= heldout_documents(docs + [f"e{i}" for i in range(100)], 0.2)
    assert len(heldout_documents(["a", "b"], 0.2)) == 1
    assert heldout_documents(["a"], 0.2) == set() and heldout_documents(docs, 0) == set()
    assert len(heldout_documents(["a", "b"], 0.99)) == 1
    with pytest.raises(DataError, match="--holdout 1: the held-out share must be below 1"):
        heldout_documents(docs, 1)


# --- retrain, card, registry ----------------------------------------------------------------

def test_retrain_registers_a_version_with_a_full_card(tmp_path, tax):
    registry = Registry(tmp_path / "models")
    records = reviewed(n_docs=12, per_doc=10) + [
        {"id": "x1", "doc_id": "doc-x", "text": "Nobody has decided this one yet.", "labels": [], "policy": "unresolved"}]
    files = [{"path": "reviewed.jsonl", "sentences": len(records), "sha256": "0" * 64}]
    result = retrain(records, taxonomy=tax, registry=registry, base="none", cv=2, files=files, weight_reviewed=2.0)
    card = registry.card(result.version)
    assert result.version.startswith("trained-") and card["model_version"] == result.version
    assert result.excluded == {"policy 'unresolved'": 1}
    assert result.reviewed + result.heldout == 120 and result.heldout > 0
    data = card["training_data"]
    assert data["files"] == files and data["base"] == "none" and data["weights"] == {"base": 1.0, "reviewed": 2.0}
    assert data["adjudication"]["policies"] == {"majority": 120}
    assert set(data["label_counts"]) == set(tax.ids)
    assert set(card["cv"]["categories"]) == set(tax.ids) and "f1" in card["cv"]["categories"]["doubt"]
    assert card["heldout"]["sentences"] == result.heldout and card["heldout"]["documents"]
    stored = registry.records(result.version)
    assert {r["split"] for r in stored} == {"train", "heldout"}
    assert {r["doc_id"] for r in stored if r["split"] == "heldout"} == set(card["heldout"]["documents"])
    # the saved model loads through the trusted-type path with its card checked
    model = load_model(tmp_path / "models" / result.version, taxonomy=tax)
    assert model.model_version == result.version
    # the same data and settings give the same version; another weight another one
    again = retrain(records, taxonomy=tax, registry=registry, base="none", cv=2, files=files, weight_reviewed=2.0)
    assert again.version == result.version and len(registry.versions()) == 1
    info = registry.versions()[0]
    assert (info.version, info.base, info.reviewed, info.heldout, info.current) == (result.version, "none", result.reviewed, result.heldout, False)


def test_retrain_on_a_registered_version_adds_its_data(tmp_path, tax):
    registry = Registry(tmp_path / "models")
    first = retrain(reviewed(n_docs=8, per_doc=8, seed=1), taxonomy=tax, registry=registry, base="none", cv=2)
    newer = reviewed(n_docs=4, per_doc=8, seed=2)
    newer[0] = {**registry.records(first.version)[0], "labels": ["doubt"]}  # a re-adjudicated sentence replaces the old one
    second = retrain(newer, taxonomy=tax, registry=registry, base=first.version, cv=2)
    card = registry.card(second.version)
    assert card["training_data"]["extends"] == first.version and card["training_data"]["base"] == "none"
    assert second.reviewed + second.heldout == 64 + 32 - 1
    assert {r["id"]: r["labels"] for r in registry.records(second.version)}[newer[0]["id"]] == ["doubt"]
    assert second.base == first.version


@pytest.mark.parametrize("kwargs, match", [
    ({"base": "v-nope"}, r"model version 'v-nope' is not in the registry .*slant models list"),
    ({"weight_reviewed": 0}, r"--weight-reviewed 0: must be a positive number"),
    ({"cv": 1}, r"--cv 1: thresholds need at least 2 folds"),
], ids=["unknown-base", "weight", "cv"])
def test_retrain_bad_arguments(tmp_path, tax, kwargs, match):
    with pytest.raises(ModelError, match=match):
        retrain(reviewed(n_docs=3, per_doc=3), taxonomy=tax, registry=Registry(tmp_path), **{"base": "none", **kwargs})


def test_retrain_without_usable_records(tmp_path, tax):
    records = [{"id": 1, "doc_id": "a", "text": "x y", "labels": [], "policy": "unresolved"}]
    with pytest.raises(DataError, match=r"no adjudicated reviewed sentences to train on \(1 policy 'unresolved'\); pull"):
        retrain(records, taxonomy=tax, registry=Registry(tmp_path), base="none")
    with pytest.raises(ModelError, match="a model version needs the model registry"):
        retrain(reviewed(n_docs=2, per_doc=2), taxonomy=tax, base="trained-x")


def test_registry_errors(tmp_path, tax):
    registry = Registry(tmp_path / "empty")
    assert registry.versions() == [] and registry.current_version() is None
    with pytest.raises(ModelError, match="holds no versions yet; train one with `slant train reviewed.jsonl`"):
        registry.resolve("latest")
    with pytest.raises(ModelError, match="nothing is promoted, so the default seed model is already current"):
        rollback(registry)
    (tmp_path / "empty" / "state.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(ModelError, match=r"state.json: not valid JSON .*move it away"):
        registry.current_version()


# --- the promotion gate ---------------------------------------------------------------------

def test_gate_refuses_corrupted_labels_unless_forced_and_rolls_back(tmp_path, tax, capsys):
    registry = Registry(tmp_path / "models")
    clean = reviewed(n_docs=40, per_doc=12, seed=3)
    first = retrain(clean, taxonomy=tax, registry=registry, base="none", cv=2)
    gate = promote(registry, first.version, taxonomy=tax, force=True)
    assert gate.promoted and registry.current_version() == first.version

    held = set(registry.card(first.version)["heldout"]["documents"])
    bad = retrain(corrupt(clean, held), taxonomy=tax, registry=registry, base="none", cv=2)
    refused = promote(registry, "latest", taxonomy=tax)
    assert not refused.promoted and registry.current_version() == first.version
    assert refused.reasons and refused.reasons[0].startswith("macro F1 falls from")
    assert refused.sentences == sum(1 for r in clean if r["doc_id"] in held)
    assert {row["category"] for row in refused.table} == set(tax.ids)
    assert refused.macro["candidate"] < refused.macro["current"] - 0.01
    text = refused.format()
    assert "candidate F1" in text and "FAIL" in text and f"slant models promote {bad.version} --force" in text

    # the same through the command: refused with the table, exit 1; accepted with --force
    models = ["--models", str(tmp_path / "models")]
    assert main(["models", "promote", bad.version, *models]) == 1
    err = capsys.readouterr().err
    assert "the promotion gate refused the candidate" in err and "macro F1 falls from" in err and "candidate F1" in err
    assert registry.current_version() == first.version
    assert main(["models", "promote", bad.version, "--force", *models]) == 0
    assert "forced past the gate" in capsys.readouterr().out
    assert registry.current_version() == bad.version
    assert registry.history()[-1]["forced"] is True
    assert promote(registry, bad.version, taxonomy=tax).note.endswith("is already the current model")
    assert rollback(registry) == first.version
    assert registry.current_model(tax).model_version == first.version
    assert rollback(registry) is None
    events = [e["event"] for e in registry.history()]
    assert events == ["train", "promote", "train", "promote", "rollback", "rollback"]


def test_gate_category_rule_and_tolerance(tmp_path, tax):
    from slant.loop.gate import compare_models

    registry = Registry(tmp_path / "models")
    records = reviewed(n_docs=20, per_doc=10, seed=4)
    a = retrain(records, taxonomy=tax, registry=registry, base="none", cv=2)
    model = registry.load(a.version, tax)
    held = registry.records(a.version, "heldout")
    table, macro, reasons = compare_models(model, model, held)
    assert reasons == [] and macro["change"] == 0 and all(not r["failed"] for r in table)
    with pytest.raises(ModelError, match="--tolerance -1: tolerances are F1 differences of 0 or more"):
        promote(registry, a.version, taxonomy=tax, tolerance=-1)


def test_gate_without_heldout_refuses(tmp_path, tax):
    registry = Registry(tmp_path / "models")
    result = retrain(reviewed(n_docs=6, per_doc=6), taxonomy=tax, registry=registry, base="none", cv=2, holdout=0)
    gate = promote(registry, result.version, taxonomy=tax)
    assert not gate.promoted and "no held-out reviewed sentence" in gate.reasons[0]


def test_retrain_and_maybe_promote(tmp_path, tax):
    registry = Registry(tmp_path / "models")
    out = retrain_and_maybe_promote(reviewed(n_docs=10, per_doc=8, seed=5), registry=registry, taxonomy=tax,
                                    base="none", cv=2)
    assert out.version == out.train.version and out.promoted == (registry.current_version() == out.version)
    assert isinstance(out.table, list) and "held-out reviewed sentences" in out.summary()


# --- learning curve -----------------------------------------------------------------------

def test_learning_curve(tmp_path, tax):
    curve = learning_curve(reviewed(n_docs=8, per_doc=8, seed=6), taxonomy=tax, base="none", cv=2, inner_cv=2)
    assert curve["fractions"] == [0.25, 0.5, 0.75, 1.0]
    sizes = curve["reviewed_sentences"]
    assert sizes == sorted(sizes) and sizes[-1] == 32 and sizes[0] < sizes[-1]
    assert len(curve["macro_f1"]) == 4 and all(0 <= v <= 1 for v in curve["macro_f1"])
    assert set(curve["categories"]) == set(tax.ids) and all(len(v) == 4 for v in curve["categories"].values())
    text = render_curve(curve)
    assert "macro F1" in text and "100%" in text and "last step (75% -> 100%)" in text
    png = plot_curve(curve, tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_learning_curve_bad_input(tax):
    with pytest.raises(DataError, match="needs reviewed sentences from at least 2 documents"):
        learning_curve(reviewed(n_docs=1, per_doc=4), taxonomy=tax, base="none", cv=2)
    with pytest.raises(DataError, match=r"shares \[0.0, 1.0\]: each must be in \(0, 1\]"):
        learning_curve(reviewed(n_docs=3, per_doc=4), taxonomy=tax, base="none", fractions=(0, 1))


# --- commands -------------------------------------------------------------------------------

def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_cli_train_models_promote_rollback(tmp_path, capsys):
    data = _write(tmp_path / "reviewed.jsonl", reviewed(n_docs=10, per_doc=8, seed=7))
    models = str(tmp_path / "models")
    assert main(["train", str(data), "--base", "none", "--cv", "2", "--models", models, "--out", str(tmp_path / "copy")]) == 0
    out = capsys.readouterr().out
    assert "trained trained-" in out and "next: `slant models promote trained-" in out
    assert (tmp_path / "copy" / "model.skops").is_file()
    card = json.loads((tmp_path / "copy" / "model-card.json").read_text())
    assert card["training_data"]["files"][0]["path"] == str(data) and len(card["training_data"]["files"][0]["sha256"]) == 64

    assert main(["models", "list", "--models", models]) == 0
    listing = capsys.readouterr().out
    assert "current: the default seed model" in listing and card["model_version"] in listing
    assert main(["models", "list", "--models", models, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["versions"][0]["version"] == card["model_version"]
    assert main(["models", "show", "latest", "--models", models]) == 0
    assert json.loads(capsys.readouterr().out)["model_version"] == card["model_version"]

    code = main(["models", "promote", "latest", "--models", models])
    captured = capsys.readouterr()
    if code == 1:  # the seed model knows these sentences' originals: the gate may well refuse
        assert "the promotion gate refused the candidate" in captured.err and "--force" in captured.err
        assert main(["models", "promote", "latest", "--models", models, "--force"]) == 0
        capsys.readouterr()
    assert main(["models", "list", "--models", models]) == 0
    assert f"* {card['model_version']}" in capsys.readouterr().out
    assert main(["models", "rollback", "--models", models]) == 0
    assert "current model: the default seed model" in capsys.readouterr().out


def test_cli_curve_and_plot(tmp_path, capsys):
    data = _write(tmp_path / "reviewed.jsonl", reviewed(n_docs=8, per_doc=6, seed=8))
    plot = tmp_path / "out" / "curve.png"
    assert main(["train", str(data), "--base", "none", "--cv", "2", "--curve", "--plot", str(plot),
                 "--models", str(tmp_path / "m")]) == 0
    assert "learning curve:" in capsys.readouterr().out and plot.is_file()
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


@pytest.mark.parametrize("argv, match", [
    (["models", "promote", "nope"], "model version 'nope' is not in the registry"),
    (["models", "show", "latest"], "holds no versions yet"),
    (["models", "rollback"], "nothing is promoted"),
    (["train", "{data}", "--plot", "x.png"], "--plot OUT.png goes with --curve"),
    (["train", "{data}", "--curve", "--out", "d"], "--curve trains throw-away models and writes none"),
    (["train", "{data}", "--weight-reviewed", "-1"], "--weight-reviewed -1.0: must be a positive number"),
    (["train", "{data}", "--base", "trained-none"], "model version 'trained-none' is not in the registry"),
], ids=["promote-unknown", "show-empty", "rollback-empty", "plot-without-curve", "curve-with-out", "weight", "base"])
def test_cli_errors(tmp_path, capsys, argv, match):
    data = _write(tmp_path / "r.jsonl", reviewed(n_docs=2, per_doc=3))
    argv = [a.replace("{data}", str(data)) for a in argv] + ["--models", str(tmp_path / "models")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err and "Traceback" not in err


# --- training speed: NgramFeatures.fit_transform (benchmarks/bench_train.py) ----------------

@pytest.mark.parametrize("kwargs", [{}, {"max_char_features": 400}, {"min_df": 1}, {"min_df": 0.02, "word_ngram_range": (1, 1)},
                                    {"char_weight": 0.5, "char_ngram_range": (3, 4)}],
                         ids=["default", "max-features", "min-df-1", "min-df-float", "char-options"])
def test_ngram_fit_transform_equals_fit_then_transform(kwargs):
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


# --- training speed: CV folds and the final fit in forked workers (n_jobs) ----------------

def _fit_with_pids(monkeypatch, tmp_path, n_jobs, records, name):
    """Fit a SlantClassifier, recording which processes ran the fold / final fits."""
    import os

    import numpy as np

    import slant.model.classifier as clf_mod

    log = tmp_path / f"{name}.pids"
    real = clf_mod._fit_part

    def spy(state, part):
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {part}\n")
        return real(state, part)

    monkeypatch.setattr(clf_mod, "_fit_part", spy)
    monkeypatch.setattr(clf_mod, "_PARALLEL_MIN_NNZ", 0)  # the test data is small
    weights = np.where(np.arange(len(records)) % 3 == 0, 2.0, 1.0)
    # Each label marked on the sentence's first word: contrast rows take part in the fits too.
    spans = [[{"start": 0, "end": r["text"].index(" "), "label": lab} for lab in r["labels"]] for r in records]
    est = clf_mod.SlantClassifier(cv=3, min_df=1, n_jobs=n_jobs).fit(
        [r["text"] for r in records], [r["labels"] for r in records], groups=[r["doc_id"] for r in records],
        sample_weight=weights, spans=spans)
    runs = [line.split() for line in log.read_text().splitlines()]
    return est, {int(pid) for pid, _ in runs}, sorted(int(part) for _, part in runs)


def test_parallel_fit_equals_one_process(monkeypatch, tmp_path):
    import os

    import numpy as np

    records = reviewed(n_docs=9, per_doc=12, seed=4)
    one, pids_one, parts_one = _fit_with_pids(monkeypatch, tmp_path, None, records, "one")
    two, pids_two, parts_two = _fit_with_pids(monkeypatch, tmp_path, 2, records, "two")
    assert pids_one == {os.getpid()} and parts_one == [-1, 0, 1, 2]
    assert os.getpid() not in pids_two and len(pids_two) == 2 and parts_two == [-1, 0, 1, 2]
    for attr in ("coef_", "intercept_", "calibration_", "thresholds_"):
        assert np.array_equal(getattr(one, attr), getattr(two, attr)), attr
    assert one.cv_scores_ == two.cv_scores_ and one.n_splits_ == two.n_splits_ == 3
    assert one.n_contrast_ == two.n_contrast_ > 0
    assert one.get_params()["n_jobs"] is None and two.get_params()["n_jobs"] == 2


def test_parallel_fit_falls_back_to_one_process_without_fork(monkeypatch, tmp_path):
    import multiprocessing
    import os

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    _, pids, parts = _fit_with_pids(monkeypatch, tmp_path, -1, reviewed(n_docs=4, per_doc=10, seed=5), "spawn")
    assert pids == {os.getpid()} and parts == [-1, 0, 1, 2]


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2", True])
def test_bad_n_jobs(n_jobs):
    from slant.errors import InputError
    from slant.model.classifier import SlantClassifier

    records = reviewed(n_docs=4, per_doc=6, seed=6)
    with pytest.raises(InputError, match=rf"n_jobs={n_jobs!r} is not supported; use None .* or -1 for every core"):
        SlantClassifier(cv=2, min_df=1, n_jobs=n_jobs).fit([r["text"] for r in records], [r["labels"] for r in records])


def test_nb_logistic_ratios_and_scaling_equal_the_matrix_form():
    import numpy as np
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from slant.model.classifier import NBLogisticRegression

    rng = np.random.default_rng(3)
    X = sp.random(300, 80, density=0.1, format="csr", random_state=4)
    X.data[::7] = 0.0  # explicit zeros count as absent
    y = (rng.random(300) < 0.3).astype(int)
    present = (X != 0).astype(np.float64)
    p = 1.0 + present.T @ (y == 1)
    q = 1.0 + present.T @ (y == 0)
    r = np.log(p / p.sum()) - np.log(q / q.sum())
    lr = LogisticRegression(class_weight="balanced", solver="liblinear", dual=True, max_iter=2000, tol=1e-2,
                            random_state=0).fit(X @ sp.diags(r), y)
    nb = NBLogisticRegression(tol=1e-2).fit(X, y)
    np.testing.assert_allclose(nb.ratios_, r, rtol=0, atol=1e-12)
    np.testing.assert_allclose(nb.coef_, lr.coef_ * r, rtol=0, atol=1e-9)
    assert nb.intercept_[0] == pytest.approx(lr.intercept_[0], abs=1e-9)
    assert NBLogisticRegression(tol=0.1).fit(X, y).get_params()["tol"] == 0.1


def _spy_cue_worker():
    import os

    import slant.model.classifier as clf_mod

    with open(os.environ["SLANT_TEST_PID_FILE"], "w") as fh:
        fh.write(str(os.getpid()))
    cues, texts = clf_mod._FIT_STATE
    return cues.transform(texts)


def test_parallel_features_equal_the_unions_fit_transform(monkeypatch, tmp_path):
    import os

    import numpy as np

    import slant.model.classifier as clf_mod

    texts = [r["text"] for r in reviewed(n_docs=6, per_doc=10, seed=7)]
    serial = clf_mod.SlantClassifier(min_df=1)
    serial.features_ = serial._make_features(len(texts))
    expected = serial._fit_features(texts)

    pids = tmp_path / "cue-worker.pid"
    monkeypatch.setenv("SLANT_TEST_PID_FILE", str(pids))
    monkeypatch.setattr(clf_mod, "_cue_worker", _spy_cue_worker)
    monkeypatch.setattr(clf_mod, "_PARALLEL_MIN_NNZ", 0)
    parallel = clf_mod.SlantClassifier(min_df=1, n_jobs=2, cue_weight=1.0)
    parallel.features_ = parallel._make_features(len(texts))
    got = parallel._fit_features(texts)
    assert int(pids.read_text()) != os.getpid()  # the cue features came from the worker
    assert got.shape == expected.shape and (got != expected).nnz == 0
    assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
    # The fitted union transforms new text the same way either way.
    new = ["Critics call the plan a disaster, officials said."]
    assert (parallel.features_.transform(new) != serial.features_.transform(new)).nnz == 0


def test_latest_is_the_version_registered_last_within_one_second(tmp_path, tax):
    import json

    from slant.model.core import CARD_FILE

    records = reviewed(n_docs=8, per_doc=8, seed=11)
    datasets = [records, records[:-8]]
    probe = Registry(tmp_path / "probe")
    ids = [retrain(d, taxonomy=tax, registry=probe, base="none", cv=2).version for d in datasets]
    assert ids[0] != ids[1]
    # Register the version whose id sorts last first, so id order and registration order disagree.
    datasets = [d for _, d in sorted(zip(ids, datasets), key=lambda pair: pair[0], reverse=True)]
    registry = Registry(tmp_path / "models")
    a, b = (retrain(d, taxonomy=tax, registry=registry, base="none", cv=2).version for d in datasets)
    assert a > b
    for v in (a, b):  # the same second, and version ids that sort against registration order
        path = registry._dir(v) / CARD_FILE
        card = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**card, "created_at": "2026-01-01T00:00:00+00:00"}), encoding="utf-8")
    assert registry.resolve("latest") == b
    assert [v.version for v in registry.versions()] == [a, b]


def test_summary_says_which_categories_trained_contrast_rows(tax):
    records = reviewed(n_docs=8, per_doc=8, seed=12)
    plain = retrain(records, taxonomy=tax, base="none", cv=2, holdout=0)
    assert "contrast rows" not in plain.summary() and plain.model.card["estimator"]["contrast_rows"] == {}
    marked = [{**r, "spans": [{"start": 0, "end": r["text"].index(" "), "label": lab} for lab in r["labels"]]} for r in records]
    got = retrain(marked, taxonomy=tax, base="none", cv=2, holdout=0)
    rows = got.model.card["estimator"]["contrast_rows"]
    assert rows and set(rows) <= {lab for r in records for lab in r["labels"]}
    line = next(x for x in got.summary().splitlines() if x.startswith("highlighted spans trained as contrast rows: "))
    assert all(f"{cat} {n:,}" in line for cat, n in rows.items())
