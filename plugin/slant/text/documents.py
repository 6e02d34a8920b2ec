"""Documents: the `Document` type, `make_document`, and the one reader of corpus inputs:
.txt, .md, .html files, JSONL(.gz) of documents, CSV/TSV and Parquet tables, named as
files, directories or globs (`read_documents`, and `read_raw` for unsplit items sent to
workers). Every field of a record other than id, text, title and source is the
document's metadata (`Document.meta`: outlet, date, url, ...).

>>> doc = make_document("Bridge Reopens\\n\\nMr. Lee said it was safe. “It is,” he said.")
>>> [(s.kind, s.text) for s in doc.sentences]
[('title', 'Bridge Reopens'), ('body', 'Mr. Lee said it was safe.'), ('body', '“It is,” he said.')]
"""

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from slant.errors import InputError
from slant.text.inputs import corpus_suffix, expand_inputs, table_rows
from slant.text.markup import extract_html, extract_markdown
from slant.text.segment import split_sentences

__all__ = ["Document", "RawDocument", "make_document", "read_documents", "read_raw"]


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str | None
    source: str
    sentences: tuple
    meta: dict = field(default_factory=dict, hash=False, compare=False)


def _doc_hash(text):
    return "doc-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def make_document(text, *, doc_id=None, source="", title=None, meta=None):
    """A `Document` from text: sentences split, title taken from the first line if any.

    Line endings are normalised to "\\n"; offsets refer to the returned `Document.text`.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sentences = split_sentences(text, title=title)
    if title is None and sentences and sentences[0].kind == "title":
        title = sentences[0].text
    return Document(
        id=str(doc_id) if doc_id is not None else _doc_hash(text),
        text=text, title=title, source=source, sentences=tuple(sentences), meta=dict(meta or {}),
    )


# --- reading files --------------------------------------------------------------------

def _read_text(path):
    """The UTF-8 text of a file, or an `InputError` saying what is wrong and what to do."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; pass the files inside it, e.g. {path}/*.txt") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    if b"\x00" in raw:
        raise InputError(f"{path}: looks binary (NUL byte at offset {raw.index(0)}); pass .txt, .md, .html, .jsonl(.gz), .csv or .parquet files")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 (byte {exc.start}: 0x{raw[exc.start]:02x}); "
            f"convert it first, e.g. iconv -f latin1 -t utf-8 {path} > fixed.txt"
        ) from None
    if not text.strip():
        raise InputError(f"{path}: the file is empty; nothing to split")
    return text


def _jsonl_lines(path):
    """``(line number, raw bytes)`` of each non-blank line of a JSONL file."""
    try:
        handle = gzip.open(path, "rb") if corpus_suffix(path) == ".jsonl.gz" else path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; pass the .jsonl file inside it") from None
    seen = 0
    with handle:
        try:
            for lineno, raw in enumerate(handle, 1):
                if raw.strip():
                    seen += 1
                    yield lineno, raw
        except (OSError, EOFError) as exc:  # gzip: not gzipped, or cut short
            raise InputError(f"{path}: not a readable gzip file ({exc}); check the file or gunzip it") from None
    if not seen:
        raise InputError(f"{path}: the file is empty; it needs one JSON document per line")


def _jsonl_document(path, lineno, raw):
    try:
        obj = json.loads(raw.decode("utf-8-sig" if lineno == 1 else "utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}:{lineno}: not UTF-8 (byte {exc.start} of the line); convert the file, e.g. with iconv -t utf-8") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno}); fix or remove the line") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}:{lineno}: expected a JSON object with \"id\" and \"text\", got {type(obj).__name__}")
    missing = [k for k in ("id", "text") if k not in obj]
    if missing:
        raise InputError(f"{path}:{lineno}: missing {' and '.join(repr(k) for k in missing)}; each line needs {{\"id\": ..., \"text\": ...}}")
    return _record_document(path, f"{path}:{lineno}", obj)


def _record_document(path, where, obj):
    """A `Document` from one record (a JSONL object or a table row): id, text, title,
    source, and every other field as metadata."""
    if not isinstance(obj["text"], str) or not obj["text"].strip():
        raise InputError(f"{where}: \"text\" of document {obj['id']!r} is empty or not a string; give it the article text")
    meta = {k: v for k, v in obj.items() if k not in ("id", "text", "title", "source")}
    source = obj.get("source") or obj.get("url") or path.name
    title = obj.get("title")
    return make_document(obj["text"], doc_id=obj["id"], source=str(source), title=None if title is None else str(title),
                         meta=meta)


def _row_document(path, n, row):
    row = dict(row)
    row.setdefault("id", f"{path.stem}-{n}")
    return _record_document(path, f"{path}: row {n}", row)


@dataclass(frozen=True)
class RawDocument:
    """A document as read, not yet parsed or split: one JSONL line (bytes) or one file's text.

    Cheap to send to a worker process; `document()` does the splitting there.
    """
    path: str
    lineno: int  # the JSONL line or table row; 0 for a whole file
    raw: object  # bytes of a JSONL line, a table row (dict), or the extracted text of a file
    title: str | None = None

    def document(self):
        path = Path(self.path)
        if isinstance(self.raw, dict):
            return _row_document(path, self.lineno, self.raw)
        if self.lineno:
            return _jsonl_document(path, self.lineno, self.raw)
        return make_document(self.raw, doc_id=path.stem, source=path.name, title=self.title)

    def size(self):
        """About how many sentences the document holds, before splitting it."""
        raw = self.raw
        if isinstance(raw, dict):
            raw = raw.get("text") if isinstance(raw.get("text"), str) else ""
        if isinstance(raw, bytes):
            return raw.count(b". ") + raw.count(b"\\n") + 1
        return raw.count(". ") + raw.count("\n") + 1

    def fields(self):
        """The metadata field names of the document, without parsing or splitting its text
        (a JSONL line that is not a JSON object has none here; `document()` reports it)."""
        raw = self.raw
        if isinstance(raw, bytes):
            try:
                raw = json.loads(raw)
            except ValueError:
                return []
        if not isinstance(raw, dict):
            return []
        return [k for k in raw if k not in ("id", "text", "title", "source")]

    def digest(self):
        """A stable hash of what was read (partition keys of `slant analyze --out`)."""
        raw = self.raw
        if isinstance(raw, dict):
            raw = json.dumps(raw, sort_keys=True, default=str, ensure_ascii=False)
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogatepass")
        return hashlib.sha1(f"{Path(self.path).name}\x1f{self.lineno}\x1f{self.title}\x1f".encode("utf-8", "surrogatepass") + raw).hexdigest()


def _read_one(path):
    """Unsplit documents of one file: `RawDocument` items, checked as far as reading goes."""
    suffix = corpus_suffix(path) or path.suffix.lower()
    if suffix in (".jsonl", ".jsonl.gz"):
        for lineno, raw in _jsonl_lines(path):
            yield RawDocument(str(path), lineno, raw)
        return
    if suffix in (".csv", ".tsv", ".parquet"):
        for n, row in table_rows(path):
            yield RawDocument(str(path), n, row)
        return
    text = _read_text(path)
    title = None
    if suffix in (".html", ".htm"):
        text, title = extract_html(text)
    elif suffix in (".md", ".markdown"):
        text, title = extract_markdown(text)
    if not text.strip():
        raise InputError(f"{path}: no text left after extracting the {suffix[1:]} markup; check the file")
    yield RawDocument(str(path), 0, text, title)


def read_raw(paths):
    """Stream `RawDocument` items from files, directories or globs; `read_documents` splits them."""
    for p in expand_inputs(paths):
        yield from _read_one(p)


def read_documents(paths):
    """Stream `Document` objects from files, directories or globs (.txt, .md, .html, .jsonl(.gz), .csv, .parquet)."""
    for item in read_raw(paths):
        yield item.document()
