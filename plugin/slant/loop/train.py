"""Retraining from reviewed labels: held-out split, promotion gate, learning curve.

The loop: ``slant pull`` writes reviewed records -> `retrain` fits a new model version and
registers it -> `promote` runs the gate against the current model -> ``slant push
--refresh`` puts the promoted model's predictions on the tasks nobody has annotated yet.

API (used by ``cli.py`` and by the live ML backend in ``server.py``)::

    from slant.loop.train import Registry, retrain, promote, rollback, retrain_and_maybe_promote

    registry = Registry(root)                 # an explicit directory; cli.py resolves
                                              # --models / $XDG_DATA_HOME/slant/models
    registry.versions()                       # [VersionInfo(version, created_at, sentences,
                                              #   documents, macro_f1, base, promoted)], oldest first
    registry.current_version()                # promoted version id, or None (= default seed model)
    registry.current_model(taxonomy, cache_dir=None)   # SlantModel: promoted, else the default
    registry.load(version, taxonomy)          # SlantModel of a registered version ("latest" ok)
    registry.card(version)                    # its model card (dict)

    result = retrain(records, taxonomy=tax, registry=registry, base="seed",
                     weight_reviewed=1.0, cv=5, files=None)
    result.version, result.model, result.excluded   # TrainResult; the version is registered,
                                                    # not promoted
    gate = promote(registry, "latest", taxonomy=tax, force=False, tolerance=0.01)
    gate.promoted, gate.version, gate.table, gate.reasons, gate.format()
    rollback(registry)                        # -> the version now current (None = default)

    out = retrain_and_maybe_promote(records, registry=registry, taxonomy=tax,
                                    base="seed", weight_reviewed=1.0, cv=5, tolerance=0.01)
    out.promoted (bool), out.version, out.table, out.reasons, out.train (TrainResult)

`records` are reviewed-record dicts (``slant.records.reviewed.load_reviewed`` / ``iter_reviewed``).
Only adjudicated records train (see `adjudicated`); labels the taxonomy does not know
are migrated through its ``migrations`` by the loader or the record is left out and
counted in ``result.excluded``. All functions raise `SlantError` subclasses; none exits.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from slant._files import sha256_file
from slant._version import __version__
from slant._words import counted
from slant.errors import DataError, ModelError
from slant.loop.gate import TOLERANCE, GateResult, compare_models, promote, rollback
from slant.loop.registry import KEEP_VERSIONS, Registry
from slant.model.fit import train_model, training_set
from slant.model.metrics import binary_scores, chance_f1
from slant.model.seed import seed_records
from slant.model.slantmodel import SlantModel

__all__ = [
    "ADJUDICATED_POLICIES",
    "GateResult",
    "Registry",
    "RetrainResult",
    "TrainResult",
    "adjudicated",
    "base_records",
    "compare_models",
    "heldout_documents",
    "promote",
    "retrain",
    "retrain_and_maybe_promote",
    "retrain_files",
    "rollback",
    "usable_records",
]

# Policies that produce adjudicated labels: `slant pull`'s (majority, unanimous,
# ground-truth, any), the live ML backend's ("latest": a task's newest answer) and those of
# imported or hand-written data.
ADJUDICATED_POLICIES = frozenset({"majority", "unanimous", "ground-truth", "any", "adjudicated", "latest", "given", "import", "seed"})
HOLDOUT = 0.2
_HOLDOUT_RULE = "documents whose sha256('slant-heldout:' + doc_id) maps below the fraction; stable across versions"


# --- which records train ------------------------------------------------------------------

def adjudicated(record):
    """``(True, "")`` when `record`'s labels are an adjudicated decision, else ``(False, why)``.

    A record trains when its ``policy`` is one of `ADJUDICATED_POLICIES`, it is not
    flagged ``adjudicated: false`` (a pull that found no decision), and a record pulled
    from Label Studio (``task_id`` set) has at least one annotation: a task nobody
    annotated has no reviewed labels, only the model's.
    """
    if record.get("adjudicated") is False:
        return False, "no adjudicated decision"
    policy = record.get("policy") or "given"
    if policy not in ADJUDICATED_POLICIES:
        return False, f"policy {policy!r}"
    if record.get("task_id") is not None and not record.get("annotations") and policy != "ground-truth":
        return False, "no annotations"
    return True, ""


def usable_records(records, taxonomy):
    """``(kept, excluded)``: adjudicated records with known labels, and why others were left out.

    Labels were migrated by the loader (``load_reviewed``); they are migrated again here
    for records built in code. A record with a label neither the taxonomy nor its
    migrations know is left out (its labels would be incomplete): ``excluded`` counts
    reasons, and ``excluded["unknown labels"]`` counts the labels by name.
    """
    kept, reasons, unknown = [], Counter(), Counter()
    for r in records:
        ok, why = adjudicated(r)
        if not ok:
            reasons[why] += 1
            continue
        labels, missing = taxonomy.migrate_labels(r.get("labels") or [])
        missing = sorted(set(missing) | set(r.get("unknown_labels") or []))
        if missing:
            reasons["unknown labels"] += 1
            unknown.update(missing)
            continue
        kept.append({**r, "labels": labels})
    excluded = dict(reasons)
    if unknown:
        excluded["unknown label names"] = dict(unknown.most_common())
    return kept, excluded


def _doc_score(doc_id):
    digest = hashlib.sha256(f"slant-heldout:{doc_id}".encode()).hexdigest()
    return int(digest[:12], 16) / float(1 << 48)


def heldout_documents(doc_ids, fraction=HOLDOUT):
    """The documents kept out of training for the promotion gate.

    A document is held out when the hash of its id falls below `fraction`, so the same
    documents stay held out in every version (a model never trains on the documents
    that judge it). With at least two documents and ``fraction > 0`` one is held out
    at least, and one is always left to train on.
    """
    docs = sorted(set(map(str, doc_ids)))
    if fraction <= 0 or len(docs) < 2:
        return set()
    if fraction >= 1:
        raise DataError(f"--holdout {fraction}: the held-out share must be below 1 (e.g. 0.2)")
    ranked = sorted(docs, key=_doc_score)
    held = {d for d in docs if _doc_score(d) < fraction} or {ranked[0]}
    if len(held) == len(docs):
        held.discard(ranked[-1])
    return held


# --- training -----------------------------------------------------------------------------

@dataclass
class TrainResult:
    version: str
    model: SlantModel
    excluded: dict            # reason -> count (see `usable_records`)
    reviewed: int             # reviewed sentences trained on
    heldout: int              # reviewed sentences kept for the gate
    heldout_documents: int
    base: str                 # "seed", "none" or the version extended

    def summary(self):
        card = self.model.card
        cv = card["cv"]
        held = (f"held out {counted(self.heldout, 'reviewed sentence')} from {counted(self.heldout_documents, 'document')} for the promotion gate"
                if self.heldout else "no held-out split (the promotion gate needs one)")
        lines = [
            f"trained {self.version} on {counted(card['training_data']['sentences'], 'sentence')} "
            f"({self.reviewed} reviewed, base {self.base}); {held}",
            f"cross-validated ({cv['folds']} folds by document): macro F1 {cv['macro']['f1']:.3f}, micro F1 {cv['micro']['f1']:.3f}",
        ]
        contrast = card["estimator"].get("contrast_rows") or {}
        if contrast:
            lines.append("highlighted spans trained as contrast rows: "
                         + ", ".join(f"{cat} {n:,}" for cat, n in contrast.items()))
        for why, n in self.excluded.items():
            if why == "unknown label names":
                names = ", ".join(f"{k} ({v})" for k, v in n.items())
                lines.append(f"left out: labels the taxonomy does not know: {names}; add migrations to the taxonomy or fix the labels")
            else:
                lines.append(f"left out: {counted(n, 'record')} ({why})")
        return "\n".join(lines)


def base_records(base, taxonomy, registry):
    """``(base records, files, effective base, extended version, earlier reviewed records)``
    for `base` ("none", "seed" or a registered version, see `retrain`)."""
    if base in (None, "none"):
        return [], [], "none", None, []
    if base == "seed":
        return (*seed_records(taxonomy), "seed", None, [])
    if registry is None:
        raise ModelError(f"--base {base!r}: a model version needs the model registry; pass --models DIR or use 'seed' or 'none'")
    version = registry.resolve(base)
    card = registry.card(version)
    records, files, effective, _, _ = base_records(card["training_data"].get("base", "none"), taxonomy, registry)
    earlier = [r for r in registry.records(version)]
    return records, files, effective, version, earlier


def _version_key(texts, labels, groups, weights, taxonomy, extra):
    h = hashlib.sha256()
    for t, labs, g, w in zip(texts, labels, groups, weights):
        h.update(orjson.dumps([g, t, labs, round(float(w), 6)]))
    h.update(json.dumps([taxonomy.hash, __version__, extra], sort_keys=True).encode())
    return h.hexdigest()


def reviewed_cv(est, data, taxonomy, min_positives=5):
    """The candidate's out-of-fold decisions on its reviewed training sentences only (the
    seed part of a model is learnable whatever the reviewed labels say), with the F1 that
    predictions at the same rates but blind to the sentences would get. Categories with
    fewer than `min_positives` reviewed positives are left out of the macro averages."""
    rows = np.array([g.startswith("rev:") for g in data.groups], dtype=bool)
    pred = getattr(est, "cv_pred_", None)
    out = {"sentences": int(rows.sum()), "macro_f1": 0.0, "macro_chance_f1": 0.0, "categories": {}}
    if pred is None or not rows.any():
        return out
    pred = pred[rows]
    gold = np.array([[cid in set(labs) for cid in taxonomy.ids] for labs, r in zip(data.labels, rows) if r], dtype=bool)
    f1s, chances = [], []
    for j, cid in enumerate(taxonomy.ids):
        pos = int(gold[:, j].sum())
        f1 = binary_scores(pred[:, j], gold[:, j])["f1"]
        chance = chance_f1(pred[:, j], gold[:, j])
        out["categories"][cid] = {"positives": pos, "f1": round(f1, 4), "chance_f1": round(chance, 4)}
        if pos >= min_positives:
            f1s.append(f1)
            chances.append(chance)
    if f1s:
        out["macro_f1"], out["macro_chance_f1"] = round(float(np.mean(f1s)), 4), round(float(np.mean(chances)), 4)
    return out


def retrain(records, *, taxonomy, registry=None, base="seed", weight_reviewed=1.0, cv=5, holdout=HOLDOUT,
            files=None, params=None, keep=KEEP_VERSIONS):
    """Train a new model version on adjudicated reviewed `records` and register it.

    - `base`: ``"seed"`` adds the seed sentences (weight 1, reviewed sentences weigh
      `weight_reviewed`); ``"none"`` trains on reviewed sentences only; a registered
      version (or ``"latest"``) continues from that version: its reviewed sentences plus
      `records` (a record with the same id replaces the earlier one), on its base.
    - documents chosen by `heldout_documents` are kept out of training and stored with
      the version, for the promotion gate.
    - `files`: ``[{"path", "sentences", "sha256"}]`` of the reviewed files, for the card.
    - `keep`: after registering, `Registry.prune` keeps the promoted versions and the
      `keep` newest others.

    Returns a `TrainResult`; the version is registered (when `registry` is given) but
    not promoted.
    """
    if cv < 2:
        raise ModelError(f"--cv {cv}: thresholds need at least 2 folds; use --cv 2 or more")
    if not weight_reviewed > 0:
        raise ModelError(f"--weight-reviewed {weight_reviewed}: must be a positive number (1 = same weight as the base)")
    base_recs, base_files, effective, extends, earlier = base_records(base, taxonomy, registry)
    merged = {str(r["id"]): r for r in earlier}
    merged.update((str(r["id"]), r) for r in records)
    reviewed, excluded = usable_records(list(merged.values()), taxonomy)
    if not reviewed:  # a new version on the base alone would only repeat it under a new name
        raise DataError("no adjudicated reviewed sentences to train on"
                        + (f" ({', '.join(f'{v} {k}' for k, v in excluded.items() if k != 'unknown label names')})" if excluded else "")
                        + "; pull reviewed labels with `slant pull --project NAME -o reviewed.jsonl`")
    held_docs = heldout_documents([r["doc_id"] for r in reviewed], holdout)
    train_rev = [r for r in reviewed if str(r["doc_id"]) not in held_docs]
    held_rev = [r for r in reviewed if str(r["doc_id"]) in held_docs]
    if len(base_recs) + len(train_rev) < 2:
        raise DataError(f"only {len(base_recs) + len(train_rev)} sentence left to train on after holding out {len(held_rev)}; "
                        "pull more reviewed documents or pass --holdout 0")
    data = training_set(train_rev, taxonomy=taxonomy, base=base_recs, weight_reviewed=weight_reviewed)
    texts, labels, groups, weights = data.texts, data.labels, data.groups, data.weights
    # n_jobs=-1: the CV folds and the final fit run in forked workers, one per core (the
    # same model as one process; docs/performance.md, Retraining).
    model = train_model(data, taxonomy=taxonomy, cv=cv, params=params, n_jobs=-1, files=list(base_files) + list(files or []),
                        base=effective)
    card = model.card
    card["reviewed_cv"] = reviewed_cv(model.estimator, data, taxonomy)
    key = _version_key(texts, labels, groups, weights, taxonomy,
                       {"base": effective, "extends": extends, "params": card["estimator"]["params"], "held": sorted(held_docs)})
    card["model_version"] = f"trained-{key[:12]}"
    rev_counts = Counter(lab for r in train_rev for lab in r["labels"])
    card["training_data"].update({
        "base": effective,
        "extends": extends,
        "reviewed_sentences": len(train_rev),
        "reviewed_label_counts": {cid: rev_counts.get(cid, 0) for cid in taxonomy.ids},
        "weights": {"base": 1.0, "reviewed": float(weight_reviewed)},
        "adjudication": {
            "rule": "only adjudicated labels train: policy in " + ", ".join(sorted(ADJUDICATED_POLICIES))
                    + "; pulled tasks need an annotation; records with labels the taxonomy does not know are left out",
            "policies": dict(Counter(r.get("policy") or "given" for r in reviewed).most_common()),
        },
        "excluded": excluded,
    })
    held_counts = Counter(lab for r in held_rev for lab in r["labels"])
    card["heldout"] = {
        "fraction": float(holdout),
        "rule": _HOLDOUT_RULE,
        "documents": sorted(held_docs),
        "sentences": len(held_rev),
        "train_sentences": len(train_rev),
        "label_counts": {cid: held_counts.get(cid, 0) for cid in taxonomy.ids},
    }
    if registry is not None:
        stored = [{**r, "split": "train"} for r in train_rev] + [{**r, "split": "heldout"} for r in held_rev]
        registry.add(model, stored)
        registry.prune(keep)  # each retrain adds ~5 MB: keep the promoted versions and the newest `keep`
    return TrainResult(version=card["model_version"], model=model, excluded=excluded, reviewed=len(train_rev),
                       heldout=len(held_rev), heldout_documents=len(held_docs), base=extends or effective)


def retrain_files(paths, *, taxonomy, registry=None, out=None, **kwargs):
    """`slant train`: read reviewed JSONL files, `retrain`, optionally save a copy to `out`."""
    from slant.model.persist import save_model
    from slant.records.reviewed import load_reviewed

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    records, files = [], []
    for p in paths:
        got = load_reviewed([p], taxonomy=taxonomy)
        records.extend(got)
        files.append({"path": str(p), "sentences": len(got), "sha256": sha256_file(p)})
    result = retrain(records, taxonomy=taxonomy, registry=registry, files=files, **kwargs)
    if out is not None:
        save_model(result.model, out)
    return result


# --- retrain and gate in one call (the ML backend) ------------------------------------------

@dataclass
class RetrainResult:
    train: TrainResult
    gate: GateResult

    @property
    def promoted(self):
        return self.gate.promoted

    @property
    def version(self):
        return self.train.version

    @property
    def table(self):
        return self.gate.table

    @property
    def reasons(self):
        return self.gate.reasons

    def summary(self):
        return self.train.summary() + "\n" + self.gate.format()


def retrain_and_maybe_promote(records, *, registry, taxonomy, base="seed", weight_reviewed=1.0, cv=5,
                              holdout=HOLDOUT, tolerance=TOLERANCE, files=None, cache_dir=None, params=None):
    """`retrain` then `promote` without force: the new version serves only if the gate passes."""
    trained = retrain(records, taxonomy=taxonomy, registry=registry, base=base, weight_reviewed=weight_reviewed,
                      cv=cv, holdout=holdout, files=files, params=params)
    gate = promote(registry, trained.version, taxonomy=taxonomy, tolerance=tolerance, cache_dir=cache_dir)
    return RetrainResult(train=trained, gate=gate)
