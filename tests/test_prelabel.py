"""prelabel: task data, prediction JSON and batching, with a small fake model."""


import pytest
from label_studio_sdk.label_interface import LabelInterface

from slant.errors import ModelError
from slant.model.core import Prediction
from slant.studio.core import project_config
from slant.studio.lsformat import iter_batches, prediction_json, slant_id, task_data, tasks_with_predictions
from slant.taxonomy.core import load_taxonomy
from slant.text.documents import make_document

ARTICLE = """Council Slashes Library Budget
By Jane Roe

The council slashed the library budget on Tuesday. Critics say the scheme is a disaster.
Officials declined to comment.

The vote was 5-4."""


class FakeModel:
    """Labels any sentence containing a cue word, with a span on the word."""

    model_version = "fake-1"
    cues = {"slashed": "loaded_language", "scheme": "loaded_language", "Critics say": "attribution_vague"}

    def __init__(self):
        self.calls = []

    def predict(self, texts):
        self.calls.append(list(texts))
        out = []
        for text in texts:
            labels, spans = [], []
            for cue, label in self.cues.items():
                at = text.find(cue)
                if at >= 0:
                    if label not in labels:
                        labels.append(label)
                    spans.append({"start": at, "end": at + len(cue), "label": label, "text": cue, "weight": 1.0, "cue": "x"})
            scores = {lab: (0.9 if lab in labels else 0.1) for lab in ("loaded_language", "attribution_vague")}
            out.append(Prediction(labels, scores, spans, uncertainty=0.2 if labels else 0.6))
        return out


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


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


def test_prediction_json_shape_and_scores(tax, interface):
    text = "Critics say the scheme is a disaster."
    pred = FakeModel().predict([text])[0]
    out = prediction_json(pred, text=text, taxonomy=tax, model_version="fake-1", key="abcdef1234")
    assert out["model_version"] == "fake-1"
    assert out["score"] == 0.8  # 1 - uncertainty: low score = least certain, reviewed first
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
    assert out == {"model_version": "m", "score": 0.35, "result": []}
    assert interface.validate_prediction(out, return_errors=True) == []


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


@pytest.mark.parametrize("text", [
    'He said <script>alert("x")</script> & left.',
    "“Quoted” and 'single' and \"double\".",
    "Emoji 👩🏽‍⚕️ before the slashed budget.",
    "الميزانية slashed שלום עולם.",
], ids=["script", "quotes", "emoji", "rtl"])
def test_special_text_survives_and_validates(tax, interface, text):
    doc = make_document(text + "\n", doc_id="d")
    (task,) = tasks_with_predictions(task_data(doc, taxonomy=tax), model=FakeModel(), taxonomy=tax)
    assert task["data"]["text"] == text
    for region in task["predictions"][0]["result"]:
        if region["type"] == "labels":
            v = region["value"]
            assert text[v["start"]:v["end"]] == v["text"] == "slashed"
    assert interface.validate_prediction(task["predictions"][0], return_errors=True) == []


def test_iter_batches_sizes_counts_and_duplicates(tax):
    docs = [make_document(ARTICLE, doc_id="a"), make_document(ARTICLE, doc_id="same-text")]
    model = FakeModel()
    batches = list(iter_batches(docs, model=model, taxonomy=tax, batch_size=2))
    assert [len(b.tasks) for b in batches] == [2, 2, 1]
    last = batches[-1]
    assert (last.documents, last.sentences, last.duplicates) == (2, 10, 5)  # the copy adds nothing
    assert sum(b.label_counts.get("loaded_language", 0) for b in batches) == 2
    assert sum(b.label_counts.get("attribution_vague", 0) for b in batches) == 1
    assert [len(c) for c in model.calls] == [2, 2, 1]


def test_existing_ids_are_skipped_before_the_model_runs(doc, tax):
    existing = {d["slant_id"] for d in task_data(doc, taxonomy=tax)}
    model = FakeModel()
    (batch,) = iter_batches([doc], model=model, taxonomy=tax, existing=existing)
    assert batch.tasks == [] and batch.duplicates == 5 and batch.sentences == 5
    assert model.calls == []


def test_iter_batches_rejects_bad_batch_size(doc, tax):
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        list(iter_batches([doc], model=FakeModel(), taxonomy=tax, batch_size=0))


def test_model_returning_wrong_count_is_a_model_error(doc, tax):
    class Broken(FakeModel):
        def predict(self, texts):
            return super().predict(texts)[:-1]

    with pytest.raises(ModelError, match=r"model 'fake-1' returned 4 predictions for 5 sentences"):
        tasks_with_predictions(task_data(doc, taxonomy=tax), model=Broken(), taxonomy=tax)


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
