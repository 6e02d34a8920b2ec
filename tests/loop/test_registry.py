"""The model registry (slant.loop.registry): versions, promotion stack, history, errors."""

import json

import pytest

from slant.errors import ModelError
from slant.loop.registry import Registry
from slant.loop.train import (
    retrain,
    rollback,
)


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


def test_latest_is_the_version_registered_last_within_one_second(tmp_path, tax, reviewed):

    from slant.model.card import CARD_FILE

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


def test_promote_rollback_and_history_on_a_tmp_dir(tmp_path, tax, reviewed):
    registry = Registry(tmp_path / "models")
    a = retrain(reviewed(n_docs=6, per_doc=6, seed=21), taxonomy=tax, registry=registry, base="none", cv=2).version
    b = retrain(reviewed(n_docs=6, per_doc=6, seed=22), taxonomy=tax, registry=registry, base="none", cv=2).version
    assert [v.version for v in registry.versions()] == [a, b] and registry.resolve("latest") == b
    # each version directory is complete, and no temporary directory or file is left behind
    for v in (a, b):
        assert sorted(p.name for p in (tmp_path / "models" / v).iterdir()) == ["model-card.json", "model.skops", "records.jsonl.gz"]
    assert not [p.name for p in (tmp_path / "models").iterdir() if p.name.startswith(".") and p.name != ".lock"]
    splits = {r["split"] for r in registry.records(a)}
    assert splits <= {"train", "heldout"} and registry.records(a, "train")
    assert registry.set_current(a) == a and registry.set_current(b, forced=True) == b
    assert registry.current_version() == b and [v.current for v in registry.versions()] == [False, True]
    assert registry.pop_current() == a and registry.current_version() == a
    assert rollback(registry) is None and registry.current_version() is None
    events = [(e["event"], e.get("version") or e.get("from")) for e in registry.history()]
    assert events == [("train", a), ("train", b), ("promote", a), ("promote", b), ("rollback", b), ("rollback", a)]
    assert json.loads((tmp_path / "models" / "state.json").read_text())["promoted"] == []
    assert registry.load("latest", tax).model_version == b


def test_adding_an_existing_version_keeps_the_stored_one(tmp_path, tax, reviewed):
    registry = Registry(tmp_path / "models")
    result = retrain(reviewed(n_docs=5, per_doc=6, seed=23), taxonomy=tax, registry=registry, base="none", cv=2)
    card = tmp_path / "models" / result.version / "model-card.json"
    before = card.read_bytes()
    assert registry.add(result.model, []) == result.version
    assert card.read_bytes() == before and len(registry.records(result.version)) > 0
    assert [e["event"] for e in registry.history()] == ["train"]
    with pytest.raises(ModelError, match=r"model version 'nope' is not in the registry .*known versions: " + result.version):
        registry.resolve("nope")


def test_prune_keeps_promoted_versions_and_the_newest_others(tmp_path, tax, reviewed):
    from slant.cli.main import main

    root = tmp_path / "models"
    registry = Registry(root)
    # each retrain prunes to `keep` unpromoted versions: promoted ones always stay
    a = retrain(reviewed(n_docs=6, per_doc=6, seed=31), taxonomy=tax, registry=registry, base="none", cv=2, keep=1).version
    registry.set_current(a, forced=True)
    b = retrain(reviewed(n_docs=6, per_doc=6, seed=32), taxonomy=tax, registry=registry, base="none", cv=2, keep=1).version
    c = retrain(reviewed(n_docs=6, per_doc=6, seed=33), taxonomy=tax, registry=registry, base="none", cv=2, keep=1).version
    assert [v.version for v in registry.versions()] == [a, c]
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted([a, c])  # nothing half-removed is left
    assert registry.history()[-1]["event"] == "prune" and registry.history()[-1]["versions"] == [b]
    assert registry.load(a, tax).model_version == a and rollback(registry) is None
    # `slant models prune`: after the rollback nothing is promoted, so only the newest stays
    assert main(["models", "prune", "--keep", "1", "--models", str(root)]) == 0
    assert [v.version for v in registry.versions()] == [c]
    assert main(["models", "prune", "--models", str(root)]) == 0
    with pytest.raises(ModelError, match=r"--keep -1: must be 0 or more"):
        registry.prune(-1)
