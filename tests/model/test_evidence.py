"""Contrast rows from marked spans (slant.model.evidence), and the spans training passes on."""

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from slant._files import schema
from slant.errors import DataError, InputError
from slant.model.classifier import SlantClassifier
from slant.model.fit import record_spans, train_model


def _confounded_records():
    """Every loaded sentence also says "weekend session"; only the charged verb is marked.
    Without the spans the two are equally good evidence; with them, only the verb is."""
    charged = ["gutted", "torpedoed", "hijacked", "squandered", "slashed", "butchered"]
    topics = ["library", "transit", "water", "school", "park", "housing", "road", "clinic", "port"]
    out = []
    for d, topic in enumerate(topics):
        verb = charged[d % len(charged)]
        text = f"The council {verb} the {topic} budget in a weekend session."
        start = text.index(verb)
        out += [
            {"id": f"c{d}-0", "doc_id": f"c{d}", "text": text, "labels": ["loaded_language"],
             "spans": [{"start": start, "end": start + len(verb), "label": "loaded_language"}]},
            {"id": f"c{d}-1", "doc_id": f"c{d}", "text": f"The {topic} board approved the minutes on Tuesday.", "labels": []},
            {"id": f"c{d}-2", "doc_id": f"c{d}", "text": f"A hearing on the {topic} plan is set for next month.", "labels": []},
            {"id": f"c{d}-3", "doc_id": f"c{d}", "text": f"The {topic} office opened a new branch.", "labels": []},
        ]
    return out


def _fit_confounded(records, **params):
    est = SlantClassifier(classes=["loaded_language"], cv=3, min_df=1, **params)
    return est.fit([r["text"] for r in records], [r["labels"] for r in records], groups=[r["doc_id"] for r in records],
                   spans=[r.get("spans") for r in records])


def test_contrast_rows_move_weight_onto_the_marked_words():
    records = _confounded_records()
    with_spans = _fit_confounded(records)
    without = _fit_confounded(records, span_contrast=0)
    assert with_spans.n_contrast_ == 9 and without.n_contrast_ == 0
    probes = ["They met in a weekend session.", "The mayor gutted the plan."]
    (s_session, s_verb), (w_session, w_verb) = with_spans.decision_function(probes)[:, 0], without.decision_function(probes)[:, 0]
    # The unmarked companion words lose weight, the marked verb gains relative to them.
    assert s_session < w_session
    assert s_verb - s_session > w_verb - w_session + 0.5


def test_contrast_off_or_without_spans_is_the_plain_fit():
    records = _confounded_records()
    off = _fit_confounded(records, span_contrast=0)
    est = SlantClassifier(classes=["loaded_language"], cv=3, min_df=1)
    plain = est.fit([r["text"] for r in records], [r["labels"] for r in records], groups=[r["doc_id"] for r in records])
    for attr in ("coef_", "intercept_", "calibration_", "thresholds_"):
        assert np.array_equal(getattr(off, attr), getattr(plain, attr)), attr


def test_contrast_rows_only_for_labelled_categories_and_known_labels():
    from slant.model.evidence import Contrast, cut

    texts = ["Critics say the gutted plan failed.", "The plan failed."]
    Y = np.array([[1, 0], [0, 0]])
    spans = [[{"start": 0, "end": 10, "label": "attribution_vague"},      # not a label of sentence 0: no row
              {"start": 16, "end": 22, "label": "loaded_language"},   # "gutted"
              {"start": 0, "end": 3, "label": "ptc:Slogans"}],             # not a class: ignored
             [{"start": 4, "end": 8, "label": "loaded_language"}]]         # sentence 1 is not loaded: no row
    c = Contrast(texts, Y, ["loaded_language", "attribution_vague"], spans)
    assert c.texts == ["Critics say the plan failed."] and c.src.tolist() == [0] and c.cls.tolist() == [0]
    assert cut("a b c d", [(2, 3), (2, 5)]) == "a d"       # overlapping ranges merge
    assert cut("Lies!", [(0, 4)]) == ""                     # nothing but punctuation left: no row


@pytest.mark.parametrize("spans, match", [
    ([[{"start": 0, "end": 999, "label": "loaded_language"}]] + [None] * 35, "0 <= start < end"),
    ([[{"start": 3, "end": 1, "label": "loaded_language"}]] + [None] * 35, "0 <= start < end"),
    ([[{"start": 0, "end": 3}]] + [None] * 35, "needs a 'label'"),
    ([None], "1 span lists for 36 sentences"),
])
def test_bad_spans_are_refused(spans, match):
    records = _confounded_records()
    est = SlantClassifier(classes=["loaded_language"], cv=3, min_df=1)
    with pytest.raises(DataError, match=match):
        est.fit([r["text"] for r in records], [r["labels"] for r in records], spans=spans)


def test_bad_contrast_parameters_are_refused():
    records = _confounded_records()
    with pytest.raises(InputError, match="span_contrast"):
        _fit_confounded(records, span_contrast=-1)
    with pytest.raises(InputError, match="span_C"):
        _fit_confounded(records, span_C=0)


def test_no_contrast_rows_for_categories_marked_on_whole_sentences():
    from slant.model.evidence import Contrast

    texts = ["Can we really trust these figures at all?", "Is any of this true?", "Who believes the agency now?",
             "The gutted plan and the torpedoed deal were both announced today."]
    Y = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    whole = lambda t, lab: [{"start": 0, "end": len(t), "label": lab}]
    spans = [whole(texts[0], "doubt"), whole(texts[1], "doubt"),
             [{"start": 0, "end": 3, "label": "doubt"}],   # one local span of three marked sentences: not enough
             [{"start": 4, "end": 10, "label": "loaded_language"}, {"start": 24, "end": 33, "label": "loaded_language"}]]
    c = Contrast(texts, Y, ["doubt", "loaded_language"], spans)
    assert c.cls.tolist() == [1] and c.src.tolist() == [3]
    assert c.texts == ["The plan and the deal were both announced today."]
    # More than half of the sentence marked: no row either.
    c = Contrast(texts[3:], Y[3:], ["doubt", "loaded_language"], [[{"start": 0, "end": 40, "label": "loaded_language"}]])
    assert len(c) == 0 and c.classes.tolist() == []


def test_train_model_passes_migrated_spans(tiny_tax):

    text = "Officials said the council gutted it."
    recs = [{"text": text, "spans": [{"start": 27, "end": 33, "label": "loaded_language"},
                                     {"start": 0, "end": 14, "label": "ptc:Doubt"},
                                     {"start": 0, "end": 99, "label": "loaded_language"},
                                     "junk"]},
            {"text": "Plain."}]
    assert record_spans(recs, tiny_tax) == [[{"start": 27, "end": 33, "label": "loaded_language"}], []]
    records = _confounded_records()
    model = train_model(records, taxonomy=tiny_tax, cv=3, params={"min_df": 1})
    assert model.estimator.n_contrast_ == 9
    # The card says which categories trained with contrast rows, and still follows its schema.
    assert model.card["estimator"]["contrast_rows"] == {"loaded_language": 9}
    Draft202012Validator(schema("model-card")).validate(model.card)
