"""Documents → sentences → predictions → Label Studio task JSON.

Nothing here talks to Label Studio; `studio.py` sends what this module builds.

>>> from slant.text.documents import make_document
>>> from slant.taxonomy.core import load_taxonomy
>>> doc = make_document("The council slashed the budget. Critics say it is a scheme.", doc_id="d1")
>>> [task_data(doc, taxonomy=load_taxonomy())[i]["text"] for i in (0, 1)]
['The council slashed the budget.', 'Critics say it is a scheme.']

Offsets: Label Studio's Text tag counts region offsets in Unicode code points (its
frontend converts browser UTF-16 offsets with ``[...text].length``), which is what Python
``str`` indices are; so span offsets go out unchanged, and the browser test checks it with
an emoji before a span.
"""

import hashlib
from dataclasses import dataclass, field

from slant.errors import ModelError
from slant.taxonomy.core import CHOICES_NAME, SPANS_NAME, TEXT_NAME

__all__ = [
    "Batch",
    "iter_batches",
    "prediction_json",
    "slant_id",
    "task_data",
    "tasks_with_predictions",
    "PUSHED_KINDS",
]

# Bylines ("By Jane Doe") carry no rhetoric worth an annotator's time.
PUSHED_KINDS = ("title", "body")


def _content_hash(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def slant_id(content_hash, start, end, taxonomy_id):
    """The idempotency key of one sentence task: document content, offsets, taxonomy.

    The same article pushed twice, under any file name, gives the same ids; another
    taxonomy gives other ids because its labels mean something else.
    """
    key = f"{taxonomy_id}\x1f{content_hash}\x1f{start}\x1f{end}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def task_data(document, *, taxonomy):
    """Task ``data`` dicts for the pushable sentences of one `Document`, in order.

    Context fields hold the neighbouring pushed sentences of the same document ("" at
    the edges): the labeling config requires the keys to exist.
    """
    sentences = [s for s in document.sentences if s.kind in PUSHED_KINDS]
    digest = _content_hash(document.text)
    out = []
    for i, s in enumerate(sentences):
        out.append({
            "text": s.text,
            "context_before": sentences[i - 1].text if i > 0 else "",
            "context_after": sentences[i + 1].text if i + 1 < len(sentences) else "",
            "doc_id": str(document.id),
            "doc_title": document.title or "",
            "sentence_index": s.index,
            "start": s.start,
            "end": s.end,
            "source": document.source or "",
            "slant_id": slant_id(digest, s.start, s.end, taxonomy.id),
        })
    return out


def _score(value):
    return round(min(1.0, max(0.0, float(value))), 4)


# A span weaker than this share of the strongest span of its label is noise to a reviewer.
MIN_RELATIVE_WEIGHT = 0.25


def _clean_spans(text, spans, allowed):
    """Spans whose offsets fit the text, label is allowed, not negligible; deduplicated, sorted.

    The span text is re-read from the offsets so region text and offsets never disagree.
    """
    valid = []
    for span in spans:
        start, end, label = span.get("start"), span.get("end"), span.get("label")
        if label not in allowed or not isinstance(start, int) or not isinstance(end, int):
            continue
        if not 0 <= start < end <= len(text):
            continue
        weight = span.get("weight")
        valid.append((start, end, label, None if weight is None else float(weight)))
    strongest = {}
    for _, _, label, weight in valid:
        if weight is not None:
            strongest[label] = max(strongest.get(label, 0.0), weight)
    kept = {
        (start, end, label) for start, end, label, weight in valid
        if weight is None or (weight > 0 and weight >= MIN_RELATIVE_WEIGHT * strongest[label])
    }
    return sorted(kept)


def prediction_json(prediction, *, text, taxonomy, model_version, key=""):
    """One Label Studio prediction for a sentence from a model `Prediction`.

    - a ``choices`` result ("categories") with the display names of the predicted
      sentence-level categories, scored by their mean probability; left out when none
      is predicted, so an accepted "none of these" annotation carries no empty region;
    - one ``labels`` result ("spans") per explanation span of a predicted span-level
      category (or of a span-only category), scored by that category's probability;
      spans with no positive weight, or under `MIN_RELATIVE_WEIGHT` of their label's
      strongest span, are left out;
    - ``score`` = 1 - uncertainty: Label Studio's uncertainty sampling and the review
      queue order by ascending score, so the least certain sentence comes first.
    """
    scores = prediction.scores or {}
    known, sentence_ids, span_ids = taxonomy.id_sets
    labels = [lab for lab in prediction.labels if lab in known]
    result = []
    chosen = [lab for lab in labels if lab in sentence_ids]
    if chosen:
        result.append({
            "id": f"{key[:8]}c",
            "from_name": CHOICES_NAME,
            "to_name": TEXT_NAME,
            "type": "choices",
            "value": {"choices": [taxonomy.category(lab).name for lab in chosen]},
            "score": _score(sum(scores.get(lab, 0.0) for lab in chosen) / len(chosen)),
        })
    allowed = {c for c in span_ids if c in labels or c not in sentence_ids}
    for n, (start, end, label) in enumerate(_clean_spans(text, prediction.spans or (), allowed)):
        result.append({
            "id": f"{key[:8]}s{n}",
            "from_name": SPANS_NAME,
            "to_name": TEXT_NAME,
            "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [taxonomy.category(label).name]},
            "score": _score(scores.get(label, 0.0)),
        })
    return {
        "model_version": str(model_version),
        "score": _score(1.0 - float(prediction.uncertainty)),
        "result": result,
    }


def tasks_with_predictions(datas, *, model, taxonomy):
    """Label Studio tasks (``{"data", "predictions"}``) for task data dicts, one model call."""
    if not datas:
        return []
    version = model.model_version
    predictions = model.predict([d["text"] for d in datas])
    if len(predictions) != len(datas):
        raise ModelError(f"model {version!r} returned {len(predictions)} predictions for {len(datas)} sentences; the model is broken, retrain or use the default model")
    return [
        {"data": d, "predictions": [prediction_json(p, text=d["text"], taxonomy=taxonomy, model_version=version, key=d["slant_id"])]}
        for d, p in zip(datas, predictions)
    ]


@dataclass
class Batch:
    """Tasks ready to import, and what was read to build them."""

    tasks: list
    documents: int = 0          # documents finished so far (cumulative)
    sentences: int = 0          # pushable sentences seen so far (cumulative)
    duplicates: int = 0         # sentences skipped because their slant_id exists (cumulative)
    label_counts: dict = field(default_factory=dict)  # predicted category ids in this batch


def _label_counts(tasks, taxonomy):
    counts = {}
    for task in tasks:
        for r in task["predictions"][0]["result"]:
            if r["type"] == "choices":
                for name in r["value"]["choices"]:
                    cid = taxonomy.id_for_name(name)
                    counts[cid] = counts.get(cid, 0) + 1
    return counts


def iter_batches(documents, *, model, taxonomy, existing=frozenset(), batch_size=1000):
    """Stream `Batch` objects of at most `batch_size` new tasks from `documents`.

    Sentences whose `slant_id` is in `existing` are skipped before the model runs, so a
    re-push costs only splitting and hashing. Ids are added to a private copy of
    `existing` as they are emitted: the same sentence twice in one push is sent once.
    Always yields at least one (possibly empty) batch, so callers see final counts.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    seen = set(existing)
    pending, documents_done, sentences, duplicates = [], 0, 0, 0

    def flush():
        tasks = tasks_with_predictions(pending, model=model, taxonomy=taxonomy)
        pending.clear()
        return Batch(tasks, documents_done, sentences, duplicates, _label_counts(tasks, taxonomy))

    emitted = False
    for document in documents:
        for data in task_data(document, taxonomy=taxonomy):
            sentences += 1
            if data["slant_id"] in seen:
                duplicates += 1
                continue
            seen.add(data["slant_id"])
            pending.append(data)
            if len(pending) >= batch_size:
                emitted = True
                yield flush()
        documents_done += 1
    if pending or not emitted:
        yield flush()
