"""The promotion gate (slant.loop.gate): refusals, the category rule, force and rollback."""

import random

import pytest

from slant.cli.main import main
from slant.errors import ModelError
from slant.loop.gate import compare_models, gate_records
from slant.loop.registry import Registry
from slant.loop.train import (
    promote,
    retrain,
    rollback,
)


def test_gate_refuses_corrupted_labels_unless_forced_and_rolls_back(tmp_path, tax, capsys, reviewed, corrupt):
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


def test_gate_category_rule_and_tolerance(tmp_path, tax, reviewed):
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


def test_gate_without_heldout_refuses(tmp_path, tax, reviewed):
    registry = Registry(tmp_path / "models")
    result = retrain(reviewed(n_docs=6, per_doc=6), taxonomy=tax, registry=registry, base="none", cv=2, holdout=0)
    gate = promote(registry, result.version, taxonomy=tax)
    assert not gate.promoted and "no held-out reviewed sentence" in gate.reasons[0]


class _Fixed:
    """A stand-in model that predicts a fixed 0/1 matrix (rows in the order asked)."""

    def __init__(self, taxonomy, rows, version="fixed"):
        import numpy as np

        self.taxonomy, self.model_version = taxonomy, version
        self._rows = {text: np.array(row, dtype=bool) for text, row in rows.items()}
        self.estimator = self
        self.classes_ = list(taxonomy.ids)

    def predict_explain(self, texts, explain=False):
        import numpy as np

        chosen = np.array([self._rows[t] for t in texts])
        return chosen.astype(float), chosen, None


def _gold_records(tax, n_pos, n_neg, cat):
    recs = [{"id": f"p{i}", "doc_id": "d", "text": f"positive {i}", "labels": [cat]} for i in range(n_pos)]
    return recs + [{"id": f"n{i}", "doc_id": "d", "text": f"negative {i}", "labels": []} for i in range(n_neg)]


def _row(tax, cats):
    return [c in cats for c in tax.ids]


def test_compare_models_decisions(tax):
    cat = tax.ids[0]
    records = _gold_records(tax, 20, 20, cat)
    perfect = _Fixed(tax, {r["text"]: _row(tax, r["labels"]) for r in records})
    # misses half the positives: F1 0.667 on the category, a drop of 0.333
    half = _Fixed(tax, {r["text"]: _row(tax, r["labels"] if r["id"] < "p10" or r["id"].startswith("n") else []) for r in records})
    table, macro, reasons = compare_models(perfect, perfect, records)
    assert reasons == [] and macro["change"] == 0 and not macro["failed"]
    table, macro, reasons = compare_models(half, perfect, records)
    row = next(r for r in table if r["category"] == cat)
    assert row["positives"] == 20 and row["checked"] and row["failed"] and row["current_f1"] == 1.0
    assert macro["failed"] and reasons[0].startswith("macro F1 falls from 1.000 to 0.")
    assert any(r.startswith(f"{cat} F1 falls from 1.000 to 0.") for r in reasons)
    # better is never refused; with fewer positives than min_positives the category is only counted in macro
    assert compare_models(perfect, half, records)[2] == []
    table, macro, reasons = compare_models(half, perfect, records, tolerance=1.0, min_positives=21)
    assert reasons == [] and not next(r for r in table if r["category"] == cat)["checked"]


def _shuffled(records, seed=7):
    """Every record's labels shuffled among the records, held-out documents included."""
    labels = [r["labels"] for r in records]
    random.Random(seed).shuffle(labels)
    return [{**r, "labels": labs} for r, labs in zip(records, labels)]


def test_a_first_model_trained_on_shuffled_labels_is_refused(tmp_path, tax, reviewed):
    """The issue's case: no promoted model yet, the candidate's own held-out labels are
    shuffled too, so the default model looks no better on them; the chance rule refuses."""
    registry = Registry(tmp_path / "models")
    bad = retrain(_shuffled(reviewed(n_docs=40, per_doc=12, seed=5)), taxonomy=tax, registry=registry, base="seed", cv=2)
    cv = registry.card(bad.version)["reviewed_cv"]
    assert cv["sentences"] > 300 and cv["macro_f1"] - cv["macro_chance_f1"] < 0.05
    gate = promote(registry, bad.version, taxonomy=tax)
    assert not gate.promoted and registry.current_version() is None
    assert any("blind guessing" in why for why in gate.reasons), gate.reasons
    assert promote(registry, bad.version, taxonomy=tax, force=True).promoted


def test_a_model_trained_on_real_labels_is_not_called_chance(tmp_path, tax, reviewed):
    registry = Registry(tmp_path / "models")
    good = retrain(reviewed(n_docs=40, per_doc=12, seed=5), taxonomy=tax, registry=registry, base="none", cv=2)
    cv = registry.card(good.version)["reviewed_cv"]
    assert cv["macro_f1"] - cv["macro_chance_f1"] > 0.2, cv
    gate = promote(registry, good.version, taxonomy=tax)
    assert not [why for why in gate.reasons if "blind guessing" in why], gate.reasons


def test_the_gate_keeps_the_labels_a_sentence_had_when_first_held_out(tmp_path, tax, reviewed):
    """The frozen evaluation set: relabelling held-out documents in a later round (here:
    shuffling them) does not change what the gate grades on."""
    registry = Registry(tmp_path / "models")
    clean = reviewed(n_docs=40, per_doc=12, seed=3)
    first = retrain(clean, taxonomy=tax, registry=registry, base="none", cv=2)
    later = retrain(_shuffled(clean), taxonomy=tax, registry=registry, base="none", cv=2)
    records = gate_records(registry, later.version, first.version)
    held = {r["id"]: r["labels"] for r in clean}
    assert records and all(r["labels"] == held[r["id"]] for r in records)
