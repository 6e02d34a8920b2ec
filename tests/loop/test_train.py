"""Retraining: which records train, held-out split, registry, promotion gate, rollback,
learning curve and the `slant train` / `slant models` commands."""

import json

import pytest

from slant.cli.main import main
from slant.errors import DataError, ModelError
from slant.loop.registry import Registry
from slant.loop.train import (
    adjudicated,
    heldout_documents,
    retrain,
    retrain_and_maybe_promote,
    usable_records,
)
from slant.model.seed import load_model
from slant.taxonomy.core import load_taxonomy


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


def test_retrain_registers_a_version_with_a_full_card(tmp_path, tax, reviewed):
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


def test_retrain_on_a_registered_version_adds_its_data(tmp_path, tax, reviewed):
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
def test_retrain_bad_arguments(tmp_path, tax, kwargs, match, reviewed):
    with pytest.raises(ModelError, match=match):
        retrain(reviewed(n_docs=3, per_doc=3), taxonomy=tax, registry=Registry(tmp_path), **{"base": "none", **kwargs})


def test_retrain_without_usable_records(tmp_path, tax, reviewed):
    records = [{"id": 1, "doc_id": "a", "text": "x y", "labels": [], "policy": "unresolved"}]
    with pytest.raises(DataError, match=r"no adjudicated reviewed sentences to train on \(1 policy 'unresolved'\); pull"):
        retrain(records, taxonomy=tax, registry=Registry(tmp_path), base="none")
    unannotated = [{"id": "s1", "doc_id": "a", "text": "x y", "labels": [], "policy": "majority", "adjudicated": False,
                    "task_id": 1, "annotations": []}]
    for base in ("seed", "none"):  # the seed sentences alone are no reason for a new version
        with pytest.raises(DataError, match=r"no adjudicated reviewed sentences to train on \(1 no adjudicated decision\)"):
            retrain(unannotated, taxonomy=tax, registry=Registry(tmp_path), base=base)
        with pytest.raises(DataError, match=r"no adjudicated reviewed sentences"):
            retrain([], taxonomy=tax, registry=Registry(tmp_path), base=base)
    assert Registry(tmp_path).versions() == []
    with pytest.raises(ModelError, match="a model version needs the model registry"):
        retrain(reviewed(n_docs=2, per_doc=2), taxonomy=tax, base="trained-x")


def test_retrain_and_maybe_promote(tmp_path, tax, reviewed):
    registry = Registry(tmp_path / "models")
    out = retrain_and_maybe_promote(reviewed(n_docs=10, per_doc=8, seed=5), registry=registry, taxonomy=tax,
                                    base="none", cv=2)
    assert out.version == out.train.version and out.promoted == (registry.current_version() == out.version)
    assert isinstance(out.table, list) and "held-out reviewed sentences" in out.summary()


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_cli_train_models_promote_rollback(tmp_path, capsys, reviewed):
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


@pytest.mark.parametrize("argv, match", [
    (["models", "promote", "nope"], "model version 'nope' is not in the registry"),
    (["models", "show", "latest"], "holds no versions yet"),
    (["models", "rollback"], "nothing is promoted"),
    (["train", "{data}", "--plot", "x.png"], "--plot OUT.png goes with --curve"),
    (["train", "{data}", "--curve", "--out", "d"], "--curve trains throw-away models and writes none"),
    (["train", "{data}", "--weight-reviewed", "-1"], "--weight-reviewed -1.0: must be a positive number"),
    (["train", "{data}", "--base", "trained-none"], "model version 'trained-none' is not in the registry"),
], ids=["promote-unknown", "show-empty", "rollback-empty", "plot-without-curve", "curve-with-out", "weight", "base"])
def test_cli_errors(tmp_path, capsys, argv, match, reviewed):
    data = _write(tmp_path / "r.jsonl", reviewed(n_docs=2, per_doc=3))
    argv = [a.replace("{data}", str(data)) for a in argv] + ["--models", str(tmp_path / "models")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err and "Traceback" not in err


def test_summary_says_which_categories_trained_contrast_rows(tax, reviewed):
    records = reviewed(n_docs=8, per_doc=8, seed=12)
    plain = retrain(records, taxonomy=tax, base="none", cv=2, holdout=0)
    assert "contrast rows" not in plain.summary() and plain.model.card["estimator"]["contrast_rows"] == {}
    marked = [{**r, "spans": [{"start": 0, "end": r["text"].index(" "), "label": lab} for lab in r["labels"]]} for r in records]
    got = retrain(marked, taxonomy=tax, base="none", cv=2, holdout=0)
    rows = got.model.card["estimator"]["contrast_rows"]
    assert rows and set(rows) <= {lab for r in records for lab in r["labels"]}
    line = next(x for x in got.summary().splitlines() if x.startswith("highlighted spans trained as contrast rows: "))
    assert all(f"{cat} {n:,}" in line for cat, n in rows.items())
