"""Reviewed-label records: read, validate, default, migrate, write.

A reviewed record is one sentence with its adjudicated labels
(schemas/reviewed.schema.json): what `slant pull` and the importers (ptc.py, brat.py, tabular.py) write
and `slant train`, `slant evaluate` and `slant agreement` read.
"""

import json
import logging
from collections import Counter
from pathlib import Path

import orjson

from slant._files import schema
from slant._words import counted
from slant.errors import DataError, InputError

__all__ = [
    "ReviewedRecords",
    "iter_reviewed",
    "load_reviewed",
    "write_jsonl",
]

log = logging.getLogger("slant")

DEFAULTS = {"spans": [], "annotations": [], "policy": "given"}


# --- reviewed records -----------------------------------------------------------------

def _validators():
    """A fast validator for the common case and jsonschema for readable messages."""
    from jsonschema import Draft202012Validator

    slow = Draft202012Validator(schema("reviewed"))
    try:  # ~200x faster than jsonschema; the answer is the same for this schema
        import jsonschema_rs

        fast = jsonschema_rs.validator_for(schema("reviewed")).is_valid
    except ImportError:
        fast = slow.is_valid
    return fast, slow


def _problem(slow, obj):
    from jsonschema.exceptions import best_match

    err = best_match(slow.iter_errors(obj))
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path).lstrip(".")
    hint = {
        "required": "add the missing field (a minimal line is {\"id\", \"doc_id\", \"text\", \"labels\"})",
        "type": "change the value's type",
        "uniqueItems": "list each label once",
        "minLength": "give the sentence text",
    }.get(err.validator, "see schemas/reviewed.schema.json")
    return f"{where + ': ' if where else ''}{err.message}; {hint}"


class _Migrator:
    """taxonomy.migrate_labels with a cache: records repeat a few label combinations."""

    def __init__(self, taxonomy, unknown):
        self.taxonomy, self.unknown, self.cache = taxonomy, unknown, {}

    def labels(self, labels):
        key = tuple(labels)
        if key not in self.cache:
            self.cache[key] = self.taxonomy.migrate_labels(labels)
        migrated, missing = self.cache[key]
        if missing:
            self.unknown.update(missing)
        return list(migrated), list(missing)

    def spans(self, spans):
        out = []
        for span in spans:
            if ":" in span["label"]:  # a corpus label kept on purpose ("ptc:Slogans")
                out.append(span)
                continue
            ids, missing = self.labels([span["label"]])
            if missing:
                out.append(span)
            out.extend(span if i == span["label"] else {**span, "label": i} for i in ids)
        return out

    def __call__(self, record):
        record["labels"], missing = self.labels(record["labels"])
        if missing:
            record["unknown_labels"] = sorted(set(record.get("unknown_labels", [])) | set(missing))
        record["spans"] = self.spans(record["spans"])
        for ann in record["annotations"]:
            ann["labels"], missing = self.labels(ann.get("labels", []))
            if missing:
                ann["unknown_labels"] = missing
            if "spans" in ann:
                ann["spans"] = self.spans(ann["spans"])


def iter_reviewed(path, *, taxonomy=None, unknown=None):
    """Stream validated reviewed records from one JSONL file, defaults filled in.

    With `taxonomy`, labels are migrated to its version; labels it does not know are
    kept in the record's ``unknown_labels`` and counted into the `unknown` Counter.
    """
    path = Path(path)
    fast, slow = _validators()
    unknown = Counter() if unknown is None else unknown
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; pass the .jsonl file inside it") from None
    seen, count = {}, 0
    migrate = _Migrator(taxonomy, unknown) if taxonomy is not None else None
    with handle:
        for lineno, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                # orjson parses ~4x faster; whatever it refuses, json reads again, to accept
                # what json accepts (NaN, huge integers) and to word the message as before.
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                obj = None
            try:
                obj = json.loads(raw) if obj is None else obj
            except UnicodeDecodeError:
                raise DataError(f"{path}:{lineno}: not UTF-8; convert the file, e.g. iconv -t utf-8") from None
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno}); fix or remove the line") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}; each line is one sentence record")
            if not fast(obj):
                raise DataError(f"{path}:{lineno}: {_problem(slow, obj)}")
            key = str(obj["id"])
            if key in seen:
                raise DataError(f"{path}:{lineno}: duplicate id {obj['id']!r} (first on line {seen[key]}); give each sentence its own id")
            seen[key] = lineno
            record = {"id": obj["id"], "doc_id": obj["doc_id"], "text": obj["text"], "labels": obj["labels"],
                      "spans": obj["spans"] if "spans" in obj else [],
                      "annotations": obj["annotations"] if "annotations" in obj else [],
                      "policy": obj.get("policy", DEFAULTS["policy"]), "source": obj.get("source") or path.name}
            for k, v in obj.items():
                if k not in record:
                    record[k] = v
            if migrate is not None:
                migrate(record)
            count += 1
            yield record
    if not count:
        raise DataError(f"{path}: no records; each line must be a JSON object like {{\"id\", \"doc_id\", \"text\", \"labels\"}}")


class ReviewedRecords(list):
    """A list of reviewed records plus what loading found: `unknown_labels` (a Counter)."""

    unknown_labels: Counter

    def report(self):
        if not self.unknown_labels:
            return ""
        names = ", ".join(f"{k} ({v})" for k, v in self.unknown_labels.most_common())
        return (f"{counted(sum(self.unknown_labels.values()), 'label')} unknown to the taxonomy: {names}; "
                "they are kept in each record's unknown_labels and not trained on — add a migration "
                "to the taxonomy or fix the labels")


def load_reviewed(paths, *, taxonomy):
    """Read one or many reviewed JSONL files into a `ReviewedRecords` list.

    >>> records = load_reviewed("reviewed.jsonl", taxonomy=load_taxonomy())  # doctest: +SKIP
    >>> records.unknown_labels   # Counter of label ids the taxonomy does not know
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    unknown = Counter()
    records = ReviewedRecords()
    for p in paths:
        records.extend(iter_reviewed(p, taxonomy=taxonomy, unknown=unknown))
    records.unknown_labels = unknown
    if unknown:
        log.warning(records.report())
    return records


def write_jsonl(records, path):
    """Write dicts (or objects with ``to_dict()``) as JSON lines; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r.to_dict() if hasattr(r, "to_dict") else r, ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n
