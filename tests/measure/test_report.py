"""slant.measure.report and plots: JSON, CSV, Markdown, self-contained HTML with escaped values,
a forest plot per category, a line over time for a date field, the methods paragraph."""

import csv
import io
import json
import re

import numpy as np
import pytest

from slant.measure.core import measure_files
from slant.measure.methods import methods_paragraph
from slant.measure.report import render

EVIL = "<script>alert('x')</script>&"


@pytest.fixture(scope="module")
def evil_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evil")
    rng = np.random.default_rng(0)
    preds, audit = tmp / "p.jsonl", tmp / "a.jsonl"
    with preds.open("w", encoding="utf-8") as fh, audit.open("w", encoding="utf-8") as fa:
        for i in range(400):
            truth = bool(rng.random() < 0.3)
            score = float(np.clip(0.5 * truth + rng.random() * 0.5, 0, 1))
            outlet = EVIL if i % 2 else "Plain"
            fh.write(json.dumps({"doc_id": f"d{i}", "sentence_index": 0, "labels": ["loaded_language"] * (score > 0.5),
                                 "scores": {"loaded_language": score}, "outlet": outlet,
                                 "date": f"2024-0{1 + i % 3}-15", "model_version": "m<1>"}) + "\n")
            if i % 4 == 0:
                fa.write(json.dumps({"id": f"r{i}", "doc_id": f"d{i}", "sentence_index": 0, "text": "t",
                                     "labels": ["loaded_language"] * truth, "audit": {"p": 0.25, "stratum": ""},
                                     "annotations": [{"annotator": "a@x", "labels": []}]}) + "\n")
    return measure_files(preds, audit, by=["outlet", "date"])


def test_html_is_self_contained_and_escaped(evil_report):
    page = render(evil_report, "html")
    assert "<script" not in page.replace("&lt;script", "")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;" in page
    assert "m&lt;1&gt;" in page
    assert page.count("<svg") == 2   # forest plot + the line over months for the one category
    assert not re.search(r"(src|href)=[\"']?https?:", page)
    assert "Angelopoulos" in page and "Science" in page and "PPI++" in page


def test_markdown_csv_and_json(evil_report):
    md = render(evil_report, "md")
    assert "## loaded_language" in md and "| all sentences | PPI++ |" in md and "## Methods" in md
    rows = list(csv.DictReader(io.StringIO(render(evil_report, "csv"))))
    assert {r["table"] for r in rows} == {"estimate", "difference"}
    assert sum(r["table"] == "estimate" for r in rows) == len(evil_report["estimates"])
    assert json.loads(render(evil_report, "json"))["estimates"] == evil_report["estimates"]


def test_methods_paragraph(evil_report):
    text = methods_paragraph(evil_report)
    assert "400 sentences" in text and "simple random sample of 100 sentences" in text
    assert "m<1>" in text and "Angelopoulos et al., 2023" in text
    assert "coded once" in text


def test_small_groups_are_marked(evil_report, population, corpus_dir, tmp_path):
    rows = list(np.flatnonzero(population.outlet == "Ledger")[:4]) + list(np.flatnonzero(population.outlet != "Ledger")[:100])
    report = measure_files(corpus_dir, population.audit(tmp_path / "a.jsonl", rows, 0.04), by=["outlet"])
    md = render(report, "md")
    assert "**only 4 audited sentences (fewer than 10)" in md
    assert "class=\"warn\"" in render(report, "html")
