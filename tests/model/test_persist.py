"""Saving and loading model directories: round trip and every refusal."""

import json

import pytest

from slant.errors import ModelError
from slant.model.persist import TRUSTED_TYPES, save_model
from slant.model.seed import load_model
from slant.model.slantmodel import SlantModel
from slant.taxonomy.core import load_taxonomy


def test_save_load_roundtrip(tiny_model, tiny_tax, tmp_path, explain_texts):
    path = save_model(tiny_model, tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == ["model-card.json", "model.skops"]
    loaded = load_model(path, taxonomy=tiny_tax)
    assert isinstance(loaded, SlantModel) and loaded.model_version == tiny_model.model_version
    a, b = tiny_model.predict(explain_texts), loaded.predict(explain_texts)
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
    with pytest.raises(ModelError, match=r"refusing to load untrusted types [\w.]*test_persist\.NotASlantModel; only slant models are loaded"):
        load_model(path, taxonomy=tiny_tax)
    assert not any(t.endswith("NotASlantModel") for t in TRUSTED_TYPES)


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
