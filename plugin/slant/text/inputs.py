"""Which files a corpus is made of, and the rows of its tables.

`expand_inputs` turns what a user types (files, directories, globs) into a sorted list of
files slant can read; `table_rows` streams the rows of a CSV/TSV or Parquet file as dicts.
`slant.text.documents` turns both into documents.

>>> expand_inputs(["corpus/"])          # doctest: +SKIP
[PosixPath('corpus/a.txt'), PosixPath('corpus/feeds/b.jsonl.gz')]
"""

import csv
import glob
from pathlib import Path

from slant.errors import InputError

__all__ = ["READABLE", "corpus_suffix", "expand_inputs", "missing_extra", "table_rows"]

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".csv", ".tsv", ".parquet")
READABLE = TEXT_SUFFIXES + RECORD_SUFFIXES
_GLOB_CHARS = set("*?[")


def missing_extra(what):
    """The one message for a missing optional `corpus` extra."""
    return InputError(f"{what} needs the optional corpus extra (dask, distributed, pyarrow): pip install 'slant[corpus]'")


def corpus_suffix(path):
    """The suffix slant reads `path` by ('.jsonl.gz' counts as one), or '' when unknown."""
    name = Path(path).name.lower()
    for suffix in sorted(READABLE, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return ""


def _in_directory(root):
    found = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".") and corpus_suffix(p))
    if not found:
        raise InputError(f"{root}: no readable documents inside ({', '.join(READABLE)}); check the directory")
    return found


def expand_inputs(paths):
    """The files named by `paths`: files as given, directories searched recursively for
    readable suffixes (hidden files skipped), globs expanded (sorted). A missing file, a glob
    that matches nothing or an empty directory is an `InputError`."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = []
    for p in paths:
        text = str(p)
        if _GLOB_CHARS & set(text) and not Path(text).exists():
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            files = [m for m in matches if m.is_file()]
            for d in (m for m in matches if m.is_dir()):
                files.extend(_in_directory(d))
            if not files:
                raise InputError(f"{text}: the pattern matches no file; check it (quote it so slant, not the shell, expands it)")
            out.extend(files)
            continue
        path = Path(p)
        if path.is_dir():
            out.extend(_in_directory(path))
        elif not path.exists():
            raise InputError(f"{path}: no such file; check the path")
        else:
            out.append(path)
    return out


def _csv_rows(path):
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    csv.field_size_limit(2**31 - 1)  # whole articles exceed the default 128 KiB cell limit
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    with handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        try:
            fields = reader.fieldnames
            if not fields:
                raise InputError(f"{path}: the file is empty; it needs a header row with a 'text' column")
            if "text" not in fields:
                raise InputError(f"{path}: no 'text' column (columns: {', '.join(fields)}); "
                                 "name the column holding the article text 'text'")
            for n, row in enumerate(reader, 1):
                if None in row:
                    raise InputError(f"{path}: row {n} has more fields than the header; fix the quoting of that row")
                yield n, {k: v for k, v in row.items() if v not in (None, "") or k == "text"}
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 ({exc.reason}); convert it first, e.g. iconv -t utf-8") from None
        except csv.Error as exc:
            raise InputError(f"{path}: not a readable CSV ({exc}); check the quoting") from None


def _parquet_rows(path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise missing_extra(f"{path}: reading Parquet") from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise InputError(f"{path}: not a Parquet file ({exc}); pass a .parquet file written by pyarrow, Spark or pandas") from None
    names = pf.schema_arrow.names
    if "text" not in names:
        raise InputError(f"{path}: no 'text' column (columns: {', '.join(names)}); name the column holding the article "
                         "text 'text' (a Parquet directory written by `slant analyze --out` is read by `slant push --from`)")
    n = 0
    for batch in pf.iter_batches(batch_size=1000):
        for row in batch.to_pylist():
            n += 1
            yield n, {k: v for k, v in row.items() if v is not None or k == "text"}


def table_rows(path):
    """``(row number, {column: value})`` of a CSV/TSV (header row) or Parquet file, streamed.

    Empty CSV cells and Parquet nulls are left out of the row (the text column stays)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return _parquet_rows(path)
    return _csv_rows(path)
