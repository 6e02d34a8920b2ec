"""slant.model.spantagger: spans from a span model, labels and spans that agree, and
attribution decided over the sources found."""

import numpy as np
import pytest

from slant.model.consistency import apply_tagger
from slant.model.metrics import char_overlap
from slant.model.seed import load_model, read_seed
from slant.model.spantagger import SpanTagger


@pytest.fixture(scope="module")
def tagger():
    recs, _ = read_seed()
    cats = ("loaded_language", "name_calling", "scare_quotes", "attribution_named", "attribution_vague")
    return SpanTagger(categories=cats).fit([r["text"] for r in recs], [r["labels"] for r in recs],
                                           [r["spans"] for r in recs])


@pytest.fixture(scope="module")
def model(tax, tmp_path_factory):
    return load_model(None, taxonomy=tax, cache_dir=tmp_path_factory.mktemp("cache"))


def test_char_overlap():
    assert char_overlap([(0, 5)], [(3, 8)]) == (2, 5, 5)
    assert char_overlap([], [(0, 2)]) == (0, 0, 2)


def test_only_ticked_categories_get_spans(tagger):
    text = "Critics say the council rammed the budget through without a hearing."
    spans, attribution = tagger.tag(text, ["loaded_language"])
    assert spans and {s["label"] for s in spans} == {"loaded_language"} and attribution is None
    assert all(text[s["start"]:s["end"]] == s["text"] for s in spans)
    assert "rammed" in " ".join(s["text"] for s in spans)
    assert tagger.tag(text, ["omission"]) == ([], None)  # not a span-level category


def test_scare_quote_spans_carry_their_marks(tagger):
    text = "The agency's so-called “review” took less than a day."
    spans, _ = tagger.tag(text, ["scare_quotes"])
    assert any("review" in s["text"] for s in spans), spans  # the tagger finds the words
    _, spans = apply_tagger(tagger, [text], ["scare_quotes"], np.array([[0.9]]), np.array([[True]]), [[]])
    assert [s["text"] for s in spans[0]] == ["“review”"]  # snapped to the marks in consistency


@pytest.mark.parametrize("text, role, source", [
    ("Mayor Ruth Alvarez said the bridge would reopen in May.", "attribution_named", "Ruth Alvarez"),
    ("Officials said the bridge would reopen in May.", "attribution_vague", "Officials"),
    ("A senior official said the talks had stalled.", "attribution_vague", "official"),
])
def test_sources_are_told_apart(tagger, text, role, source):
    spans, attribution = tagger.tag(text, ["attribution_named", "attribution_vague"])
    assert attribution == {role}, spans
    assert any(source in s["text"] and s["label"] == role for s in spans), spans


def test_apply_tagger_keeps_labels_and_spans_in_agreement(tagger):
    classes = ["loaded_language", "attribution_named", "attribution_vague", "omission"]
    texts = ["Officials said the reckless plan was a giveaway.", "The budget rose."]
    proba = np.array([[0.9, 0.6, 0.7, 0.1], [0.1, 0.6, 0.55, 0.8]])
    chosen = proba >= 0.5
    explained = [[{"start": 0, "end": 9, "label": "attribution_named", "text": "Officials"},
                  {"start": 23, "end": 27, "label": "omission", "text": "plan"}], []]
    new, spans = apply_tagger(tagger, texts, classes, proba, chosen, explained)
    # one vague source: named is dropped, vague kept; never both for the same source
    assert new[0].tolist() == [True, False, True, False]
    labels = {s["label"] for s in spans[0]}
    assert "attribution_named" not in labels and {"loaded_language", "attribution_vague"} <= labels
    assert {"start": 23, "end": 27, "label": "omission", "text": "plan"} in spans[0]  # not the tagger's: kept
    # no source found in the sentence: both ticked -> the more probable only
    assert new[1].tolist() == [False, True, False, True]


def test_the_default_model_has_a_span_model_and_its_spans_agree(model, tax):
    assert model.estimator.span_tagger_ is not None
    _, _, span_ids = tax.id_sets
    texts = ["Critics called the plan a reckless giveaway to developers.",
             "Supporters said it would fix aging pipes across the state.",
             "\"This is a scam,\" said Sen. Dana Hill."]
    for text, pred in zip(texts, model.predict(texts)):
        for lab in pred.labels:
            if lab in span_ids:
                assert any(s["label"] == lab for s in pred.spans), (text, pred)
        assert {s["label"] for s in pred.spans if s["label"] in span_ids} <= set(pred.labels)
        assert not {"attribution_named", "attribution_vague"} <= set(pred.labels) or len(
            [s for s in pred.spans if s["label"].startswith("attribution")]) >= 2


def test_a_model_with_a_span_model_survives_saving(model, tax, tmp_path):
    from slant.model.persist import read_model, save_model

    save_model(model, tmp_path / "m")
    again = read_model(tmp_path / "m", taxonomy=tax)
    text = ["Critics called the plan a reckless giveaway to developers."]
    assert again.predict(text)[0] == model.predict(text)[0]


def test_evaluate_reports_span_overlap_where_the_data_marks_spans(model):
    from slant.loop.evaluate import evaluate_model

    recs = [{"id": "x1", "doc_id": "d1", "text": "Critics called the plan a reckless giveaway to developers.",
             "labels": ["loaded_language", "attribution_vague"],
             "spans": [{"start": 26, "end": 43, "label": "loaded_language"}, {"start": 0, "end": 7, "label": "attribution_vague"}]},
            {"id": "x2", "doc_id": "d1", "text": "The council met on Tuesday.", "labels": []}]
    report = evaluate_model(model, recs)
    assert set(report["spans"]) == {"loaded_language", "attribution_vague"}
    assert report["spans"]["loaded_language"]["gold_chars"] == 17
    assert "kappa" in report["categories"]["loaded_language"]
    plain = evaluate_model(model, [{**r, "spans": []} for r in recs])
    assert "spans" not in plain


@pytest.mark.parametrize("text, quotes", [
    ("The agency's so-called “review” took less than a day.", ["“review”"]),
    ("He said the dividend was \"safe\" and the board agreed.", ['"safe"']),
    ("I don't think it's the 'reform' they promised.", ["'reform'"]),
    ("\"We heard a roar, and then everything was moving.\"", []),  # a full quotation
    ("“I never miss it.”", []),
    ("She said: “The plan that the council adopted last week will fail within a year.”", []),  # too long
])
def test_short_quotes(text, quotes):
    from slant.model.consistency import short_quotes

    assert [text[a:b] for a, b in short_quotes(text)] == quotes


def test_no_scare_quote_without_a_short_quoted_phrase(tagger):
    classes = ["scare_quotes", "loaded_language"]
    texts = ["\"We heard a roar, and then everything was moving.\"", "The so-called “review” took a day."]
    proba = np.array([[0.9, 0.1], [0.9, 0.1]])
    chosen, spans = apply_tagger(tagger, texts, classes, proba, proba >= 0.5, [[], []])
    assert chosen[:, 0].tolist() == [False, True]
    assert spans[0] == [] and [s["text"] for s in spans[1]] == ["“review”"]


def test_sources_and_cues_are_separate_spans_each_with_its_sources_role(tagger):
    text = "Officials said the bridge would reopen in May, according to Mayor Ruth Alvarez."
    spans, attribution = tagger.tag(text, ["attribution_named", "attribution_vague"])
    got = {(s["text"], s["label"]) for s in spans}
    assert attribution == {"attribution_named", "attribution_vague"}
    assert {("Officials", "attribution_vague"), ("said", "attribution_vague")} <= got, got
    assert ("according to", "attribution_named") in got and any("Ruth Alvarez" in t for t, lab in got if lab == "attribution_named")
    assert not any(t in ("the", "it") for t, _ in got)  # function words alone are never a span


def test_a_batch_is_tagged_as_each_sentence_alone(tagger):
    # tag_many scores the sources of the whole batch together and memoises token rows;
    # neither may change what one sentence gets
    texts = ["Officials said the bridge would reopen in May, according to Mayor Ruth Alvarez.",
             "Critics say the council rammed the budget through without a hearing.",
             "The agency's so-called “review” took less than a day, a spokesman told reporters.",
             "", "Officials said the bridge would reopen in May, according to Mayor Ruth Alvarez.",
             "A senior official said the talks had stalled, said Ana Ruiz."]
    every = ["loaded_language", "name_calling", "scare_quotes", "attribution_named", "attribution_vague"]
    labels = [every, ["loaded_language"], every, every, ["attribution_vague"], ["attribution_named", "omission"]]
    fresh = SpanTagger(categories=tagger.categories)
    fresh.__dict__.update({k: v for k, v in tagger.__dict__.items() if k.endswith("_") and not k.startswith("_")})
    batch = fresh.tag_many(texts, labels)
    assert [fresh.tag(t, labs) for t, labs in zip(texts, labels)] == batch
    assert [tagger.tag(t, labs) for t, labs in zip(texts, labels)] == batch
    assert any(s["label"] == "attribution_vague" for s in batch[0][0]) and batch[3] == ([], None)


def test_source_decisions_cache_stays_bounded(tagger, monkeypatch):
    import slant.model.spantagger as spantagger

    monkeypatch.setattr(spantagger, "_NAMED_CACHE", 3)
    fresh = SpanTagger(categories=tagger.categories)
    fresh.__dict__.update({k: v for k, v in tagger.__dict__.items() if k.endswith("_") and not k.startswith("_")})
    names = ["Officials", "Mayor Ruth Alvarez", "Analysts", "Ana Ruiz", "A senior official", "The ministry"]
    found = [(f"{n} said it.", 0, len(n)) for n in names]
    first = fresh._named_many(found[:2])
    assert len(fresh._named_cache) == 2
    got = fresh._named_many(found)  # more new sources than the cache holds: it starts over
    assert len(fresh._named_cache) == 4 and got[:2] == first  # the four new ones only
    assert got == [tagger._named_many([f])[0] for f in found]
    assert got[1] is True and got[0] is False
