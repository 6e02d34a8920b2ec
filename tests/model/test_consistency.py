"""slant.model.consistency: one label per word where spans of two categories overlap, and
the label that loses all its words is no longer ticked."""

import numpy as np
import pytest

from slant.model.consistency import COMPATIBLE, apply_tagger, one_label_per_word


def _span(text, phrase, label, weight=0.9):
    a = text.index(phrase)
    return {"start": a, "end": a + len(phrase), "label": label, "text": phrase, "weight": weight}


TEXT = "Critics said the reckless giveaway will bankrupt every family in the county."


def test_the_more_probable_category_keeps_the_shared_words():
    spans = [_span(TEXT, "reckless giveaway", "loaded_language"),
             _span(TEXT, "the reckless giveaway will bankrupt every family", "exaggeration")]
    strength = {"loaded_language": 0.9, "exaggeration": 0.6}.get
    got = one_label_per_word(TEXT, spans, strength)
    assert [(s["text"], s["label"]) for s in got] == [
        ("the", "exaggeration"), ("reckless giveaway", "loaded_language"), ("will bankrupt every family", "exaggeration")]
    assert all(TEXT[s["start"]:s["end"]] == s["text"] for s in got)
    # the other way round, the wider span takes every word and the loaded span is gone
    got = one_label_per_word(TEXT, spans, {"loaded_language": 0.5, "exaggeration": 0.6}.get)
    assert [s["label"] for s in got] == ["exaggeration"]


def test_trimmed_spans_end_at_word_boundaries_and_keep_a_word():
    spans = [_span(TEXT, "reckless", "loaded_language"), _span(TEXT, "reckless giveaway", "name_calling")]
    got = one_label_per_word(TEXT, spans, {"loaded_language": 0.9, "name_calling": 0.8}.get)
    assert {(s["text"], s["label"]) for s in got} == {("reckless", "loaded_language"), ("giveaway", "name_calling")}
    # a span inside a word of another is never split into a part word
    spans = [_span(TEXT, "bankrupt", "loaded_language"), {**_span(TEXT, "will bankrupt", "exaggeration"), "start": TEXT.index("will")}]
    spans[0] = {**spans[0], "start": spans[0]["start"] + 4, "text": "rupt"}
    got = one_label_per_word(TEXT, spans, {"loaded_language": 0.9, "exaggeration": 0.8}.get)
    assert ("will", "exaggeration") in {(s["text"], s["label"]) for s in got}
    assert not any(s["text"] in ("bank", "ban") for s in got)


def test_same_label_and_compatible_spans_may_share_words():
    text = "They call it a “rescue” of the city."
    quote, loaded = _span(text, "“rescue”", "scare_quotes"), _span(text, "rescue", "loaded_language")
    assert frozenset({"scare_quotes", "loaded_language"}) in COMPATIBLE
    got = one_label_per_word(text, [quote, loaded], {"scare_quotes": 0.9, "loaded_language": 0.8}.get)
    assert len(got) == 2
    same = [_span(TEXT, "reckless", "loaded_language"), _span(TEXT, "reckless giveaway", "loaded_language")]
    assert len(one_label_per_word(TEXT, same, lambda lab: 0.5)) == 2


@pytest.fixture(scope="module")
def tagger():
    from slant.model.seed import read_seed
    from slant.model.spantagger import SpanTagger

    recs, _ = read_seed()
    cats = ("loaded_language", "name_calling", "exaggeration", "attribution_named", "attribution_vague")
    return SpanTagger(categories=cats).fit([r["text"] for r in recs], [r["labels"] for r in recs],
                                           [r["spans"] for r in recs])


def test_apply_tagger_unticks_a_category_whose_words_went_to_another(tagger):
    classes = ["loaded_language", "name_calling", "exaggeration", "attribution_named", "attribution_vague"]
    text = "Critics called the mayor a reckless crook."
    for strong, weak in (("loaded_language", "name_calling"), ("name_calling", "loaded_language")):
        proba = np.zeros((1, len(classes)))
        proba[0, classes.index(strong)], proba[0, classes.index(weak)] = 0.95, 0.6
        chosen = proba >= 0.5
        new, spans = apply_tagger(tagger, [text], classes, proba, chosen, [[]])
        labels = {s["label"] for s in spans[0]}
        ticked = {classes[j] for j in np.flatnonzero(new[0])}
        assert strong in ticked and labels <= ticked and ticked <= labels  # labels and spans agree
        for a in spans[0]:
            for b in spans[0]:
                if a is not b and a["label"] != b["label"]:
                    assert a["end"] <= b["start"] or b["end"] <= a["start"], spans[0]  # no shared word
        # without spans asked for, the same labels
        same, _ = apply_tagger(tagger, [text], classes, proba, chosen, None)
        assert (same == new).all()


def test_a_reporting_verb_yields_to_epistemic_framing_and_the_source_stays():
    text = "Mayor Ruth Alvarez conceded the budget was short."
    spans = [_span(text, "Ruth Alvarez", "attribution_named"), _span(text, "conceded", "attribution_named"),
             _span(text, "conceded", "epistemic_framing", 0.7)]
    got = one_label_per_word(text, spans, {"attribution_named": 0.95, "epistemic_framing": 0.6}.get)
    assert {(s["text"], s["label"]) for s in got} == {("Ruth Alvarez", "attribution_named"), ("conceded", "epistemic_framing")}
