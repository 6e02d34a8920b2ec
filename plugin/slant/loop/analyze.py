"""`slant analyze`: documents → sentences → predictions, as a table, JSONL or one HTML page.

Documents stream through in batches of sentences (across documents), so memory stays
flat however large the corpus is. The HTML page is built by `slant.loop.analyze_html`.

>>> analyze(["article.txt"], model=load_model(taxonomy=tax), fmt="jsonl", out="pred.jsonl")
{'documents': 1, 'sentences': 24, 'labelled': 9}
"""

import gc
import io
import itertools
import os
import sys
from pathlib import Path

import orjson
from threadpoolctl import threadpool_limits

from slant._files import atomic_write
from slant.errors import InputError
from slant.loop.analyze_html import write_html
from slant.loop.analyze_table import write_table
from slant.text.documents import read_documents, read_raw
from slant.text.segment import load_splitter, paragraph_chunks

__all__ = ["analyze", "continues", "default_jobs", "iter_predictions", "prediction_record", "FORMATS"]

FORMATS = ("table", "jsonl", "html")


def iter_predictions(documents, model, *, batch_size=2000, explain=True):
    """Yield ``(document, [(sentence, prediction), ...])`` per document, in order.

    Sentences of several documents are predicted together in batches of about
    `batch_size`; only one batch of documents is held at a time. A document longer than
    a batch comes in several runs (see `continues`).
    """
    pending, texts = [], []

    def flush():
        preds = model.predict(texts, explain=explain) if texts else []
        k = 0
        for doc in pending:
            n = len(doc.sentences)
            yield doc, list(zip(doc.sentences, preds[k:k + n]))
            k += n
        pending.clear()
        texts.clear()

    for doc in documents:
        if len(doc.sentences) > batch_size:
            # A long document is yielded in runs of whole paragraphs (the same `doc` each
            # time; a run after the first starts at a sentence index above 0), so its
            # predictions are never all held at once.
            yield from flush()
            for chunk in paragraph_chunks(doc.sentences, batch_size):
                yield doc, list(zip(chunk, model.predict([s.text for s in chunk], explain=explain)))
            continue
        pending.append(doc)
        texts.extend(s.text for s in doc.sentences)
        if len(texts) >= batch_size:
            yield from flush()
    yield from flush()


def continues(pairs):
    """True when `pairs` (from `iter_predictions`) continue a document already yielded."""
    return bool(pairs) and pairs[0][0].index > 0


def prediction_record(doc, sentence, pred, model_version):
    """One JSON-ready prediction record (schemas/prediction.schema.json), with the
    document's metadata fields (outlet, date, ...) unless one is named like a field here."""
    return {
        **(doc.meta or {}),
        "doc_id": doc.id,
        "sentence_index": sentence.index,
        "start": sentence.start,
        "end": sentence.end,
        "text": sentence.text,
        "labels": pred.labels,
        "scores": pred.scores,
        "spans": pred.spans,
        "uncertainty": pred.uncertainty,
        "model_version": model_version,
        "doc_title": doc.title,
        "source": doc.source,
        "paragraph": sentence.paragraph,
        "kind": sentence.kind,
    }


# --- table and JSONL ---------------------------------------------------------------------

class _Counter(dict):
    def __init__(self):
        super().__init__(documents=0, sentences=0, labelled=0)

    def add(self, pairs):
        self["documents"] += not continues(pairs)
        self["sentences"] += len(pairs)
        self["labelled"] += sum(1 for _, p in pairs if p.labels)

    def counted(self, results):
        """`results` as they pass, counted."""
        for doc, pairs in results:
            self.add(pairs)
            yield doc, pairs


def _jsonl_chunks(results, version):
    """``(documents, sentences, labelled, bytes)`` per document, JSON lines encoded.

    orjson is ~5x faster than json here (json was a fifth of `analyze`'s time).
    """
    nl = orjson.OPT_APPEND_NEWLINE
    dumps = orjson.dumps
    for doc, pairs in results:
        data = b"".join([dumps(prediction_record(doc, s, p, version), option=nl) for s, p in pairs])
        yield int(not continues(pairs)), len(pairs), sum(1 for _, p in pairs if p.labels), data


def _write_jsonl(chunks, fh):
    counts = _Counter()
    for docs, sentences, labelled, data in chunks:
        counts["documents"] += docs
        counts["sentences"] += sentences
        counts["labelled"] += labelled
        fh.write(data)
    return counts


# --- parallel JSONL ---------------------------------------------------------------------

_WORKER = {}
_INLINE_BATCHES = 4  # documents above this many batches of sentences are not sent to workers


def _init_worker(model, batch_size):
    # (The one-BLAS-thread limit set in `analyze` is inherited through fork.)
    _WORKER["model"], _WORKER["batch_size"] = model, batch_size


def _work(items):
    """Split, predict, explain and encode a chunk of `RawDocument` items in a worker."""
    model = _WORKER["model"]
    docs = (item.document() for item in items)
    out = [0, 0, 0, []]
    for d, n, lab, data in _jsonl_chunks(iter_predictions(docs, model, batch_size=_WORKER["batch_size"]), model.model_version):
        out[0] += d
        out[1] += n
        out[2] += lab
        out[3].append(data)
    return out[0], out[1], out[2], b"".join(out[3])


def _parallel_chunks(items, model, *, batch_size, jobs):
    """`_jsonl_chunks` computed by `jobs` worker processes, in input order.

    The main process only reads files and writes; workers (forked, so they share the
    loaded model) split, predict, explain and encode chunks of about `batch_size`
    sentences, sent as raw JSONL lines or texts (cheap to pass). At most two chunks
    per worker wait at any time, so memory stays flat.
    """
    import multiprocessing as mp
    from collections import deque

    items = iter(items)
    first, size = [], 0
    for item in items:
        first.append(item)
        size += item.size()
        if size >= batch_size:
            break
    else:  # one batch in all: starting workers would cost more than it saves
        if first:
            docs = (item.document() for item in first)
            yield from _jsonl_chunks(iter_predictions(docs, model, batch_size=batch_size), model.model_version)
        return
    load_splitter()  # once here rather than in every forked worker
    ctx = mp.get_context("fork")
    pending = deque()
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(model, batch_size)) as pool:
        chunk, size = [], 0
        for item in itertools.chain(first, items):
            if item.size() > _INLINE_BATCHES * batch_size:
                # A very large document: a worker would hand back its whole output at
                # once. It streams here instead, in runs, after what was sent before it.
                if chunk:
                    pending.append(pool.apply_async(_work, (chunk,)))
                    chunk, size = [], 0
                while pending:
                    yield pending.popleft().get()
                yield from _jsonl_chunks(iter_predictions([item.document()], model, batch_size=batch_size),
                                         model.model_version)
                continue
            chunk.append(item)
            size += item.size()
            if size >= batch_size:
                pending.append(pool.apply_async(_work, (chunk,)))
                chunk, size = [], 0
                while len(pending) >= 2 * jobs:
                    yield pending.popleft().get()
        if chunk:
            pending.append(pool.apply_async(_work, (chunk,)))
        while pending:
            yield pending.popleft().get()


def default_jobs():
    """Worker processes `analyze` uses when not told: the CPUs this process may use, at most 4."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(n, 4))


def analyze(paths, *, model, fmt="table", out=None, batch_size=2000, title=None, jobs=1):
    """Analyze documents and write predictions as a table, JSONL or one HTML page.

    `out` None or "-" writes to stdout. `jobs` > 1 predicts JSONL in that many worker
    processes (Linux/macOS fork) once the input holds more than one batch; None picks
    `default_jobs()`. Returns ``{"documents", "sentences", "labelled"}``.
    """
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
    if jobs is None:
        jobs = default_jobs() if hasattr(os, "fork") else 1
    if not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"jobs={jobs!r}: use 1 or more worker processes")
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise InputError("no input files; pass one or more .txt, .md, .html or .jsonl files")
    if getattr(model.estimator, "encoder_", None) is not None:
        jobs = 1  # torch runs its own threads; forked copies of it would only compete for the cores
    if fmt == "jsonl" and jobs > 1:
        results = _parallel_chunks(read_raw(paths), model, batch_size=batch_size, jobs=jobs)
    elif fmt == "jsonl":
        results = _jsonl_chunks(iter_predictions(read_documents(paths), model, batch_size=batch_size), model.model_version)
    else:
        results = iter_predictions(read_documents(paths), model, batch_size=batch_size)
    to_stdout = out in (None, "-")
    # The model and its vocabularies live as long as the run: keep the garbage
    # collector from walking them again and again (~10% of the time). No collection
    # first: a full one walks the same 300,000 objects (0.3 s) and finds nothing.
    gc.freeze()
    # The matrices of a batch are small: a second BLAS thread only spins, taking the
    # core a worker process or the reader needs.
    limits = threadpool_limits(1)
    try:
        if to_stdout:
            if fmt == "jsonl":
                sys.stdout.flush()
                counts = _write(fmt, results, model, sys.stdout.buffer, paths, title, color=False)
                sys.stdout.buffer.flush()
                return counts
            return _write(fmt, results, model, sys.stdout, paths, title, color=sys.stdout.isatty())
        # Written beside the target and renamed at the end: a failed run leaves no half file.
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(out, "wb") as raw:
            if fmt == "jsonl":
                return _write(fmt, results, model, raw, paths, title, color=False)
            fh = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
            try:
                counts = _write(fmt, results, model, fh, paths, title, color=False)
            finally:
                fh.detach()  # flushed; the binary file stays open for atomic_write to finish
        return counts
    finally:
        limits.restore_original_limits()
        gc.unfreeze()


def _write(fmt, results, model, fh, paths, title, *, color):
    if fmt == "jsonl":
        return dict(_write_jsonl(results, fh))
    if fmt == "html":
        name = title or ("slant analysis: " + ", ".join(Path(p).name for p in paths[:3]) + (" …" if len(paths) > 3 else ""))
        counts = _Counter()
        write_html(counts.counted(results), model, fh, title=name)
        return dict(counts)
    return dict(write_table(results, model, fh, color=color, counter=_Counter()))
