"""Training: THE one way a `SlantModel` is fitted on records.

`training_set` puts the base sentences (the seed, `slant.model.seed.seed_records`, or
none) and the reviewed sentences together: one group per document (``base:<doc_id>`` and
``rev:<doc_id>``, so cross-validation never splits a document), reviewed sentences weighted
`weight_reviewed`, marked spans for the contrast rows. `train_model` fits the estimator
on it and writes the model card. The default model (`slant.model.seed`), ``slant train``
(`slant.loop.train.retrain`), ``slant evaluate --cv`` and the learning curve all train
through these two functions.

>>> base, files = seed_records(tax)
>>> model = train_model(training_set(reviewed, taxonomy=tax, base=base), taxonomy=tax, files=files, base="seed")
"""

from collections import namedtuple

import numpy as np

from slant.errors import DataError, ModelError
from slant.model.card import make_card
from slant.model.classifier import DEFAULT_PARAMS, SlantClassifier
from slant.model.evidence import valid_span
from slant.model.slantmodel import SlantModel

__all__ = ["TrainingSet", "fit_estimator", "prepare_records", "record_spans", "train_model", "training_set"]

TrainingSet = namedtuple("TrainingSet", "records texts labels groups weights")
TrainingSet.__doc__ = """Sentences to train on, base first: the records, their texts, label lists, document
groups and per-sentence weights (a numpy array)."""


def prepare_records(records, taxonomy):
    """``(texts, labels, groups)`` of `records`, labels migrated to `taxonomy`.

    Raises `DataError` naming the record for a missing text, labels that are not a list,
    a label the taxonomy (and its migrations) does not know, or no records at all.
    """
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


def training_set(reviewed, *, taxonomy, base=(), weight_reviewed=1.0):
    """The `TrainingSet` of `base` records (weight 1, e.g. the seed) and `reviewed` records
    (weight `weight_reviewed`), each checked by `prepare_records`."""
    base, reviewed = list(base), list(reviewed)
    records = base + reviewed
    texts, labels, _ = prepare_records(records, taxonomy)
    groups = [f"{'base' if i < len(base) else 'rev'}:{r.get('doc_id', r.get('id', i))}" for i, r in enumerate(records)]
    weights = np.r_[np.ones(len(base)), np.full(len(reviewed), float(weight_reviewed))]
    return TrainingSet(records, texts, labels, groups, weights)


def fit_estimator(data, *, taxonomy, cv=5, params=None, n_jobs=None):
    """A `SlantClassifier` fitted on the `TrainingSet` `data`; `params` override estimator
    parameters. Sample weights are used only when some sentence weighs other than 1."""
    est = SlantClassifier(classes=taxonomy.ids, cv=cv, **{"n_jobs": n_jobs, **DEFAULT_PARAMS, **(params or {})})
    weights = None if np.all(data.weights == 1) else data.weights
    return est.fit(data.texts, data.labels, groups=data.groups, sample_weight=weights,
                   spans=record_spans(data.records, taxonomy))


def train_model(data, *, taxonomy, cv=5, params=None, n_jobs=None, files=(), base="none", version_prefix="trained"):
    """Fit a `SlantModel` on `data`: a `TrainingSet`, or reviewed records (dicts with text,
    labels, doc_id) to train on alone.

    `files` (``[{"path", "sentences", ...}]``, the base's first) and `base` (``"seed"``,
    ``"none"``) go into the model card; cross-validation (`cv` folds) is grouped by document.
    """
    if base not in ("seed", "none"):
        raise ModelError(f"base {base!r} is not known; use 'seed' or 'none'")
    if not isinstance(data, TrainingSet):
        data = training_set(data, taxonomy=taxonomy)
    est = fit_estimator(data, taxonomy=taxonomy, cv=cv, params=params, n_jobs=n_jobs)
    card = make_card(est, taxonomy=taxonomy, texts=data.texts, labels=data.labels, groups=data.groups,
                     files=list(files), version_prefix=version_prefix, base=base)
    return SlantModel(est, card, taxonomy)
