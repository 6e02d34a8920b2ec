"""Training on records (slant.model.fit), and `slant train` / `slant evaluate` on them through the CLI."""

import json
import re

import pytest
from jsonschema import Draft202012Validator

from slant._files import schema
from slant.cli.main import main
from slant.errors import DataError, ModelError
from slant.model.fit import train_model

TINY_IDS = ["loaded_language", "attribution_vague", "omission"]


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
    assert "cross-validation needs at least 2 documents and --cv 2 or more; got 1 document, cv=3" in capsys.readouterr().err


