"""Pins what users see: `slant analyze --format jsonl` on the bundled sample article gives
the bytes recorded before the package was restructured (tests/golden/), and a model file
written by the 0.1.0 layout still loads and predicts the same."""

import json
import re
from pathlib import Path

from slant._files import sample_article_path
from slant.cli.main import main
from slant.model.seed import load_model
from slant.taxonomy.core import load_taxonomy

HERE = Path(__file__).parent
# The default model's version is a hash of its code and data, so it changes with any edit
# of the model package; every other byte must stay the same.
_VERSION = re.compile(rb'"model_version":"[^"]*"')


def test_analyze_jsonl_of_the_sample_article_is_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "a.jsonl"
    assert main(["analyze", str(sample_article_path()), "--format", "jsonl", "-o", str(out)]) == 0
    got = _VERSION.sub(b'"model_version":"-"', out.read_bytes())
    want = _VERSION.sub(b'"model_version":"-"', (HERE / "golden" / "harbor-bridge.jsonl").read_bytes())
    assert got.count(b"\n") == 78
    assert got == want


def test_a_model_saved_by_the_0_1_layout_loads_and_predicts_the_same():
    root = HERE / "fixtures" / "legacy-model-0.1"
    assert b"slant.classifier" in (root / "model.skops").read_bytes() or "slant.classifier" in (root / "model-card.json").read_text()
    expected = json.loads((root / "expected.json").read_text())
    model = load_model(root, taxonomy=load_taxonomy())
    got = [{"labels": p.labels, "scores": {k: round(float(v), 6) for k, v in p.scores.items()}}
           for p in model.predict(expected["texts"], explain=False)]
    assert got == expected["predictions"]
