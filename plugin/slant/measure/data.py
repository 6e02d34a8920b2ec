"""The inputs of a measurement: the corpus predictions and the human-coded audit, joined.

`slant.measure.corpus.read_corpus` reads the predictions of a whole corpus (the Parquet
directory written by `slant analyze --out`, or a JSONL of prediction records, read here
by `read_jsonl_corpus`) into a `Corpus` of numpy arrays:
per category the model's label (0/1) and score, and per grouping field one value per
sentence (dates cut into month or week buckets). `read_audit` reads the reviewed records
(`slant pull`), keeps the audit sample (records marked ``audit: {p, stratum}``) and joins
each one to its corpus row on ``slant_id``, or on ``(doc_id, sentence_index)`` where the
record has none, giving an `Audit`: corpus row, human labels, inclusion probability and
stratum per audited sentence.
"""

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from slant.errors import DataError, InputError

__all__ = ["MEASURED_KINDS", "Audit", "Corpus", "audit_from_arrays", "group_values", "is_date_field", "kinds_note", "read_audit", "read_jsonl_corpus",
           "scores_dicts"]

CORPUS_EXTRA = "pip install 'slant[corpus]'"
# The kinds of sentence `slant push` sends for review (studio.lsformat.PUSHED_KINDS; measure does
# not import studio): bylines are never audited, so they are not part of the measured population.
MEASURED_KINDS = ("title", "body")
_DATE_NAMES = ("date", "publication_date", "published", "pub_date", "day")


@dataclass
class Corpus:
    """Model predictions over every sentence of a corpus, as parallel arrays."""

    n: int
    categories: list
    labels: dict            # category -> int8 array (the model's label)
    scores: dict            # category -> float array (the model's probability; the label where none)
    groups: dict            # field -> object array of group values ("" where missing)
    slant_ids: np.ndarray | None
    doc_ids: np.ndarray
    sentence_index: np.ndarray
    model_versions: Counter = field(default_factory=Counter)
    source: str = ""
    notes: list = field(default_factory=list)
    cache: dict = field(default_factory=dict, repr=False)

    def row_index(self, use_slant_id):
        """{key: row} for joining audit records."""
        if use_slant_id:
            return {k: i for i, k in enumerate(self.slant_ids) if k}
        return {(str(d), int(s)): i for i, (d, s) in enumerate(zip(self.doc_ids, self.sentence_index)) if s >= 0}


@dataclass
class Audit:
    """The audited sentences: corpus rows, human labels, inclusion probabilities and strata."""

    rows: np.ndarray                # index into the corpus
    y: dict                         # category -> float array of human labels (0/1)
    p: np.ndarray                   # inclusion probability of each audited sentence
    strata: np.ndarray              # object array: the stratum of each
    design: str                     # "uniform" or "stratified"
    records: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    assumed_uniform: bool = False

    @property
    def n(self):
        return len(self.rows)


# --- the corpus -------------------------------------------------------------------------------

def is_date_field(name):
    """Whether a --by field holds dates (cut into month or week buckets)."""
    return name.lower() in _DATE_NAMES or name.lower().endswith("_date")


def _bucket(value, period):
    """'2016-03' (month) or '2016-W09' (ISO week) for a date-like value; '' when unreadable."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            return ""
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def group_values(name, values, period):
    """An object array of group values: dates cut into `period` buckets, others as strings."""
    if is_date_field(name):
        return np.array([_bucket(v, period) for v in values], dtype=object)
    return np.array(["" if v is None else str(v) for v in values], dtype=object)


def scores_dicts(column):
    """Python dicts from a scores column stored as a map, a struct or a JSON string."""
    out = []
    for v in column:
        if v is None:
            out.append({})
        elif isinstance(v, dict):
            out.append({k: x for k, x in v.items() if x is not None})
        elif isinstance(v, str):
            try:
                parsed = json.loads(v) if v.strip() else {}
            except json.JSONDecodeError:
                raise DataError(f"scores {v[:60]!r}: not JSON; the scores column holds {{category: probability}}") from None
            out.append(parsed if isinstance(parsed, dict) else {})
        else:  # a map arrives as a list of (key, value) pairs
            out.append({k: x for k, x in v if x is not None})
    return out


def kinds_note(dropped):
    return (f"{dropped} sentences of other kinds than {' or '.join(MEASURED_KINDS)} (bylines) left out: "
            "they are never pushed for review, so no audit can sample them") if dropped else None


def _from_rows(rows, by, period, source):
    """A `Corpus` from dicts with the prediction-record fields."""
    total = len(rows)
    rows = [r for r in rows if r.get("kind") in (None, *MEASURED_KINDS)]
    n = len(rows)
    if not n:
        raise DataError(f"{source}: no prediction rows; run `slant analyze` on the corpus first")
    scores = scores_dicts([r.get("scores") for r in rows])
    labels = [r.get("labels") or [] for r in rows]
    cats = []
    for s in scores:
        cats.extend(k for k in s if k not in cats)
    for ls in labels:
        cats.extend(k for k in ls if k not in cats)
    lab = {c: np.zeros(n, dtype=np.int8) for c in cats}
    for i, ls in enumerate(labels):
        for c in ls:
            lab[c][i] = 1
    sc = {}
    for c in cats:
        col = np.array([s.get(c, np.nan) for s in scores], dtype=float)
        sc[c] = np.where(np.isnan(col), lab[c], col)
    groups = {}
    for f in by:
        vals = [_field(r, f) for r in rows]
        if all(v is None for v in vals):
            raise InputError(f"--by {f}: no prediction row has a field {f!r}; fields there: "
                             f"{', '.join(sorted(k for k in rows[0] if k not in ('scores', 'labels', 'spans')))}")
        groups[f] = group_values(f, vals, period)
    sids = [r.get("slant_id") for r in rows]
    return Corpus(
        n=n, categories=cats, labels=lab, scores=sc, groups=groups,
        slant_ids=np.array([str(s) if s else "" for s in sids], dtype=object) if any(sids) else None,
        doc_ids=np.array([str(r.get("doc_id", "")) for r in rows], dtype=object),
        sentence_index=np.array([r.get("sentence_index") if isinstance(r.get("sentence_index"), int) else -1
                                 for r in rows], dtype=np.int64),
        model_versions=Counter(str(r.get("model_version")) for r in rows if r.get("model_version")),
        source=source, notes=[x for x in [kinds_note(total - n)] if x])


def _field(row, name):
    if name in row:
        return row[name]
    for nest in ("metadata", "data", "meta"):
        if isinstance(row.get(nest), dict) and name in row[nest]:
            return row[nest][name]
    return None


def read_jsonl_corpus(path, by, period):
    """A `Corpus` from a JSONL of prediction records (`slant analyze --format jsonl`)."""
    rows = []
    with Path(path).open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise DataError(f"{path}:{lineno}: not a JSON line; PREDICTIONS is the JSONL from "
                                "`slant analyze --format jsonl` or the directory from `slant analyze --out`") from None
            if not isinstance(obj, dict) or "labels" not in obj:
                raise DataError(f"{path}:{lineno}: not a prediction record (no 'labels'); see "
                                "schemas/prediction.schema.json")
            rows.append(obj)
    return _from_rows(rows, by, period, str(path))


# --- the audit -----------------------------------------------------------------------------------

def _slant_id(rec):
    data = rec.get("data") if isinstance(rec.get("data"), dict) else {}
    return rec.get("slant_id") or data.get("slant_id")


def audit_from_arrays(rows, y, p, strata, *, records=(), notes=(), assumed_uniform=False):
    """An `Audit` from arrays; the design is uniform when every p is the same."""
    p = np.asarray(p, dtype=float)
    design = "uniform" if p.size and np.allclose(p, p[0], rtol=1e-9) else "stratified"
    return Audit(rows=np.asarray(rows, dtype=np.int64), y={c: np.asarray(v, dtype=float) for c, v in y.items()},
                 p=p, strata=np.asarray(strata, dtype=object), design=design, records=list(records),
                 notes=list(notes), assumed_uniform=assumed_uniform)


def read_audit(path, corpus, *, assume_uniform=False, every_record=False):
    """The audited sentences of the reviewed records at `path`, joined to `corpus`.

    `every_record` takes every reviewed record, marked or not (`--plan` only measures how
    well the model agrees with the coders; it estimates nothing from them).
    """
    from slant.records.reviewed import iter_reviewed

    records = list(iter_reviewed(path))
    assume_uniform = assume_uniform or every_record
    marked = records if every_record else [r for r in records if isinstance(r.get("audit"), dict)]
    notes = []
    if not marked:
        if not assume_uniform:
            raise DataError(f"{path}: no record carries an audit mark (audit.p); these may be review-queue tasks "
                            "chosen least-certain-first, which are not a random sample. Push an audit sample with "
                            "`slant push --from DIR --audit N` and pull it, or pass --assume-uniform if these "
                            "records are a uniform random sample of the corpus")
        marked = records
    elif len(marked) < len(records):
        notes.append(f"{len(records) - len(marked)} reviewed records without an audit mark were left out "
                     "(not part of the random sample)")
    bad = [r["id"] for r in marked if isinstance(r.get("audit"), dict) and not _probability(r["audit"].get("p"))]
    if bad and not assume_uniform:
        raise DataError(f"{path}: {len(bad)} audit records have no inclusion probability audit.p in (0, 1] "
                        f"(e.g. {bad[0]!r}); pull the project again with a current slant, or pass --assume-uniform "
                        "if the audit was a uniform random sample")
    undecided = [r for r in marked if r.get("adjudicated") is False]
    if undecided:
        notes.append(f"{len(undecided)} audit tasks have no decided labels yet (not annotated, or no unanimous "
                     "decision) and were left out; an audit is random only when it is complete: annotate them")
    marked = [r for r in marked if r.get("adjudicated") is not False]
    use_sid = corpus.slant_ids is not None
    by_sid = corpus.row_index(True) if use_sid else {}
    by_pos = corpus.row_index(False)
    rows, kept, unmatched, repeated = [], [], 0, 0
    seen = set()
    for r in marked:
        sid = _slant_id(r)
        i = by_sid.get(str(sid)) if sid and use_sid else None
        if i is None and not sid and isinstance(r.get("sentence_index"), int):
            i = by_pos.get((str(r.get("doc_id")), r["sentence_index"]))
        if i is None:
            unmatched += 1
            continue
        if i in seen:
            repeated += 1
            continue
        seen.add(i)
        rows.append(i)
        kept.append(r)
    if not rows:
        raise DataError(f"{path}: none of its {len(marked)} audit records matches a prediction row of {corpus.source} "
                        "(joined on slant_id, else doc_id + sentence_index); measure the corpus the audit was drawn "
                        "from, analyzed with the same taxonomy")
    if unmatched:
        notes.append(f"{unmatched} audit records match no prediction row and were left out")
    if repeated:
        notes.append(f"{repeated} audit records repeat a sentence already in the audit; the first one was used")
    uniform_p = len(rows) / corpus.n
    p, strata = [], []
    for r in kept:
        a = r.get("audit") if isinstance(r.get("audit"), dict) else {}
        p.append(float(a["p"]) if _probability(a.get("p")) else uniform_p)
        strata.append(str(a.get("stratum") or "") if _probability(a.get("p")) else "")
    if assume_uniform and (not any(isinstance(r.get("audit"), dict) for r in kept) or bad):
        notes.append(f"inclusion probabilities assumed uniform (--assume-uniform): p = {len(rows)}/{corpus.n}")
    foreign = Counter(x for r in kept for x in r["labels"] if x not in corpus.categories)
    if foreign:
        notes.append("audit labels the predictions have no scores for (not measured): "
                     + ", ".join(f"{k} ({v})" for k, v in foreign.most_common()))
    y = {c: np.array([1.0 if c in r["labels"] else 0.0 for r in kept]) for c in corpus.categories}
    return audit_from_arrays(rows, y, p, strata, records=kept, notes=notes, assumed_uniform=assume_uniform)


def _probability(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1
