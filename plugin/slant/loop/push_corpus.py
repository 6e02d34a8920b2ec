"""`slant push --from DIR`: push a sample of an analysed corpus, not the corpus.

The rows come from the Parquet dataset of `slant analyze --out DIR`; nothing is analysed
again. Each chosen sentence becomes the task `slant push FILE` would have made (same
`slant_id`, context, document metadata), with a prediction built by
`slant.loop.prelabel.prediction_task` from the stored labels, scores and spans. Pushes
are idempotent by `slant_id` (`slant.loop.push.push_target` reads the ids a project holds
once). Audit tasks (`--audit N`) carry the audit fields of `slant.loop.sample` and get a
Data Manager tab; a sentence already in the project (pushed for review) that the audit
draws gets the audit fields added to its task data, so the audit sample stays whole.

>>> result, samples = push_corpus(studio, "preds/", project="Archive", taxonomy=tax, sample=200)  # doctest: +SKIP
"""

from collections import Counter

from slant.errors import InputError
from slant.loop.corpus import open_corpus
from slant.loop.prelabel import prediction_task
from slant.loop.push import push_result, push_target
from slant.loop.sample import choose
from slant.model.slantmodel import Prediction
from slant.studio.lsformat import PUSHED_KINDS, sentence_data
from slant.studio.projects import ensure_audit_view
from slant.studio.tasks import add_task_data, existing_slant_ids

__all__ = ["check_by", "push_corpus"]

_BASE = ("slant_id", "kind", "uncertainty")
_NOT_META = {"slant_id", "doc_id", "sentence_index", "start", "end", "text", "kind", "labels", "scores", "spans",
             "uncertainty", "model_version", "title", "source"}


def check_by(by, dataset, directory):
    """`InputError` when `by` is not a column of the dataset, naming the fields it has."""
    if by and by not in dataset.schema.names:
        fields = [n for n in dataset.schema.names if n not in _NOT_META - {"title", "source", "doc_id"}]
        raise InputError(f"--by {by}: {directory} has no such column; use one of its document fields: "
                         f"{', '.join(fields) or 'doc_id'}")


def _population(dataset, by):
    columns = list(_BASE) + ([by] if by and by not in _BASE else [])
    return dataset.to_table(columns=columns).to_pylist()


def _task(row, context_before, context_after, extra, taxonomy):
    meta = {k: v for k, v in row.items() if k not in _NOT_META and v is not None}
    data = sentence_data(meta, text=row["text"], context_before=context_before, context_after=context_after,
                         doc_id=row["doc_id"], doc_title=row.get("title") or "", sentence_index=row["sentence_index"],
                         start=row["start"], end=row["end"], source=row.get("source") or "", slant_id=row["slant_id"])
    spans = [{"start": s["start"], "end": s["end"], "label": s["label"], "text": s["text"], "weight": s["score"]}
             for s in row["spans"] or ()]
    pred = Prediction(list(row["labels"] or ()), dict(row["scores"] or ()), spans, float(row["uncertainty"]))
    return prediction_task({**data, **extra}, pred, taxonomy=taxonomy, model_version=row["model_version"])


def _chosen_tasks(dataset, wanted, taxonomy):
    """Tasks for the slant ids in `wanted` (``{slant_id: extra data}``), one fragment at a time;
    a document lives in one partition, so its neighbours for the context are there too."""
    import pyarrow.compute as pc

    for fragment in dataset.get_fragments():
        table = fragment.to_table(schema=dataset.schema)
        hit = pc.is_in(table.column("slant_id"), value_set=_arrow_strings(wanted))
        if not pc.any(hit).as_py():
            continue
        docs = pc.unique(table.filter(hit).column("doc_id"))
        rows = table.filter(pc.is_in(table.column("doc_id"), value_set=docs)).to_pylist()
        by_doc = {}
        for r in rows:
            if r["kind"] in PUSHED_KINDS:
                by_doc.setdefault(r["doc_id"], []).append(r)
        for doc_rows in by_doc.values():
            doc_rows.sort(key=lambda r: r["sentence_index"])
            for i, r in enumerate(doc_rows):
                if r["slant_id"] in wanted:
                    before = doc_rows[i - 1]["text"] if i > 0 else ""
                    after = doc_rows[i + 1]["text"] if i + 1 < len(doc_rows) else ""
                    yield _task(r, before, after, wanted[r["slant_id"]], taxonomy)


def _arrow_strings(values):
    import pyarrow as pa

    return pa.array(list(values), type=pa.string())


def _mark_existing(studio, target, audit):
    """Add the audit fields to tasks already in the project that the audit drew."""
    have = {sid: tid for tid, sid in existing_slant_ids(studio, target.project, target.ledger).items()}
    marks = {have[sid]: extra for sid, extra in audit.chosen.items() if sid in have}
    if not marks:
        return 0
    target.read_columns(studio)
    return add_task_data(studio, target.project, marks)


def push_corpus(studio, directory, *, project, taxonomy, sample=None, strategy="uncertainty", audit=None, by=None,
                seed=0, batch_size=1000, cache_dir=None):
    """Push `sample` sentences chosen by `strategy` and/or an `audit` sample of `audit`
    sentences (stratified by `by`) from the dataset in `directory` into `project`.

    Returns ``(PushResult, [Sample, ...])``; the audit sample is pushed first, so a sentence
    in both is an audit task.
    """
    if sample is None and audit is None:
        raise InputError("--from DIR needs --sample N (review sample) or --audit N (audit sample), or both")
    dataset, manifest = open_corpus(directory)
    if manifest["taxonomy"]["id"] != taxonomy.id:
        raise InputError(f"--from {directory}: analysed with taxonomy {manifest['taxonomy']['id']!r}, not {taxonomy.id!r}; "
                         "pass --taxonomy FILE with the taxonomy of the analysis")
    check_by(by, dataset, directory)
    rows = _population(dataset, by)
    samples = []
    if audit is not None:
        samples.append(choose(rows, n=audit, purpose="audit", by=by, seed=seed))
    if sample is not None:
        samples.append(choose(rows, n=sample, purpose="review", strategy=strategy, by=by, seed=seed))
    del rows
    target = push_target(studio, None, project=project, taxonomy=taxonomy, batch_size=batch_size, cache_dir=cache_dir)
    seen, new, duplicates, labels, marked = set(target.existing), 0, 0, Counter(), 0
    for s in samples:
        if s.purpose == "audit":
            ensure_audit_view(studio, target.project)
            marked = _mark_existing(studio, target, s)
        wanted = {sid: extra for sid, extra in s.chosen.items() if sid not in seen}
        duplicates += len(s.chosen) - len(wanted)
        batch = []
        for task in _chosen_tasks(dataset, wanted, taxonomy):
            seen.add(task["data"]["slant_id"])
            batch.append(task)
            for r in task["predictions"][0]["result"]:
                if r["type"] == "choices":
                    labels.update(taxonomy.id_for_name(name) for name in r["value"]["choices"])
            if len(batch) >= batch_size:
                target.import_tasks(studio, batch)
                new, batch = new + len(batch), []
        if batch:
            target.import_tasks(studio, batch)
            new += len(batch)
    result = push_result(studio, target, manifest["model_version"], documents=manifest.get("documents", 0),
                         sentences=sum(s.population for s in samples[:1]), new_tasks=new, duplicates=duplicates,
                         label_counts=dict(labels), audit_marked=marked)
    return result, samples
