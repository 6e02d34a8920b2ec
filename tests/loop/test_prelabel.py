"""prelabel: documents + a model -> tasks with predictions, in batches (a small fake model)."""

import pytest
from label_studio_sdk.label_interface import LabelInterface

from slant.errors import ModelError
from slant.loop.prelabel import iter_batches, tasks_with_predictions
from slant.studio.lsformat import task_data
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


@pytest.mark.parametrize("text", [
    'He said <script>alert("x")</script> & left.',
    "“Quoted” and 'single' and \"double\".",
    "Emoji 👩🏽‍⚕️ before the slashed budget.",
    "الميزانية slashed שלום עולם.",
], ids=["script", "quotes", "emoji", "rtl"])
def test_special_text_survives_and_validates(tax, interface, text, fake_model):
    doc = make_document(text + "\n", doc_id="d")
    (task,) = tasks_with_predictions(task_data(doc, taxonomy=tax), model=fake_model(), taxonomy=tax)
    assert task["data"]["text"] == text
    for region in task["predictions"][0]["result"]:
        if region["type"] == "labels":
            v = region["value"]
            assert text[v["start"]:v["end"]] == v["text"] == "slashed"
    assert interface.validate_prediction(task["predictions"][0], return_errors=True) == []


def test_iter_batches_sizes_counts_and_duplicates(tax, fake_model):
    docs = [make_document(ARTICLE, doc_id="a"), make_document(ARTICLE, doc_id="same-text")]
    model = fake_model()
    batches = list(iter_batches(docs, model=model, taxonomy=tax, batch_size=2))
    assert [len(b.tasks) for b in batches] == [2, 2, 1]
    last = batches[-1]
    assert (last.documents, last.sentences, last.duplicates) == (2, 10, 5)  # the copy adds nothing
    assert sum(b.label_counts.get("loaded_language", 0) for b in batches) == 2
    assert sum(b.label_counts.get("attribution_vague", 0) for b in batches) == 1
    assert [len(c) for c in model.calls] == [2, 2, 1]


def test_existing_ids_are_skipped_before_the_model_runs(doc, tax, fake_model):
    existing = {d["slant_id"] for d in task_data(doc, taxonomy=tax)}
    model = fake_model()
    (batch,) = iter_batches([doc], model=model, taxonomy=tax, existing=existing)
    assert batch.tasks == [] and batch.duplicates == 5 and batch.sentences == 5
    assert model.calls == []


def test_iter_batches_rejects_bad_batch_size(doc, tax, fake_model):
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        list(iter_batches([doc], model=fake_model(), taxonomy=tax, batch_size=0))


def test_model_returning_wrong_count_is_a_model_error(doc, tax, fake_model):
    class Broken(fake_model):
        def predict(self, texts):
            return super().predict(texts)[:-1]

    with pytest.raises(ModelError, match=r"model 'fake-1' returned 4 predictions for 5 sentences"):
        tasks_with_predictions(task_data(doc, taxonomy=tax), model=Broken(), taxonomy=tax)


def test_push_batches_of_one_long_document_take_flat_memory(tax, fake_model):
    """Task dicts are made as batches fill, not one per sentence of the document at once."""
    import tracemalloc

    class Forgetful(fake_model):
        def predict(self, texts):
            out = super().predict(texts)
            self.calls.clear()
            return out

    para = "The council slashed the budget on Tuesday. Critics say the scheme is a disaster. The vote was 5-4."
    peaks = []
    for n in (500, 2000):
        doc = make_document("\n\n".join(f"{para} Item {i}." for i in range(n)), doc_id="big")
        tracemalloc.start()
        batches = sum(1 for _ in iter_batches([doc], model=Forgetful(), taxonomy=tax, batch_size=100))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert batches == 4 * n // 100
    # what remains per sentence is the push's own de-duplication set of slant_ids (~150 bytes);
    # all task dicts of the document at once cost ~420
    per_sentence = (peaks[1] - peaks[0]) / (4 * 1500)
    assert per_sentence < 250, f"{per_sentence:.0f} bytes per sentence"
def test_tasks_carry_the_review_columns(doc, tax, fake_model):
    from slant.studio.projects import REVIEW_COLUMNS

    tasks = tasks_with_predictions(task_data(doc, taxonomy=tax), model=fake_model(), taxonomy=tax)
    for task in tasks:
        data, pred = task["data"], task["predictions"][0]
        # the review tab's columns come first among the fields the labeling config does not read
        assert [k for k in data if k not in ("context_before", "context_after")][:len(REVIEW_COLUMNS)] == list(REVIEW_COLUMNS)
        assert data["slant_confidence"] == pred["score"]
        assert 0 <= data["slant_uncertainty"] <= 1
    flagged = [t["data"] for t in tasks if t["data"]["slant_labels"]]
    assert flagged and all(d["slant_confidence"] == 0.9 for d in flagged)
    assert "Loaded language" in flagged[0]["slant_labels"] or "Attribution to a vague source" in flagged[0]["slant_labels"]
    assert {d["slant_uncertainty"] for d in flagged} == {0.2}
