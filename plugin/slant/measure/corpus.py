"""Read a corpus's predictions: the Parquet dataset of `slant analyze --out`, or a JSONL.

Parquet is read column by column with pyarrow compute (only the columns needed; labels
from the flattened lists, scores looked up per category in a map or a struct column; a
JSON-string scores column is parsed row by row), so a corpus of millions of sentences
stays a few numpy arrays.
"""

from collections import Counter
from pathlib import Path

import numpy as np

from slant.errors import DataError, InputError
from slant.measure.data import (
    CORPUS_EXTRA,
    MEASURED_KINDS,
    Corpus,
    group_values,
    kinds_note,
    read_jsonl_corpus,
    scores_dicts,
)

__all__ = ["read_corpus"]

_NEEDED = ("slant_id", "doc_id", "sentence_index", "labels", "scores", "model_version", "kind")


def read_corpus(path, *, by=(), period="month"):
    """The corpus predictions at `path` (a Parquet directory or file, or a JSONL) as a `Corpus`."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory; pass the output of `slant analyze --out DIR`")
    if period not in ("month", "week"):
        raise InputError(f"--period {period!r}: choose month or week")
    if path.is_dir() or path.suffix == ".parquet":
        return _read_parquet(path, list(by), period)
    return read_jsonl_corpus(path, list(by), period)


def _dataset(path):
    try:
        import pyarrow.dataset as ds
    except ImportError:
        raise InputError(f"reading Parquet predictions needs pyarrow: {CORPUS_EXTRA}") from None
    try:
        return ds.dataset(str(path), format="parquet", partitioning="hive")
    except Exception as exc:  # pyarrow raises several types for an unreadable directory
        raise DataError(f"{path}: not a Parquet dataset ({exc}); pass the directory from `slant analyze --out`") from None


def _read_parquet(path, by, period):
    import pyarrow as pa

    dataset = _dataset(path)
    names = set(dataset.schema.names)
    missing = [f for f in by if f not in names]
    if missing:
        raise InputError(f"--by {','.join(missing)}: not a column of {path}; columns there: {', '.join(sorted(names))}")
    if "labels" not in names:
        raise DataError(f"{path}: no 'labels' column; pass the directory written by `slant analyze --out`")
    table = dataset.to_table(columns=list(dict.fromkeys([c for c in _NEEDED if c in names] + by)))
    total = table.num_rows
    if "kind" in names:
        import pyarrow.compute as pc

        kind = table.column("kind")
        table = table.filter(pc.or_kleene(pc.is_null(kind), pc.is_in(kind, pa.array(MEASURED_KINDS))))
    n = table.num_rows
    if not n:
        raise DataError(f"{path}: no prediction rows; run `slant analyze` on the corpus first")
    labels, cats = _labels(table.column("labels").combine_chunks(), n)
    scores = {}
    if "scores" in names:
        scores = _scores(table.column("scores").combine_chunks(), n)
        cats = list(scores) + [c for c in cats if c not in scores]
    for c in cats:
        labels.setdefault(c, np.zeros(n, dtype=np.int8))
        scores[c] = scores[c] if c in scores else labels[c].astype(float)
        scores[c] = np.where(np.isnan(scores[c]), labels[c], scores[c])
    col = {c: table.column(c) for c in table.column_names}
    return Corpus(
        n=n, categories=cats, labels=labels, scores=scores,
        groups={f: _groups(f, col[f], period) for f in by},
        slant_ids=_strings(col["slant_id"]) if "slant_id" in col else None,
        doc_ids=_strings(col["doc_id"]) if "doc_id" in col else np.full(n, "", dtype=object),
        sentence_index=(col["sentence_index"].cast(pa.int64()).fill_null(-1).to_numpy() if "sentence_index" in col
                        else np.full(n, -1, dtype=np.int64)),
        model_versions=Counter({str(v["values"]): int(v["counts"]) for v in
                                (col["model_version"].value_counts().to_pylist() if "model_version" in col else [])
                                if v["values"]}),
        source=str(path), notes=[x for x in [kinds_note(total - n)] if x])


def _strings(column):
    import pyarrow as pa

    return column.cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False).astype(object)


def _labels(column, n):
    import pyarrow.compute as pc

    flat = pc.list_flatten(column)
    parents = pc.list_parent_indices(column).to_numpy()
    out = {}
    for c in pc.unique(flat).to_pylist():
        if c is None:
            continue
        arr = np.zeros(n, dtype=np.int8)
        arr[parents[pc.equal(flat, c).fill_null(False).to_numpy(zero_copy_only=False)]] = 1
        out[c] = arr
    return out, list(out)


def _scores(column, n):
    """{category: float array (nan where missing)} from a map, struct or JSON-string column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_map(column.type):
        keys = [k for k in pc.unique(column.keys).to_pylist() if k is not None]
        return {k: pc.map_lookup(column, pa.scalar(k, column.type.key_type), "first").cast(pa.float64())
                .fill_null(np.nan).to_numpy(zero_copy_only=False) for k in keys}
    if pa.types.is_struct(column.type):
        return {f.name: pc.struct_field(column, f.name).cast(pa.float64()).fill_null(np.nan)
                .to_numpy(zero_copy_only=False) for f in column.type}
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        dicts = scores_dicts(column.to_pylist())
        keys = dict.fromkeys(k for d in dicts for k in d)
        return {k: np.array([d.get(k, np.nan) for d in dicts], dtype=float) for k in keys}
    raise DataError(f"the scores column has type {column.type}; expected a map, a struct or JSON text of "
                    "{category: probability}")


def _groups(name, column, period):
    """Group values via the column's distinct values (a date column has few), not row by row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    encoded = pc.dictionary_encode(column).combine_chunks()
    uniq = group_values(name, encoded.dictionary.to_pylist(), period)
    idx = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return np.where(idx >= 0, uniq[np.maximum(idx, 0)] if len(uniq) else "", "").astype(object)
