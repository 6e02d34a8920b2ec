"""What the importers share: the `ImportSummary`, the taxonomy's corpus mappings, building
a reviewed record, clipping spans to a sentence, reading a file with its exact offsets.

Labels map to taxonomy ids through each category's ``mappings`` ({"ptc": [...],
"polnear": [...]}). A span whose corpus label maps to no category keeps the corpus name
with a prefix, e.g. ``"ptc:Flag-Waving"``: it carries the information but is no taxonomy
id, so training ignores it; sentence `labels` only ever hold taxonomy ids.
"""

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from slant._words import counted
from slant.errors import InputError
from slant.records.reviewed import write_jsonl

__all__ = ["ImportSummary", "clip_span", "corpus_map", "finish_import", "make_record", "ordered_labels", "read_exact"]


@dataclass
class ImportSummary:
    corpus: str
    out: str
    documents: int = 0
    sentences: int = 0
    labels: Counter = field(default_factory=Counter)
    spans: int = 0
    unmapped: Counter = field(default_factory=Counter)
    notes: list = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self):
        return {"corpus": self.corpus, "out": self.out, "documents": self.documents,
                "sentences": self.sentences, "labels": dict(self.labels.most_common()),
                "spans": self.spans, "unmapped": dict(self.unmapped.most_common()),
                "notes": self.notes, "seconds": round(self.seconds, 2)}

    def format(self):
        lines = [f"{self.corpus}: {counted(self.documents, 'document')}, {counted(self.sentences, 'sentence')}, "
                 f"{counted(self.spans, 'span')} -> {self.out} ({self.seconds:.1f} s)"]
        for k, v in self.labels.most_common():
            lines.append(f"  {k}: {counted(v, 'sentence')}")
        if self.unmapped:
            names = ", ".join(f"{k} ({v})" for k, v in self.unmapped.most_common())
            lines.append(f"  not mapped to the taxonomy (kept as prefixed spans only): {names}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def corpus_map(taxonomy, corpus):
    """{corpus label name: [category ids]} from the categories' mappings."""
    out = defaultdict(list)
    for c in taxonomy.categories:
        for name in c.mappings.get(corpus, []):
            out[name].append(c.id)
    return dict(out)


def make_record(*, rid, doc_id, text, labels, spans, source, taxonomy, annotations=(), **extra):
    rec = {"id": rid, "doc_id": doc_id, "text": text,
           "labels": ordered_labels(labels, taxonomy), "spans": spans,
           "annotations": list(annotations), "policy": "import", "source": source}
    rec.update(extra)
    rec["taxonomy"] = {"id": taxonomy.id, "version": taxonomy.version}
    return rec


def ordered_labels(labels, taxonomy):
    """Label ids in taxonomy order (the ids tuple is rebuilt on each access, so cache it)."""
    if not labels:
        return []
    order = _ORDER.get(id(taxonomy))
    if order is None or order[0] is not taxonomy:
        order = _ORDER[id(taxonomy)] = (taxonomy, {c: i for i, c in enumerate(taxonomy.ids)})
    return sorted((label for label in set(labels) if label in order[1]), key=order[1].get)


_ORDER = {}


def clip_span(start, end, s_start, s_end, text):
    a, b = max(start, s_start) - s_start, min(end, s_end) - s_start
    return {"start": a, "end": b, "text": text[a:b]}


def read_exact(path):
    """Text with offsets as in the file: no newline translation."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start}); convert it, e.g. iconv -f latin1 -t utf-8") from None


def finish_import(summary, out, records, t0):
    summary.sentences = write_jsonl(records, out)
    summary.seconds = time.perf_counter() - t0
    return summary
