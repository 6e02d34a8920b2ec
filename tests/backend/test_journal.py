"""journal: the state file is private and atomic; journal records read results with the
one reader (slant.studio.lsformat.read_result)."""

import json
import os
import stat

import pytest

from slant.backend.journal import Journal, normalize_event, reviewed_records


def test_state_file_is_private_and_replaced_whole(tmp_path):
    journal = Journal(tmp_path)
    assert journal.processed() == 0 and journal.last_outcome() is None
    end = journal.append({"action": "ANNOTATION_CREATED", "annotations": [{"id": 1}]})
    journal.mark_processed(end, last={"promoted": False})
    assert stat.S_IMODE(os.stat(journal.state_path).st_mode) == 0o600
    assert json.loads(journal.state_path.read_text()) == {"processed": end, "last": {"promoted": False}}
    assert journal.processed() == end and journal.last_outcome() == {"promoted": False}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "state.json"]  # no temporary left


def test_journal_records_use_the_one_result_reader(tmp_path, tax):
    result = [
        {"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": ["Loaded language"]}},
        {"from_name": "spans", "to_name": "text", "type": "labels",
         "value": {"start": 4, "end": 10, "text": "scheme", "labels": [tax.category("name_calling").name]}},
        {"from_name": "spans", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 3, "labels": ["Gone label"]}},
    ]
    journal = Journal(tmp_path)
    journal.append(normalize_event({"action": "ANNOTATION_CREATED", "project": {"id": 2},
                                    "annotation": {"id": 1, "task": 5, "result": result, "completed_by": 7},
                                    "task": {"id": 5, "data": {"text": "The scheme failed.", "slant_id": "s5"}}}))
    (record,) = reviewed_records(journal.events(), taxonomy=tax)
    assert record["labels"] == ["loaded_language", "name_calling"]  # the highlight labels the sentence
    assert record["spans"] == [{"start": 4, "end": 10, "label": "name_calling", "text": "scheme"}]
    assert record["unknown_labels"] == ["Gone label"] and record["id"] == "s5" and record["project_id"] == 2
    assert record["annotations"] == [{"annotator": 7, "labels": record["labels"], "spans": record["spans"], "ground_truth": False}]


def _created(aid, task, choices, updated_at=None):
    annotation = {"id": aid, "task": task, "completed_by": 7,
                  "result": [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": choices}}]}
    if updated_at:
        annotation["updated_at"] = updated_at
    return {"action": "ANNOTATION_CREATED", "project": {"id": 2}, "annotation": annotation,
            "task": {"id": task, "data": {"text": f"Sentence {task} is here.", "slant_id": f"s{task}"}}}


def test_replayed_events_are_not_journaled_twice(tmp_path, tax):
    journal = Journal(tmp_path)
    first = _created(1, 5, ["Loaded language"], "2026-01-01T10:00:00Z")
    assert journal.append(normalize_event(first)) is not None
    assert journal.append(normalize_event(_created(2, 6, []))) is not None
    size = journal.size()
    assert journal.append(normalize_event(first)) is None  # Label Studio retried it
    assert journal.size() == size and journal.pending()[0] == 2
    # a real change is kept, and so is a change back (no updated_at to tell them apart)
    second = {**_created(2, 6, ["Loaded language"]), "action": "ANNOTATION_UPDATED"}
    assert journal.append(normalize_event(second)) is not None
    assert journal.append(normalize_event(_created(2, 6, []))) is not None
    # deletions are idempotent; START_TRAINING is a request each time
    gone = {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 2}]}
    assert journal.append(normalize_event(gone)) is not None and journal.append(normalize_event(gone)) is None
    train = {"action": "START_TRAINING", "project": {"id": 2}}
    assert journal.append(normalize_event(train)) is not None and journal.append(normalize_event(train)) is not None
    # another process (a second worker) sees what this one wrote
    assert Journal(tmp_path).append(normalize_event(first)) is None


def test_a_late_redelivery_of_an_older_version_does_not_win(tmp_path, tax):
    journal = Journal(tmp_path)
    old = _created(1, 5, ["Loaded language"], "2026-01-01T10:00:00Z")
    new = {**_created(1, 5, [], "2026-01-01T11:00:00Z"), "action": "ANNOTATION_UPDATED"}
    for payload in (old, new, old):  # the first delivery of `old` is retried after the update
        journal.append(normalize_event(payload))
    (record,) = reviewed_records(journal.events(), taxonomy=tax)
    assert record["labels"] == []


@pytest.mark.parametrize("task", [[1], {"id": 1}, "7", True])
def test_an_annotation_whose_task_is_not_an_integer_id_is_a_data_error(task):
    """Found by schemathesis: a list as an annotation's task reached the replay check and gave a 500."""
    from slant.errors import DataError

    with pytest.raises(DataError, match=r"'task' must be the task's integer id"):
        normalize_event({"action": "ANNOTATION_UPDATED", "annotation": {"id": 1, "task": task, "result": []}})
