"""Sentence labels and spans that agree: the span model's spans for the ticked span-level
categories, attribution decided over the sources it finds, and scare quotes only where a
short quoted phrase exists (`apply_tagger`, called by `SlantClassifier.predict_explain`)."""

import re

import numpy as np

from slant.model.spantagger import ATTRIBUTION

__all__ = ["apply_tagger", "short_quotes"]

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


def apply_tagger(tagger, texts, classes, proba, chosen, spans, explain=True):
    """Sentence labels and spans that agree: for each sentence, the tagger marks every
    ticked span-level category it covers (its spans replace the explanation spans of those
    categories), and attribution is decided over the sources it finds: named, vague, or
    both only when there are two sources. A sentence where both attribution labels are
    ticked but no source is found keeps the more probable one. Returns ``(chosen, spans)``."""
    classes = list(classes)
    col = {c: j for j, c in enumerate(classes)}
    attr_cols = [col[c] for c in ATTRIBUTION if c in col]
    chosen = chosen.copy()
    out = [] if spans is not None else None
    needs_all = []
    for i, text in enumerate(texts):
        if "scare_quotes" in col and chosen[i, col["scare_quotes"]] and not short_quotes(text):
            chosen[i, col["scare_quotes"]] = False  # no short quoted phrase: no scare quote
        covered = [classes[j] for j in np.flatnonzero(chosen[i]) if tagger.covers(classes[j])]
        needs_all.append(covered if explain else [c for c in covered if c in ATTRIBUTION])
    tagged_all = tagger.tag_many(texts, needs_all)
    for i, text in enumerate(texts):
        needs = needs_all[i]
        tagged, attribution = tagged_all[i]
        if "scare_quotes" in needs:
            tagged = [s for s in tagged if s["label"] != "scare_quotes"] + _scare_quotes(text, tagged)
        if attribution is not None and len(attr_cols) == 2:
            if attribution:
                for c in ATTRIBUTION:
                    chosen[i, col[c]] = c in attribution
            elif chosen[i, attr_cols].all():
                weaker = min(attr_cols, key=lambda j: proba[i, j])
                chosen[i, weaker] = False
        if out is not None:
            kept = [s for s in spans[i] if not tagger.covers(s["label"])]
            now = {classes[j] for j in np.flatnonzero(chosen[i])}
            out.append(sorted(kept + [s for s in tagged if s["label"] in now], key=lambda s: (s["start"], s["end"])))
    return chosen, out
