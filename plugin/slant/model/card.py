"""The model card: what a model was trained on, how, and how well (validated against
schemas/model-card.schema.json), and the names of the files a model directory holds."""

import hashlib
import json
import platform
from datetime import datetime, timezone
from importlib import metadata

import numpy as np
import orjson
from jsonschema import Draft202012Validator

from slant._files import schema
from slant._version import __version__
from slant.errors import ModelError
from slant.model.metrics import prf

__all__ = ["CARD_FILE", "ENCODER_FILE", "MODEL_FILE", "check_card", "make_card"]

MODEL_FILE = "model.skops"
CARD_FILE = "model-card.json"
ENCODER_FILE = "encoder.safetensors"  # fine-tuned encoder weights (`encoder="minilm"` models only)


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
    p, r, f = prf(tp, fp, fn)
    scored = [c for c in cats.values() if c["support"] > 0]
    macro = {k: round(float(np.mean([c[k] for c in scored])) if scored else 0.0, 4) for k in ("precision", "recall", "f1")}
    off = est.off_
    return {
        "folds": int(est.n_splits_),
        "note": "out-of-fold predictions; thresholds are tuned on the same predictions"
                + ("; not_predicted: categories whose out-of-fold precision never reached the model's "
                   "min_precision, so the model never ticks them (annotators label them unaided)" if off else ""),
        **({"not_predicted": off} if off else {}),
        "categories": cats,
        "micro": {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)},
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


def check_card(card, where):
    errors = sorted(Draft202012Validator(schema("model-card")).iter_errors(card), key=lambda e: list(map(str, e.path)))
    if errors:
        e = errors[0]
        loc = "/".join(map(str, e.absolute_path)) or "(top level)"
        raise ModelError(f"model card {where}: {loc}: {e.message}; rebuild the model with `slant train` or `slant model build`")
