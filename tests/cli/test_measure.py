"""`slant measure`: formats, --plan, and one clear message (exit 1, no traceback) per bad input."""

import json

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from slant._files import schema
from slant.cli.main import main


@pytest.mark.parametrize("fmt", ["json", "csv", "md", "html"])
def test_formats(corpus_dir, uniform_audit, tmp_path, fmt, capsys):
    out = tmp_path / f"report.{fmt}"
    assert main(["measure", str(corpus_dir), "--audit", str(uniform_audit), "--by", "outlet", "--format", fmt,
                 "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        Draft202012Validator(schema("measure")).validate(json.loads(text))
    assert "loaded_language" in text


def test_plan(corpus_dir, uniform_audit, capsys):
    assert main(["measure", str(corpus_dir), "--audit", str(uniform_audit), "--plan", "--width", "0.04",
                 "--category", "attribution_vague"]) == 0
    out = capsys.readouterr().out
    assert "Audit sentences needed for a 95% interval 4.0 points wide" in out and "Assumptions:" in out
    assert main(["measure", str(corpus_dir), "--audit", str(uniform_audit), "--plan"]) == 1
    assert "pass --width W" in capsys.readouterr().err


def test_confidence_and_categories(corpus_dir, uniform_audit, tmp_path):
    out = tmp_path / "r.json"
    assert main(["measure", str(corpus_dir), "--audit", str(uniform_audit), "--category", "attribution_vague",
                 "--confidence", "0.9", "--format", "json", "-o", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["settings"]["confidence"] == 0.9 and {r["category"] for r in report["estimates"]} == {"attribution_vague"}


def _bad(population, tmp_path):
    no_overlap = tmp_path / "elsewhere.jsonl"
    no_overlap.write_text(json.dumps({"id": "x", "doc_id": "other", "text": "t", "labels": [], "sentence_index": 0,
                                      "audit": {"p": 0.1, "stratum": ""}}) + "\n", encoding="utf-8")
    return {
        "no-overlap": (["--audit", str(no_overlap)], "none of its 1 audit records matches a prediction row"),
        "unknown-category": (["--category", "spin"], "--category spin: not a category of the predictions"),
        "no-p": (["--audit", str(population.audit(tmp_path / "u.jsonl", [1, 2], 0.1, mark=False))],
                 "no record carries an audit mark"),
        "missing-audit": ([], "pass --audit REVIEWED.jsonl"),
        "bad-confidence": (["--confidence", "95"], "--confidence 95.0: must be between 0 and 1"),
        "missing-field": (["--by", "section"], "--by section: not a column"),
    }


@pytest.mark.parametrize("case", ["no-overlap", "unknown-category", "no-p", "missing-audit", "bad-confidence",
                                  "missing-field"])
def test_bad_input_one_message(population, corpus_dir, uniform_audit, tmp_path, capsys, case):
    args, message = _bad(population, tmp_path)[case]
    if "--audit" not in args and case != "missing-audit":
        args = ["--audit", str(uniform_audit), *args]
    assert main(["measure", str(corpus_dir), *args]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("error:") == 1


def test_assume_uniform_and_small_group_note(population, corpus_dir, tmp_path, capsys):
    rows = list(np.flatnonzero(population.outlet == "Ledger")[:5]) + list(np.flatnonzero(population.outlet != "Ledger")[:60])
    path = population.audit(tmp_path / "u.jsonl", rows, 0.1, mark=False)
    assert main(["measure", str(corpus_dir), "--audit", str(path), "--assume-uniform", "--by", "outlet"]) == 0
    cap = capsys.readouterr()
    assert "assumed uniform" in cap.err and "rows carry a warning" in cap.err
    assert "only 5 audited sentences" in cap.out
