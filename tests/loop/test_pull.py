"""slant.loop.pull on small hand-written Label Studio exports (no server)."""

import json

import pytest

from slant.cli.main import main
from slant.errors import DataError, InputError
from slant.loop.pull import adjudicate, pull_export, reviewed_records
from slant.records.reviewed import load_reviewed
from slant.studio.export import iter_export
from slant.taxonomy.core import default_taxonomy_path, taxonomy_from_data


def _name(tax, cid):
    return tax.category(cid).name


def _ann(tax, who, cats, *, cancelled=False, gt=False, spans=(), note=None, extra=(), at="2024-01-01T00:00:00"):
    result = [{"from_name": "categories", "to_name": "text", "type": "choices",
               "value": {"choices": [_name(tax, c) for c in cats] + list(extra)}}]
    for start, end, cid in spans:
        result.append({"from_name": "spans", "to_name": "text", "type": "labels",
                       "value": {"start": start, "end": end, "text": "x", "labels": [_name(tax, cid)]}})
    if note:
        result.append({"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": [note]}})
    return {"id": hash((str(who), at)) % 10**6, "completed_by": who, "was_cancelled": cancelled, "ground_truth": gt,
            "result": [] if cancelled else result, "created_at": at, "updated_at": at, "lead_time": 3.5}


def _task(i, anns, predictions=(), **data):
    d = {"text": f"Sentence number {i} says something.", "doc_id": "doc1", "sentence_index": i, "start": i * 40,
         "end": i * 40 + 33, "slant_id": f"sid{i}", "doc_title": "Doc", "outlet": "Gazette", **data}
    return {"id": 100 + i, "project": 7, "data": d, "annotations": list(anns), "predictions": list(predictions)}


def _write(path, tasks, indent=None):
    path.write_text(json.dumps(tasks, indent=indent), encoding="utf-8")
    return path


def _users():
    return [{"id": 1, "email": "a@x.org"}, {"id": 2, "email": "b@x.org"}, 3]  # object or bare id: both occur


@pytest.mark.parametrize("sets,policy,gt,want", [
    ([{"a"}, {"a", "b"}, {"b"}], "majority", None, (["a", "b"], "majority", True)),
    ([{"a"}, {"b"}], "majority", None, ([], "majority", True)),              # 1 of 2 is a tie: not included
    ([{"a"}, {"a", "b"}], "unanimous", None, (["a"], "unanimous", False)),   # sets differ: no decision
    ([{"a"}, {"a"}], "unanimous", None, (["a"], "unanimous", True)),
    ([{"a"}, {"b"}, {"b"}], "ground-truth", 0, (["a"], "ground-truth", True)),
    ([{"a"}, {"b"}, {"b"}], "ground-truth", None, (["b"], "majority", True)),  # no ground truth: majority
    ([{"a"}, {"b"}], "any", None, (["a", "b"], "any", True)),
    ([], "majority", None, ([], "majority", False)),
])
def test_adjudicate(sets, policy, gt, want):
    assert adjudicate(sets, policy, gt) == want


def test_records_carry_annotators_labels_prediction_and_metadata(tax, tmp_path):
    c1, c2, c3 = tax.sentence_ids[:3]
    s1 = tax.span_ids[0]
    u = _users()
    pred_old = {"id": 1, "model_version": "old", "created_at": "2024-01-01", "score": 0.5,
                "result": [{"from_name": "categories", "to_name": "text", "type": "choices", "score": 0.9,
                            "value": {"choices": [_name(tax, c3)]}}]}
    pred_new = {"id": 2, "model_version": "seed-1", "created_at": "2023-01-01", "score": 0.6,
                "result": [{"from_name": "categories", "to_name": "text", "type": "choices", "score": 0.7,
                            "value": {"choices": [_name(tax, c1)]}}]}
    tasks = [
        _task(0, [_ann(tax, u[0], [c1], spans=[(0, 8, s1)], note="sure"), _ann(tax, u[1], [c1, c2], spans=[(0, 8, s1)]),
                  _ann(tax, u[2], [c2]), _ann(tax, u[0], [], cancelled=True)], [pred_old, pred_new]),
        _task(1, [_ann(tax, u[0], [c3])], [pred_old]),
        _task(2, []),
    ]
    out = tmp_path / "reviewed.jsonl"
    s = pull_export(_write(tmp_path / "export.json", tasks, indent=2), out, taxonomy=tax, model_version="seed-1",
                    project="Harbor")
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(recs) == 3 and load_reviewed(out, taxonomy=tax)  # valid against the schema
    r = recs[0]
    assert r["labels"] == sorted([c1, c2]) and r["policy"] == "majority" and r["adjudicated"] is True
    assert r["spans"] == [{"start": 0, "end": 8, "label": s1, "text": "x"}]
    assert [a["annotator"] for a in r["annotations"]] == ["a@x.org", "b@x.org", 3]
    assert [a["annotator_id"] for a in r["annotations"]] == [1, 2, 3]
    assert r["annotations"][0]["note"] == "sure" and r["annotations"][0]["lead_time"] == 3.5
    assert r["cancelled"] == 1
    assert r["prediction"] == {"labels": [c1], "scores": {c1: 0.7}, "model_version": "seed-1"}  # the project's version
    assert recs[1]["prediction"]["model_version"] == "old"  # else the latest
    assert r["model_version"] == "seed-1"
    assert (r["id"], r["doc_id"], r["task_id"], r["project_id"], r["sentence_index"], r["start"], r["end"]) == (
        "sid0", "doc1", 100, 7, 0, 0, 33)
    assert r["data"]["outlet"] == "Gazette" and "text" not in r["data"]
    assert r["taxonomy"] == {"id": tax.id, "version": tax.version}
    assert recs[2]["annotations"] == [] and recs[2]["adjudicated"] is False
    assert (s.tasks, s.written, s.cancelled, s.annotations, s.annotated_tasks, s.skipped) == (3, 3, 1, 4, 2, 0)
    assert s.policies == {"majority": 2} and s.labels[c1] == 1
    text = s.format()
    assert "pulled 3 tasks from project 'Harbor': wrote 3 records" in text and "1 cancelled" in text
    assert "1 task without annotations" in text


def test_min_annotators_skips_and_counts(tax, tmp_path):
    c1 = tax.sentence_ids[0]
    u = _users()
    tasks = [_task(0, [_ann(tax, u[0], [c1]), _ann(tax, u[1], [c1])]),
             _task(1, [_ann(tax, u[0], [c1]), _ann(tax, u[1], [], cancelled=True)]), _task(2, [])]
    s = pull_export(_write(tmp_path / "e.json", tasks), tmp_path / "o.jsonl", taxonomy=tax, min_annotators=2)
    assert (s.written, s.skipped, s.cancelled) == (1, 2, 1)
    assert "skipped 2 tasks with fewer than 2 annotations" in s.format()


def test_policies_ground_truth_unanimous_any(tax, tmp_path):
    c1, c2 = tax.sentence_ids[:2]
    u = _users()
    tasks = [_task(0, [_ann(tax, u[0], [c1], gt=True, at="2024-01-01"), _ann(tax, u[1], [c2]), _ann(tax, u[2], [c2]),
                       _ann(tax, u[0], [c2], gt=True, at="2024-02-01")]),
             _task(1, [_ann(tax, u[0], [c1]), _ann(tax, u[1], [c1, c2])])]
    path = _write(tmp_path / "e.json", tasks)
    gt = list(reviewed_records(iter_export(path), taxonomy=tax, policy="ground-truth"))
    assert gt[0]["policy"] == "ground-truth" and gt[0]["labels"] == [c2]  # the newest ground truth
    assert gt[1]["policy"] == "majority" and gt[1]["labels"] == [c1]
    un = list(reviewed_records(iter_export(path), taxonomy=tax, policy="unanimous"))
    assert un[1]["labels"] == [c1] and un[1]["adjudicated"] is False
    assert list(reviewed_records(iter_export(path), taxonomy=tax, policy="any"))[1]["labels"] == sorted([c1, c2])


def test_unknown_labels_are_reported_and_kept(tax, tmp_path):
    c1 = tax.sentence_ids[0]
    u = _users()
    tasks = [_task(0, [_ann(tax, u[0], [c1], extra=["Whataboutism"]), _ann(tax, u[1], [], extra=["Whataboutism"])]),
             _task(1, [_ann(tax, u[0], [], extra=["Old Label"])])]
    out = tmp_path / "o.jsonl"
    s = pull_export(_write(tmp_path / "e.json", tasks), out, taxonomy=tax)
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert recs[0]["unknown_labels"] == ["Whataboutism"] and recs[0]["annotations"][0]["labels"] == [c1]
    assert recs[0]["annotations"][1]["unknown_labels"] == ["Whataboutism"]
    assert s.unknown == {"Whataboutism": 2, "Old Label": 1}
    assert "taxonomy drift): 'Whataboutism' (2), 'Old Label' (1)" in s.format()


@pytest.mark.parametrize("content,message", [
    ('{"tasks": []}', r"expected a JSON array of tasks"),
    ('[{"id": 1, "data": {"text": "a"}}, ', r"the array is not closed: the file is truncated"),
    ('[{"id": 1, "data": {"text": "a"', r"not a Label Studio JSON export"),
    ('[1, 2]', r"expected a task object, found int"),
    ('[{"id": 1, "data": {"text": "a"}} {"id": 2}]', r"expected ',' or '\]', found '\{'"),
    ('', r"expected a JSON array of tasks"),
])
def test_malformed_export(tmp_path, content, message, tax):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        pull_export(path, tmp_path / "o.jsonl", taxonomy=tax)
    assert not (tmp_path / "o.jsonl").exists()  # nothing half-written


def test_export_problems(tmp_path, tax):
    with pytest.raises(InputError, match=r"no such file"):
        pull_export(tmp_path / "nope.json", tmp_path / "o.jsonl", taxonomy=tax)
    with pytest.raises(DataError, match=r"task 100: no text in its data"):
        pull_export(_write(tmp_path / "e.json", [{"id": 100, "data": {}, "annotations": []}]), tmp_path / "o.jsonl",
                    taxonomy=tax)
    with pytest.raises(DataError, match=r"e2.json: no tasks; add sentences with `slant push"):
        pull_export(_write(tmp_path / "e2.json", []), tmp_path / "o.jsonl", taxonomy=tax)
    with pytest.raises(DataError, match=r"1 tasks but no annotations \(1 cancelled\); annotate"):
        pull_export(_write(tmp_path / "e3.json", [_task(0, [_ann(tax, 1, [], cancelled=True)])]),
                    tmp_path / "o.jsonl", taxonomy=tax)
    with pytest.raises(InputError, match=r"--policy 'vote': choose one of majority"):
        list(reviewed_records([], taxonomy=tax, policy="vote"))
    with pytest.raises(InputError, match=r"--min-annotators -1: must be 0 or more"):
        list(reviewed_records([], taxonomy=tax, min_annotators=-1))


def test_agreement_cli_needs_file_or_project(capsys):
    assert main(["agreement"]) == 1
    assert "or --project NAME" in capsys.readouterr().err


def test_bare_user_ids_get_emails_from_the_server_list(tax):
    c1 = tax.sentence_ids[0]
    recs = list(reviewed_records([_task(0, [_ann(tax, 3, [c1]), _ann(tax, {"id": 4}, [c1]), _ann(tax, 9, [])])],
                                 taxonomy=tax, emails={3: "c@x.org", 4: "d@x.org"}))
    assert [(a["annotator"], a["annotator_id"]) for a in recs[0]["annotations"]] == [("c@x.org", 3), ("d@x.org", 4), (9, 9)]


def test_a_highlight_labels_the_sentence_and_unknown_span_labels_are_reported(tax, tmp_path):
    """The one result reader's rules (slant.studio.lsformat.read_result), as pull uses them."""
    c1, s1 = tax.sentence_ids[0], "name_calling"
    u = _users()
    highlight = _ann(tax, u[0], [c1], spans=[(0, 8, s1)])                       # s1 highlighted, not ticked
    drift = _ann(tax, u[1], [c1], spans=[(0, 8, s1)])
    drift["result"].append({"from_name": "spans", "to_name": "text", "type": "labels",
                            "value": {"start": 9, "end": 12, "text": "y", "labels": ["Old span label"]}})
    out = tmp_path / "o.jsonl"
    s = pull_export(_write(tmp_path / "e.json", [_task(0, [highlight, drift])]), out, taxonomy=tax)
    (r,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert r["labels"] == sorted([c1, s1]) and r["annotations"][0]["labels"] == sorted([c1, s1])
    assert r["spans"] == [{"start": 0, "end": 8, "label": s1, "text": "x"}]
    assert r["annotations"][1]["spans"] == [{"start": 0, "end": 8, "label": s1, "text": "x"}]  # no span for the unknown label
    assert r["unknown_labels"] == ["Old span label"] and s.unknown == {"Old span label": 1}


def test_a_failed_pull_writes_nothing_and_keeps_the_previous_file(tmp_path, tax):
    out = tmp_path / "reviewed.jsonl"
    with pytest.raises(DataError, match=r"1 tasks but no annotations"):
        pull_export(_write(tmp_path / "e.json", [_task(0, [])]), out, taxonomy=tax)
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "e.json"]  # no temporary file left either
    out.write_text("kept\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"no annotations"):
        pull_export(_write(tmp_path / "e.json", [_task(0, [])]), out, taxonomy=tax)
    assert out.read_text(encoding="utf-8") == "kept\n"


def _newer_taxonomy():
    """Version 2 of the default taxonomy: loaded_language renamed, scare_quotes retired."""
    data = json.loads(default_taxonomy_path().read_text(encoding="utf-8"))
    data["version"] = "2.0.0"
    cat = next(c for c in data["categories"] if c["id"] == "loaded_language")
    cat["id"], cat["name"] = "emotive_language", "Emotive language"
    data["categories"] = [c for c in data["categories"] if c["id"] != "scare_quotes"]
    data["migrations"] = [{"from_version": "1.0.0", "op": "rename", "from": "loaded_language", "to": "emotive_language"},
                          {"from_version": "1.0.0", "op": "retire", "from": "scare_quotes"}]
    return taxonomy_from_data(data)


def test_pull_with_a_newer_taxonomy_migrates_old_display_names(tmp_path, tax):
    """Annotations store the old version's display names ('Loaded language'): migrated, not drift."""
    new = _newer_taxonomy()
    u = _users()
    tasks = [_task(0, [_ann(tax, u[0], ["loaded_language"], spans=[(0, 8, "loaded_language")]),
                       _ann(tax, u[1], ["loaded_language", "scare_quotes"], spans=[(0, 8, "loaded_language")])]),
             _task(1, [_ann(tax, u[0], ["name_calling"], extra=["Not a category"])])]
    out = tmp_path / "o.jsonl"
    s = pull_export(_write(tmp_path / "e.json", tasks), out, taxonomy=new)
    r0, r1 = [json.loads(x) for x in out.read_text().splitlines()]
    assert r0["labels"] == ["emotive_language"] and "unknown_labels" not in r0
    assert r0["spans"] == [{"start": 0, "end": 8, "label": "emotive_language", "text": "x"}]
    assert r0["annotations"][1]["labels"] == ["emotive_language"]  # the retired category is dropped
    assert r1["labels"] == ["name_calling"] and r1["unknown_labels"] == ["Not a category"]
    assert s.unknown == {"Not a category": 1} and s.labels["emotive_language"] == 1


def test_adjudicated_policy_takes_the_adjudicators_newest_answer_and_keeps_the_coders(tax, tmp_path):
    c1, c2, c3 = tax.sentence_ids[:3]
    judge = {"id": 9, "email": "judge@x.org"}
    tasks = [_task(0, [_ann(tax, {"id": 1, "email": "a@x.org"}, [c1]), _ann(tax, {"id": 2, "email": "b@x.org"}, [c2]),
                       _ann(tax, judge, [c2], at="2024-01-02"), _ann(tax, judge, [c3], at="2024-01-03")],
                   slant_adjudicator=9),
             _task(1, [_ann(tax, {"id": 1, "email": "a@x.org"}, [c1]), _ann(tax, {"id": 2, "email": "b@x.org"}, [c1])]),
             _task(2, [_ann(tax, {"id": 1, "email": "a@x.org"}, [c1]), _ann(tax, {"id": 2, "email": "b@x.org"}, [c2])],
                   slant_adjudicator=9)]  # flagged, not adjudicated yet
    path = _write(tmp_path / "e.json", tasks)
    got = list(reviewed_records(iter_export(path), taxonomy=tax, policy="adjudicated"))
    assert (got[0]["labels"], got[0]["policy"], got[0]["adjudicated"]) == ([c3], "adjudicated", True)
    assert [a["annotator"] for a in got[0]["annotations"]] == ["a@x.org", "b@x.org"]  # every coder kept
    assert got[0]["adjudication"]["annotator"] == "judge@x.org" and got[0]["adjudication"]["labels"] == [c3]
    assert (got[1]["labels"], got[1]["policy"]) == ([c1], "majority")
    assert (got[2]["labels"], got[2]["policy"], "adjudication" in got[2]) == ([], "majority", False)
    # Under any policy the adjudicator is no coder: majority of the two coders only.
    maj = list(reviewed_records(iter_export(path), taxonomy=tax, policy="majority"))
    assert maj[0]["labels"] == [] and len(maj[0]["annotations"]) == 2 and maj[0]["adjudication"]["labels"] == [c3]


@pytest.mark.parametrize("data, want", [
    ({"slant_audit": True, "slant_audit_p": 0.05, "slant_audit_stratum": "Gazette", "slant_audit_design": "stratified"},
     {"p": 0.05, "stratum": "Gazette"}),
    ({"slant_audit": True, "slant_audit_p": 0.01, "slant_audit_stratum": ""}, {"p": 0.01, "stratum": ""}),
    ({"slant_audit": True}, {"p": None, "stratum": ""}),
    ({"slant_audit": True, "slant_audit_p": "n/a"}, {"p": None, "stratum": ""}),
    ({"slant_audit": True, "slant_audit_p": 1.5}, {"p": None, "stratum": ""}),
    ({"slant_audit": False, "slant_audit_p": 0.2}, None),
    ({}, None),
], ids=["stratified", "uniform", "no-p", "bad-p", "p-above-1", "not-audit", "plain"])
def test_audit_mark_is_kept(tax, tmp_path, data, want):
    from slant.loop.pull import audit_mark

    assert audit_mark(data) == want
    out = tmp_path / "r.jsonl"
    pull_export(_write(tmp_path / "e.json", [_task(0, [_ann(tax, 1, [tax.sentence_ids[0]])], **data)]), out, taxonomy=tax)
    record = load_reviewed(out, taxonomy=tax)[0]   # validates against schemas/reviewed.schema.json
    assert record.get("audit") == want
