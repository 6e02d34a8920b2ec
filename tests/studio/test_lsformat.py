"""lsformat: task data, prediction JSON, the one result reader and labeling-config names."""

import pytest
from label_studio_sdk.label_interface import LabelInterface

from slant.errors import DataError
from slant.model.slantmodel import Prediction
from slant.studio.lsformat import (
    check_label_config,
    config_names,
    label_lookup,
    prediction_json,
    read_result,
    slant_id,
    task_data,
)
from slant.studio.projects import project_config
from slant.text.documents import make_document

ARTICLE = """Council Slashes Library Budget
By Jane Roe

The council slashed the library budget on Tuesday. Critics say the scheme is a disaster.
Officials declined to comment.

The vote was 5-4."""


@pytest.fixture(scope="module")
def interface(tax):
    return LabelInterface(project_config(tax))


@pytest.fixture
def doc():
    return make_document(ARTICLE, doc_id="council", source="council.txt")


def test_task_data_fields_and_context(doc, tax):
    data = task_data(doc, taxonomy=tax)
    assert [d["text"] for d in data] == [
        "Council Slashes Library Budget",
        "The council slashed the library budget on Tuesday.",
        "Critics say the scheme is a disaster.",
        "Officials declined to comment.",
        "The vote was 5-4.",
    ]  # the byline is not pushed
    first, second, last = data[0], data[1], data[-1]
    assert set(first) == {"text", "context_before", "context_after", "doc_id", "doc_title", "sentence_index", "start", "end", "source", "slant_id"}
    assert first["context_before"] == "" and first["context_after"] == second["text"]
    assert second["context_before"] == first["text"]
    assert last["context_after"] == ""
    assert second["doc_id"] == "council" and second["source"] == "council.txt"
    assert second["doc_title"] == "Council Slashes Library Budget"
    for d in data:
        assert doc.text[d["start"]:d["end"]] == d["text"]
    assert second["sentence_index"] == 2  # index in the document, byline included


def test_slant_id_is_stable_and_keyed_by_content_offsets_and_taxonomy(doc, tax):
    a = task_data(doc, taxonomy=tax)
    b = task_data(make_document(ARTICLE, doc_id="other-name", source="copy.txt"), taxonomy=tax)
    assert [d["slant_id"] for d in a] == [d["slant_id"] for d in b]
    assert len({d["slant_id"] for d in a}) == len(a)
    assert slant_id("h", 0, 5, "rhetoric") != slant_id("h", 0, 5, "other")
    assert slant_id("h", 0, 5, "rhetoric") != slant_id("h", 0, 6, "rhetoric")
    assert slant_id("h", 0, 5, "rhetoric") != slant_id("g", 0, 5, "rhetoric")
    edited = make_document(ARTICLE.replace("5-4", "6-3"), doc_id="council")
    assert task_data(edited, taxonomy=tax)[1]["slant_id"] != a[1]["slant_id"]


def test_prediction_json_shape_and_scores(tax, interface, fake_model):
    text = "Critics say the scheme is a disaster."
    pred = fake_model().predict([text])[0]
    out = prediction_json(pred, text=text, taxonomy=tax, model_version="fake-1", key="abcdef1234")
    assert out["model_version"] == "fake-1"
    assert out["score"] == 0.9  # the confidence of the shown labels (both at 0.9), not 1 - uncertainty (0.8)
    choices = [r for r in out["result"] if r["type"] == "choices"]
    spans = [r for r in out["result"] if r["type"] == "labels"]
    assert choices == [{
        "id": "abcdef12c", "from_name": "categories", "to_name": "text", "type": "choices",
        "value": {"choices": ["Loaded language", "Attribution to a vague source"]}, "score": 0.9,
    }]
    assert [(s["value"]["text"], s["value"]["labels"]) for s in spans] == [
        ("Critics say", ["Attribution to a vague source"]), ("scheme", ["Loaded language"])]
    assert all(s["from_name"] == "spans" and s["to_name"] == "text" and s["score"] == 0.9 for s in spans)
    assert len({r["id"] for r in out["result"]}) == len(out["result"])
    assert interface.validate_prediction(out, return_errors=True) == []


def test_prediction_without_labels_has_empty_result_and_a_score(tax, interface):
    pred = Prediction([], {"loaded_language": 0.1}, [], uncertainty=0.65)
    out = prediction_json(pred, text="The vote was 5-4.", taxonomy=tax, model_version="m")
    assert out == {"model_version": "m", "score": 0.9, "result": []}  # 1 - the highest probability: sure none applies
    assert interface.validate_prediction(out, return_errors=True) == []


@pytest.mark.parametrize("labels, scores, want", [
    (["loaded_language"], {"loaded_language": 0.98, "doubt": 0.3}, 0.98),
    (["loaded_language", "doubt"], {"loaded_language": 0.98, "doubt": 0.17}, 0.17),   # the weakest shown label
    ([], {"loaded_language": 0.39, "doubt": 0.02}, 0.61),                              # sure that none applies
], ids=["one", "weakest", "none"])
def test_the_score_is_the_confidence_of_the_shown_labels(tax, labels, scores, want):
    # was 1 - uncertainty: a task ticked at 0.98 showed "2%" when another category sat near its threshold
    pred = Prediction(labels, scores, [], uncertainty=0.98)
    assert prediction_json(pred, text="x", taxonomy=tax, model_version="m")["score"] == pytest.approx(want)


@pytest.mark.parametrize("span, kept", [
    ({"start": 0, "end": 4, "label": "loaded_language", "text": "Huge"}, True),
    ({"start": 0, "end": 4, "label": "omission", "text": "Huge"}, False),          # sentence-level only
    ({"start": 0, "end": 4, "label": "name_calling", "text": "Huge"}, False),      # not predicted
    ({"start": 3, "end": 99, "label": "loaded_language", "text": "x"}, False),     # past the end
    ({"start": 4, "end": 4, "label": "loaded_language", "text": ""}, False),       # empty
    ({"start": -1, "end": 2, "label": "loaded_language", "text": "x"}, False),
    ({"start": "0", "end": 2, "label": "loaded_language", "text": "x"}, False),
    ({"start": 0, "end": 4, "label": "no_such_id", "text": "Huge"}, False),
], ids=["ok", "sentence-only", "unpredicted", "past-end", "empty", "negative", "string", "unknown"])
def test_spans_are_filtered(tax, interface, span, kept):
    text = "Huge losses loom."
    pred = Prediction(["loaded_language", "omission"], {"loaded_language": 0.7, "omission": 0.6}, [span], 0.3)
    out = prediction_json(pred, text=text, taxonomy=tax, model_version="m")
    spans = [r for r in out["result"] if r["type"] == "labels"]
    assert len(spans) == (1 if kept else 0)
    assert interface.validate_prediction(out, return_errors=True) == []


def test_span_text_is_read_from_offsets_and_duplicates_dropped(tax):
    text = "A “reform” 😀 that guts funding."
    start = text.index("guts")
    spans = [{"start": start, "end": start + 4, "label": "loaded_language", "text": "WRONG"}] * 2
    pred = Prediction(["loaded_language"], {"loaded_language": 0.8}, spans, 0.1)
    out = prediction_json(pred, text=text, taxonomy=tax, model_version="m")
    (region,) = [r for r in out["result"] if r["type"] == "labels"]
    # Offsets are code points (Python str indices), which is what Label Studio's Text tag uses.
    assert region["value"] == {"start": start, "end": start + 4, "text": "guts", "labels": ["Loaded language"]}


def test_weak_spans_are_dropped(tax):
    text = "Critics say the scheme is a disaster."
    spans = [
        {"start": 0, "end": 11, "label": "attribution_vague", "text": "Critics say", "weight": 5.3},
        {"start": 16, "end": 22, "label": "attribution_vague", "text": "scheme", "weight": 0.58},   # < 25% of 5.3
        {"start": 28, "end": 36, "label": "attribution_vague", "text": "disaster", "weight": 0.0},
        {"start": 16, "end": 22, "label": "loaded_language", "text": "scheme", "weight": 3.0},
        {"start": 28, "end": 36, "label": "loaded_language", "text": "disaster", "weight": 0.9},   # 30% of 3.0
    ]
    pred = Prediction(["loaded_language", "attribution_vague"], {"loaded_language": 0.9, "attribution_vague": 0.9}, spans, 0.4)
    out = prediction_json(pred, text=text, taxonomy=tax, model_version="m")
    kept = [(r["value"]["text"], r["value"]["labels"][0]) for r in out["result"] if r["type"] == "labels"]
    assert kept == [("Critics say", "Attribution to a vague source"), ("scheme", "Loaded language"), ("disaster", "Loaded language")]


# --- the one result reader (slant pull and the ML backend's journal) ------------------------

def _choices(*names, score=None):
    region = {"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": list(names)}}
    return dict(region, score=score) if score is not None else region


def _span(start, end, name, text="x", score=None):
    region = {"from_name": "spans", "to_name": "text", "type": "labels",
              "value": {"start": start, "end": end, "text": text, "labels": [name]}}
    return dict(region, score=score) if score is not None else region


def test_read_result_of_an_exported_annotation(tax):
    """Pull style: display names, a span, a note, a name the taxonomy does not know."""
    result = [_choices("Loaded language", "Whataboutism"), _span(4, 10, "Loaded language", text="scheme"),
              {"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": ["sure", "really"]}}]
    read = read_result(result, label_lookup(tax))
    assert read.labels == ["loaded_language"]
    assert read.spans == [{"start": 4, "end": 10, "label": "loaded_language", "text": "scheme"}]
    assert read.note == "sure\nreally" and read.unknown == ["Whataboutism"] and read.scores == {}


def test_read_result_of_a_prediction_keeps_scores(tax):
    result = [_choices("Loaded language", score=0.7), _span(0, 3, "Attribution to a vague source", score=0.4),
              _span(5, 8, "Attribution to a vague source", score=0.6)]
    read = read_result(result, label_lookup(tax))
    assert read.scores == {"loaded_language": 0.7, "attribution_vague": 0.6}  # a span label's highest
    assert read.labels == ["attribution_vague", "loaded_language"]  # sorted ids, as pull writes them


def test_read_result_of_a_journal_event(tax):
    """Journal style: ids work as names; a highlight labels the sentence; an unknown span
    label is reported and never becomes a span; foreign controls and junk are ignored."""
    result = [
        _choices("attribution_named"),                                   # an id, not a display name
        _span(0, 7, tax.category("name_calling").name),                  # a highlight without its choice
        _span(8, 12, "Old span label"),                                  # unknown: reported, no span
        {"from_name": "spans", "to_name": "text", "type": "labels", "value": {"labels": ["Loaded language"]}},  # no offsets
        {"from_name": "quality", "to_name": "text", "type": "choices", "value": {"choices": ["Exaggeration"]}},  # not slant's
        {"from_name": "categories", "type": "choices", "value": {"choices": "Loaded language"}},  # not a list
        {"from_name": "categories", "type": "choices", "value": {"choices": [["nested"]]}},       # not a name
        "junk", {"from_name": "categories", "type": "choices", "value": None},
    ]
    read = read_result(result, label_lookup(tax))
    assert read.labels == sorted(["attribution_named", "name_calling", "loaded_language"])
    assert read.spans == [{"start": 0, "end": 7, "label": "name_calling", "text": "x"}]
    assert read.unknown == ["Old span label", "['nested']"] and read.note is None


def test_read_result_of_nothing(tax):
    for result in (None, []):
        read = read_result(result, label_lookup(tax))
        assert (read.labels, read.spans, read.note, read.unknown, read.scores) == ([], [], None, [], {})


def test_config_names_and_check(tax):
    choices, labels = config_names(project_config(tax))
    assert choices == {c.name for c in tax.categories if c.sentence_level}
    assert labels == {c.name for c in tax.categories if c.span_level}
    check_label_config(project_config(tax), tax)
    with pytest.raises(DataError, match=r"labeling config is not valid XML"):
        config_names("<View>")
    with pytest.raises(DataError, match=r"has no choice or label for .*Loaded language"):
        check_label_config("<View><Text name='text' value='$text'/></View>", tax)


def test_task_data_carries_document_metadata_but_never_over_slant_fields():
    from slant.taxonomy.core import load_taxonomy
    from slant.text.documents import make_document

    doc = make_document("The council slashed it. Critics say so.", doc_id="m1",
                        meta={"outlet": "Harbor Herald", "date": "2024-02-03", "text": "spoof", "slant_id": "x",
                              "slant_audit": True})
    datas = task_data(doc, taxonomy=load_taxonomy())
    assert [d["text"] for d in datas] == ["The council slashed it.", "Critics say so."]
    for d in datas:
        assert (d["outlet"], d["date"]) == ("Harbor Herald", "2024-02-03")
        assert "slant_audit" not in d and d["slant_id"] != "x"
