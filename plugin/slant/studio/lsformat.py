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
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from slant.errors import DataError
from slant.taxonomy.core import CHOICES_NAME, NOTE_NAME, SPANS_NAME, TEXT_NAME

__all__ = [
    "PUSHED_KINDS",
    "ResultLabels",
    "check_label_config",
    "config_names",
    "content_hash",
    "label_lookup",
    "prediction_json",
    "read_result",
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
    """Task ``data`` dicts for the pushable sentences of one `Document`, in order.

    Context fields hold the neighbouring pushed sentences of the same document ("" at
    the edges): the labeling config requires the keys to exist. Every metadata field of
    the document (outlet, date, url, ...) is carried too, unless its name is one of these
    or starts with ``slant_`` (slant's own marks, such as the audit sample's).
    """
    sentences = [s for s in document.sentences if s.kind in PUSHED_KINDS]
    digest = content_hash(document.text)
    meta = {k: v for k, v in (document.meta or {}).items() if not str(k).startswith("slant_")}
    out = []
    for i, s in enumerate(sentences):
        out.append({
            **meta,
            "text": s.text,
            "context_before": sentences[i - 1].text if i > 0 else "",
            "context_after": sentences[i + 1].text if i + 1 < len(sentences) else "",
            "doc_id": str(document.id),
            "doc_title": document.title or "",
            "sentence_index": s.index,
            "start": s.start,
            "end": s.end,
            "source": document.source or "",
            "slant_id": slant_id(digest, s.start, s.end, taxonomy.id),
        })
    return out


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


def prediction_json(prediction, *, text, taxonomy, model_version, key=""):
    """One Label Studio prediction for a sentence from a model `Prediction`.

    - a ``choices`` result ("categories") with the display names of the predicted
      sentence-level categories, scored by their mean probability; left out when none
      is predicted, so an accepted "none of these" annotation carries no empty region;
    - one ``labels`` result ("spans") per explanation span of a predicted span-level
      category (or of a span-only category), scored by that category's probability;
      spans with no positive weight, or under `MIN_RELATIVE_WEIGHT` of their label's
      strongest span, are left out;
    - ``score`` = 1 - uncertainty: Label Studio's uncertainty sampling and the review
      queue order by ascending score, so the least certain sentence comes first.
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
        "score": _score(1.0 - float(prediction.uncertainty)),
        "result": result,
    }


# --- reading results back ------------------------------------------------------------------

def label_lookup(taxonomy):
    """Display name or id -> category id (`Taxonomy.id_for_name` as one dict lookup)."""
    return {**{c.name: c.id for c in taxonomy.categories}, **{c.id: c.id for c in taxonomy.categories}}


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
            cid = lookup.get(name) if isinstance(name, str) else None
            if cid is None:
                unknown.append(str(name))
                continue
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
