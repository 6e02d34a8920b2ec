"""Documents + a model -> Label Studio tasks with predictions, in batches.

Builds on `slant.studio.lsformat` (task data and prediction JSON); `slant.loop.push`
sends the batches.

>>> (batch,) = iter_batches([doc], model=model, taxonomy=tax)   # doctest: +SKIP
>>> batch.tasks[0]["predictions"][0]["model_version"]            # doctest: +SKIP
"""

from dataclasses import dataclass, field

from slant.errors import ModelError
from slant.studio.lsformat import confidence, iter_task_data, prediction_json

__all__ = ["Batch", "iter_batches", "prediction_task", "review_fields", "tasks_with_predictions", "with_review_fields"]


def review_fields(prediction, taxonomy):
    """The task data fields of the review tab (`slant.studio.projects.REVIEW_COLUMNS`):
    ``slant_labels`` (display names of the predicted sentence-level categories, "" for
    none), ``slant_confidence`` (as the prediction's score) and ``slant_uncertainty``
    (what the queue orders by, most uncertain first)."""
    _, sentence_ids, _ = taxonomy.id_sets
    return {
        "slant_labels": ", ".join(taxonomy.category(lab).name for lab in prediction.labels if lab in sentence_ids),
        "slant_confidence": round(float(confidence(prediction, sentence_ids)), 4),
        "slant_uncertainty": round(float(prediction.uncertainty), 4),
    }


def with_review_fields(data, prediction, taxonomy):
    """`data` with the review tab's fields (`review_fields`) right after the sentence's own."""
    # The sentence's own fields first: on SQLite, Label Studio lists data columns in the
    # order the first task names them, and the review tab shows these right after the text.
    head = {k: data[k] for k in ("text", "context_before", "context_after") if k in data}
    return {**head, **review_fields(prediction, taxonomy), **data}


def tasks_with_predictions(datas, *, model, taxonomy):
    """Label Studio tasks (``{"data", "predictions"}``) for task data dicts, one model call."""
    if not datas:
        return []
    version = model.model_version
    predictions = model.predict([d["text"] for d in datas])
    if len(predictions) != len(datas):
        raise ModelError(f"model {version!r} returned {len(predictions)} predictions for {len(datas)} sentences; the model is broken, retrain or use the default model")
    return [prediction_task(d, p, taxonomy=taxonomy, model_version=version) for d, p in zip(datas, predictions)]


def prediction_task(data, prediction, *, taxonomy, model_version):
    """One Label Studio task (``{"data", "predictions"}``): task `data` with the review fields
    of `prediction`, and `prediction` as the task's one prediction, keyed on its ``slant_id``."""
    return {"data": with_review_fields(data, prediction, taxonomy),
            "predictions": [prediction_json(prediction, text=data["text"], taxonomy=taxonomy,
                                            model_version=model_version, key=data["slant_id"])]}


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
        for data in iter_task_data(document, taxonomy=taxonomy):
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
