"""Label Studio's JSON and labeling-config names: the one writer and the one reader.

Writes task ``data`` for a document's sentences and a prediction's ``result`` regions;
reads annotation and prediction results back into category ids (`read_result`, used by
`slant pull` and by the ML backend's journal alike) and the choice and label names of a
labeling config (`config_names`, `check_label_config`). Nothing here talks to Label
Studio or runs a model: `slant.studio` sends what this module builds, and
`slant.loop.prelabel` runs the model.

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
import re
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from slant.errors import DataError
from slant.taxonomy.core import CHOICES_NAME, NOTE_NAME, SPANS_NAME, TEXT_NAME

__all__ = [
    "PUSHED_KINDS",
    "ResultLabels",
    "check_label_config",
    "confidence",
    "config_names",
    "content_hash",
    "iter_task_data",
    "label_lookup",
    "prediction_json",
    "read_result",
    "sentence_data",
    "slant_id",
    "task_data",
]

# Bylines ("By Jane Doe") carry no rhetoric worth an annotator's time.
PUSHED_KINDS = ("title", "body")


def content_hash(text):
    """The hash of a document's text that `slant_id` keys on."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def slant_id(content_hash, start, end, taxonomy_id):
    """The idempotency key of one sentence task: document content, offsets, taxonomy.

    The same article pushed twice, under any file name, gives the same ids; another
    taxonomy gives other ids because its labels mean something else.
    """
    key = f"{taxonomy_id}\x1f{content_hash}\x1f{start}\x1f{end}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def task_data(document, *, taxonomy):
    """Task ``data`` dicts for the pushable sentences of one `Document`, in order (a list;
    `iter_task_data` streams them)."""
    return list(iter_task_data(document, taxonomy=taxonomy))


def iter_task_data(document, *, taxonomy):
    """Task ``data`` dicts (`sentence_data`) for the pushable sentences of one `Document`,
    one at a time, so a document of any size costs one batch of tasks, not one dict per
    sentence at once.

    Context fields hold the neighbouring pushed sentences of the same document ("" at
    the edges): the labeling config requires the keys to exist.
    """
    digest = content_hash(document.text)
    meta = document.meta or {}
    doc_id, title, source = str(document.id), document.title or "", document.source or ""
    before, current = None, None
    for s in [*(s for s in document.sentences if s.kind in PUSHED_KINDS), None]:
        if current is not None:
            yield sentence_data(
                meta, text=current.text, context_before=before.text if before is not None else "",
                context_after=s.text if s is not None else "", doc_id=doc_id, doc_title=title,
                sentence_index=current.index, start=current.start, end=current.end, source=source,
                slant_id=slant_id(digest, current.start, current.end, taxonomy.id))
        before, current = current, s


def sentence_data(meta, *, text, context_before, context_after, doc_id, doc_title, sentence_index, start, end,
                  source, slant_id):
    """The ``data`` of one sentence's task, whoever builds it (`iter_task_data` from a
    `Document`, `slant push --from` from a Parquet row): every field of the document's
    `meta` (outlet, date, url, ...) unless its name is one of the sentence's own fields,
    which come after it, or starts with ``slant_`` (slant's own marks, such as the audit
    sample's)."""
    return {
        **{k: v for k, v in meta.items() if not str(k).startswith("slant_")},
        "text": text,
        "context_before": context_before,
        "context_after": context_after,
        "doc_id": doc_id,
        "doc_title": doc_title,
        "sentence_index": sentence_index,
        "start": start,
        "end": end,
        "source": source,
        "slant_id": slant_id,
    }


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


def confidence(prediction, sentence_ids):
    """How sure the model is of the sentence-level labels it shows, 0..1: the lowest
    probability among the ticked categories (the weakest shown label); with none ticked,
    1 - the highest probability of any category (how sure it is that none applies)."""
    scores = prediction.scores or {}
    shown = [scores.get(lab, 0.0) for lab in prediction.labels if lab in sentence_ids]
    if shown:
        return min(shown)
    return 1.0 - max((v for k, v in scores.items() if k in sentence_ids), default=0.0)


def prediction_json(prediction, *, text, taxonomy, model_version, key=""):
    """One Label Studio prediction for a sentence from a model `Prediction`.

    - a ``choices`` result ("categories") with the display names of the predicted
      sentence-level categories, scored by their mean probability; left out when none
      is predicted, so an accepted "none of these" annotation carries no empty region;
    - one ``labels`` result ("spans") per explanation span of a predicted span-level
      category (or of a span-only category), scored by that category's probability;
      spans with no positive weight, or under `MIN_RELATIVE_WEIGHT` of their label's
      strongest span, are left out;
    - ``score`` = `confidence`: how sure the model is of what it shows (Label Studio
      shows it as a percentage). The review queue orders by the task's
      ``slant_uncertainty`` instead (`slant.loop.prelabel`).
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
        "score": _score(confidence(prediction, sentence_ids)),
        "result": result,
    }


# --- reading results back ------------------------------------------------------------------

def _id_form(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class _MigratingLookup(dict):
    """A `label_lookup` that also reads names of earlier taxonomy versions.

    A project labelled with an earlier version stores that version's display names. A
    name this version does not know is read in id form ("Loaded language" ->
    ``loaded_language``) and, when that is one of this version's ids or an id its
    migrations map, gives the migrated ids: a tuple, empty for a retired category.
    """

    def __init__(self, exact, migrated):
        super().__init__(exact)
        self.migrated = migrated

    def get(self, name, default=None):
        found = super().get(name)
        if found is not None or not isinstance(name, str):
            return default if found is None else found
        form = _id_form(name)
        found = super().get(form)
        if found is None:
            found = self.migrated.get(form)
        return default if found is None else found


def label_lookup(taxonomy):
    """Display name or id -> category id (`Taxonomy.id_for_name` as one dict lookup), plus the
    names of earlier versions migrated to this one (see `_MigratingLookup`)."""
    exact = {**{c.name: c.id for c in taxonomy.categories}, **{c.id: c.id for c in taxonomy.categories}}
    migrated = {}
    for m in taxonomy.migrations:
        for old in m["from"] if isinstance(m["from"], list) else [m["from"]]:
            migrated[old] = tuple(taxonomy.migrate_labels([old])[0])
    return _MigratingLookup(exact, migrated)


@dataclass
class ResultLabels:
    """What one annotation's or prediction's ``result`` says, in category ids."""

    labels: list                                 # sorted ids: chosen categories and highlighted span labels
    spans: list                                  # {"start", "end", "label", "text" when given}, known labels only
    note: str = None                             # the reviewer note (TextArea), lines joined
    unknown: list = field(default_factory=list)  # names the taxonomy does not know, as found (repeats kept)
    scores: dict = field(default_factory=dict)   # id -> region score (predictions; a span label's highest)


def _names(value, key):
    names = value.get(key)
    return names if isinstance(names, list) else []


def read_result(result, lookup):
    """`ResultLabels` of one Label Studio ``result`` list; `lookup` is `label_lookup(taxonomy)`.

    The one set of rules for `slant pull` and the ML backend's journal:

    - a region counts only when it comes from one of slant's controls with its type:
      ``categories`` (choices), ``spans`` (labels), ``note`` (textarea); anything else,
      and any region or value that is not a JSON object, is ignored;
    - a name is a category's display name or its id; any other name (or a non-string)
      goes to ``unknown`` and is never turned into a label or a span;
    - a highlighted span label also labels the sentence (docs/annotator-guide.md: "a
      highlight of Loaded language means the sentence uses loaded language"), which is
      also the only way a span-only category can label a sentence;
    - a span needs integer ``start`` and ``end``; its ``text`` is kept when it is a string.
    """
    labels, spans, notes, unknown, scores = set(), [], [], [], {}
    for r in result or ():
        if not isinstance(r, dict) or not isinstance(r.get("value"), dict):
            continue
        kind, value, control = r.get("type"), r["value"], r.get("from_name")
        if control == NOTE_NAME and kind == "textarea":
            notes.extend(str(t) for t in _names(value, "text"))
            continue
        if control == CHOICES_NAME and kind == "choices":
            names = _names(value, "choices")
        elif control == SPANS_NAME and kind == "labels":
            names = _names(value, "labels")
        else:
            continue
        for name in names:
            found = lookup.get(name) if isinstance(name, str) else None
            if found is None:
                unknown.append(str(name))
                continue
            for cid in (found,) if isinstance(found, str) else found:  # a migrated name: its ids (none if retired)
                labels.add(cid)
                if r.get("score") is not None:
                    scores[cid] = float(r["score"]) if kind == "choices" else max(scores.get(cid, 0.0), float(r["score"]))
                if kind == "labels" and isinstance(value.get("start"), int) and isinstance(value.get("end"), int):
                    span = {"start": value["start"], "end": value["end"], "label": cid}
                    if isinstance(value.get("text"), str):
                        span["text"] = value["text"]
                    spans.append(span)
    return ResultLabels(sorted(labels), spans, "\n".join(notes) if notes else None, unknown, scores)


# --- labeling configs ------------------------------------------------------------------------

def config_names(config):
    """``(choice values, label values)`` of slant's controls in a labeling config.

    Raises `DataError` when the config is not XML.
    """
    try:
        root = ET.fromstring(config or "")
    except ET.ParseError as exc:
        raise DataError(f"the project's labeling config is not valid XML ({exc}); create the project with `slant push`") from None
    choices = {c.get("value") for tag in root.iter("Choices") if tag.get("name") == CHOICES_NAME for c in tag.iter("Choice")}
    labels = {c.get("value") for tag in root.iter("Labels") if tag.get("name") == SPANS_NAME for c in tag.iter("Label")}
    return choices, labels


def check_label_config(config, taxonomy):
    """Raise `DataError` when a project's labeling config cannot show this taxonomy's labels."""
    choices, labels = config_names(config)
    missing = [c.name for c in taxonomy.categories if c.sentence_level and c.name not in choices]
    missing += [c.name for c in taxonomy.categories if c.span_level and c.name not in labels and c.name not in missing]
    if missing:
        raise DataError(
            f"the project's labeling config has no choice or label for {', '.join(missing)} of taxonomy {taxonomy.id} "
            f"{taxonomy.version}; connect this backend to a project made by `slant push` with the same taxonomy"
        )
