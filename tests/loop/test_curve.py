"""The learning curve (slant.loop.curve) and `slant curve`."""

import json

import pytest

from slant.cli.main import main
from slant.errors import DataError
from slant.loop.curve import learning_curve, plot_curve, render_curve


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_learning_curve(tmp_path, tax, reviewed):
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


def test_learning_curve_bad_input(tax, reviewed):
    with pytest.raises(DataError, match="needs reviewed sentences from at least 2 documents"):
        learning_curve(reviewed(n_docs=1, per_doc=4), taxonomy=tax, base="none", cv=2)
    with pytest.raises(DataError, match=r"shares \[0.0, 1.0\]: each must be in \(0, 1\]"):
        learning_curve(reviewed(n_docs=3, per_doc=4), taxonomy=tax, base="none", fractions=(0, 1))


def test_cli_curve_and_plot(tmp_path, capsys, reviewed):
    data = _write(tmp_path / "reviewed.jsonl", reviewed(n_docs=8, per_doc=6, seed=8))
    plot = tmp_path / "out" / "curve.png"
    assert main(["train", str(data), "--base", "none", "--cv", "2", "--curve", "--plot", str(plot),
                 "--models", str(tmp_path / "m")]) == 0
    assert "learning curve:" in capsys.readouterr().out and plot.is_file()
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())
