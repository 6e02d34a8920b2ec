"""One partition of `slant analyze --out DIR`: its rows as a `pyarrow.Table`
(`analyze_partition`, the one function every engine of `slant.loop.engine` runs) and the
row schema (columns described in `slant.loop.corpus`)."""

import json

from slant.loop.analyze import iter_predictions
from slant.studio.lsformat import content_hash, slant_id
from slant.text.inputs import missing_extra

__all__ = ["CORE_COLUMNS", "RESERVED", "TAIL_COLUMNS", "analyze_partition", "arrow", "meta_column", "row_schema"]

CORE_COLUMNS = ("slant_id", "doc_id", "sentence_index", "start", "end", "text", "kind")
TAIL_COLUMNS = ("labels", "scores", "spans", "uncertainty", "model_version")
RESERVED = set(CORE_COLUMNS) | set(TAIL_COLUMNS)


def arrow():
    try:
        import pyarrow as pa
    except ImportError:
        raise missing_extra("slant analyze --out DIR (Parquet)") from None
    return pa


def row_schema(pa, meta_columns):
    span = pa.struct([("label", pa.string()), ("start", pa.int32()), ("end", pa.int32()), ("text", pa.string()),
                      ("score", pa.float64())])
    return pa.schema(
        [("slant_id", pa.string()), ("doc_id", pa.string()), ("sentence_index", pa.int32()), ("start", pa.int64()),
         ("end", pa.int64()), ("text", pa.string()), ("kind", pa.string())]
        + [(m, pa.string()) for m in meta_columns]
        + [("labels", pa.list_(pa.string())), ("scores", pa.map_(pa.string(), pa.float64())), ("spans", pa.list_(span)),
           ("uncertainty", pa.float64()), ("model_version", pa.string())])


def meta_column(field):
    """The column of a document's metadata field (``meta_`` before a name slant uses)."""
    return f"meta_{field}" if field in RESERVED else str(field)


def _meta_strings(doc):
    out = {"title": doc.title, "source": doc.source or None}
    for k, v in (doc.meta or {}).items():
        name = meta_column(k)
        out[name] = v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return out


def analyze_partition(items, model, *, taxonomy_id, meta_columns=None, batch_size=2000):
    """The rows of one partition (`RawDocument` items) as a `pyarrow.Table`: split,
    predict, explain. The one function every engine runs (`slant.loop.engine`).

    `meta_columns` (every metadata column of the corpus) gives all partitions one schema;
    None: the columns of this partition's documents."""
    pa = arrow()
    cols = {c: [] for c in CORE_COLUMNS + TAIL_COLUMNS}
    meta_rows, version = [], str(model.model_version)
    docs = (item.document() for item in items)
    for doc, pairs in iter_predictions(docs, model, batch_size=batch_size):
        digest, meta = content_hash(doc.text), _meta_strings(doc)
        for s, p in pairs:
            cols["slant_id"].append(slant_id(digest, s.start, s.end, taxonomy_id))
            cols["doc_id"].append(str(doc.id))
            for k in ("sentence_index", "start", "end", "text", "kind"):
                cols[k].append(getattr(s, "index" if k == "sentence_index" else k))
            cols["labels"].append(list(p.labels))
            cols["scores"].append(list(p.scores.items()))
            cols["spans"].append([{"label": x["label"], "start": x["start"], "end": x["end"],
                                   "text": x.get("text") or s.text[x["start"]:x["end"]],
                                   "score": None if x.get("weight") is None else float(x["weight"])} for x in p.spans])
            cols["uncertainty"].append(float(p.uncertainty))
            cols["model_version"].append(version)
            meta_rows.append(meta)
    if meta_columns is None:
        meta_columns = sorted({k for m in meta_rows for k in m})
    for m in meta_columns:
        cols[m] = [row.get(m) for row in meta_rows]
    schema = row_schema(pa, meta_columns)
    return pa.Table.from_pydict({name: cols[name] for name in schema.names}, schema=schema)
