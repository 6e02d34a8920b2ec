"""Sentence labels and spans that agree: the span model's spans for the ticked span-level
categories, attribution decided over the sources it finds, scare quotes only where a
short quoted phrase exists, and one label per word (`apply_tagger`, called by
`SlantClassifier.predict_explain`).

Overlapping spans of two labels render in Label Studio as one block whose colour and
label cannot be read, so where spans overlap the more probable category (its sentence
probability; then the span's weight) keeps the words, the other span keeps only its words
outside the overlap, and a span-level category left without a span is no longer ticked:
the words were the other device's. Only `COMPATIBLE` pairs (one device inside another,
shown with distinct extents) may share words.
"""

import re

import numpy as np

from slant.model.spantagger import ATTRIBUTION, is_cue

__all__ = ["COMPATIBLE", "apply_tagger", "one_label_per_word", "short_quotes"]

# A scare quote's span includes its quotation marks, so a loaded or name-calling word
# inside it still shows as its own, narrower block.
COMPATIBLE = frozenset({frozenset({"scare_quotes", "loaded_language"}), frozenset({"scare_quotes", "name_calling"})})

_SHORT_QUOTE = re.compile(r"[“‘«][^“”‘’«»]{1,60}?[”’»]|\"[^\"]{1,60}?\"|(?<!\w)'[^']{1,60}?'(?!\w)")


def short_quotes(text):
    """Quoted phrases of one to six words that are not the whole sentence: what a scare
    quote can be (the taxonomy: "usually one to four words"; a full quoted statement is
    not a scare quote). ``[(start, end)]`` with the marks."""
    out = []
    for m in _SHORT_QUOTE.finditer(text):
        inner = m.group(0)[1:-1].strip(" ,.")
        if inner and len(inner.split()) <= 6 and len(m.group(0)) < 0.8 * len(text.strip()):
            out.append((m.start(), m.end()))
    return out


def _scare_quotes(text, tagged):
    """Scare-quote spans snapped to the short quoted phrases they touch (the best phrase
    when none is touched); [] when the sentence has no short quoted phrase."""
    phrases = short_quotes(text)
    if not phrases:
        return []
    runs = [s for s in tagged if s["label"] == "scare_quotes"]
    hit = [(a, b) for a, b in phrases if any(s["start"] < b and a < s["end"] for s in runs)]
    best = max(runs, key=lambda s: s["weight"], default=None)
    weight = best["weight"] if best else 0.0
    return [{"start": a, "end": b, "label": "scare_quotes", "text": text[a:b], "weight": weight} for a, b in (hit or phrases[:1])]


def _trim(text, span, taken):
    """The parts of `span` outside the character ranges `taken`, at word boundaries, that
    still hold a word character; ``[]`` when nothing is left."""
    free, a = [], None
    for k in range(span["start"], span["end"] + 1):
        inside = k == span["end"] or any(s <= k < e for s, e in taken)
        if not inside and a is None:
            a = k
        elif inside and a is not None:
            free.append((a, k))
            a = None
    out = []
    for a, b in free:
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip(" ,;:.-—–"))
        a, b = a + lead, a + len(piece.rstrip(" ,;:-—–"))
        # cut at word boundaries: a part word is not a span
        if a > span["start"] and text[a - 1].isalnum() and a < b and text[a].isalnum():
            while a < b and text[a].isalnum():
                a += 1
        if b < span["end"] and text[b].isalnum() and b > a and text[b - 1].isalnum():
            while b > a and text[b - 1].isalnum():
                b -= 1
        piece = text[a:b].strip()
        if any(c.isalnum() for c in piece):
            out.append({**span, "start": a, "end": a + len(text[a:b].rstrip()), "text": text[a:a + len(text[a:b].rstrip())]})
    return out


def one_label_per_word(text, spans, strength):
    """`spans` (``[{start, end, label, weight, ...}]``) with no word under two labels unless
    the pair is `COMPATIBLE`: the spans are taken strongest first (``strength(label)``, then
    the span's weight) and each keeps only its characters not taken by an incompatible
    stronger span (`_trim`). Same-label spans never compete. An attribution's reporting
    verb ("said", "conceded") yields to any other device on it (the seed marks "conceded"
    as both the cue and epistemic framing; the attribution keeps its source's span)."""
    def rank(s):
        cue = s["label"] in ATTRIBUTION and is_cue(s.get("text") or text[s["start"]:s["end"]])
        return (cue, -strength(s["label"]), -float(s.get("weight") or 0.0), s["start"])

    order = sorted(spans, key=rank)
    kept = []
    for span in order:
        taken = [(k["start"], k["end"]) for k in kept
                 if k["label"] != span["label"] and frozenset({k["label"], span["label"]}) not in COMPATIBLE
                 and k["start"] < span["end"] and span["start"] < k["end"]]
        kept.extend(_trim(text, span, taken) if taken else [span])
    return sorted(kept, key=lambda s: (s["start"], s["end"], s["label"]))


def apply_tagger(tagger, texts, classes, proba, chosen, spans):
    """Sentence labels and spans that agree: for each sentence, the tagger marks every
    ticked span-level category it covers (its spans replace the explanation spans of those
    categories), and attribution is decided over the sources it finds: named, vague, or
    both only when there are two sources. A sentence where both attribution labels are
    ticked but no source is found keeps the more probable one. Returns ``(chosen, spans)``."""
    classes = list(classes)
    col = {c: j for j, c in enumerate(classes)}
    attr_cols = [col[c] for c in ATTRIBUTION if c in col]
    covered = [j for j, c in enumerate(classes) if tagger.covers(c)]
    rows = chosen.tolist()  # per sentence, as lists: indexing numpy one cell at a time cost more than the rest
    out = [] if spans is not None else None
    needs_all = []
    scare = col.get("scare_quotes")
    for i, text in enumerate(texts):
        row = rows[i]
        if scare is not None and row[scare] and not short_quotes(text):
            row[scare] = False  # no short quoted phrase: no scare quote
        # every ticked span category is tagged, spans wanted or not: where spans overlap,
        # the weaker label is dropped, so the labels must not depend on `explain`
        needs_all.append([classes[j] for j in covered if row[j]])
    tagged_all = tagger.tag_many(texts, needs_all)
    for i, text in enumerate(texts):
        row = rows[i]
        needs = needs_all[i]
        tagged, attribution = tagged_all[i]
        if "scare_quotes" in needs:
            tagged = [s for s in tagged if s["label"] != "scare_quotes"] + _scare_quotes(text, tagged)
        if attribution is not None and len(attr_cols) == 2:
            if attribution:
                for c in ATTRIBUTION:
                    row[col[c]] = c in attribution
            elif all(row[j] for j in attr_cols):
                weaker = min(attr_cols, key=lambda j: proba[i, j])
                row[weaker] = False
        mine = tagged
        if mine:
            now = {classes[j] for j, on in enumerate(row) if on}
            mine = [s for s in tagged if s["label"] in now]
        if mine:
            resolved = one_label_per_word(text, mine, lambda lab, i=i: proba[i, col[lab]])
            for lab in {s["label"] for s in mine} - {s["label"] for s in resolved}:
                row[col[lab]] = False  # its words were a stronger device's: no span, no label
            mine = resolved
        if out is not None:
            kept = [s for s in spans[i] if not tagger.covers(s["label"])]
            if mine:
                now = {classes[j] for j, on in enumerate(row) if on}
                kept += [s for s in mine if s["label"] in now]
            out.append(sorted(kept, key=lambda s: (s["start"], s["end"])))
    chosen = np.array(rows, dtype=chosen.dtype).reshape(chosen.shape)
    return chosen, out
