"""`slant push --from DIR`: review samples by each strategy and the audit sample, from a
Parquet dataset, against the session's real Label Studio; and `agreement --by outlet` on a
project whose documents carried metadata."""

import uuid
from collections import Counter

import pytest

from helpers.corpus import dataset_rows
from slant.cli.main import main
from slant.loop.corpus import open_corpus
from slant.loop.prelabel import tasks_with_predictions
from slant.loop.push import push
from slant.loop.push_corpus import _chosen_tasks, _task
from slant.loop.sample import allocate
from slant.model.slantmodel import Prediction
from slant.studio.lsformat import PUSHED_KINDS, prediction_json, task_data
from slant.studio.projects import AUDIT_VIEW_TITLE
from slant.text.documents import read_documents

CORPUS = {"n_docs": 12, "per_doc": 5, "seed": 2}  # the `corpus` and `analysed` fixtures' (tests/loop/conftest.py)
PARTITION_SENTENCES = 25


@pytest.fixture(scope="module")
def dataset(analysed):
    return analysed[0]


def _rows(dataset):
    return {r["slant_id"]: r for r in dataset_rows(dataset) if r["kind"] in PUSHED_KINDS}


def _tasks(label_studio, title):
    sdk = label_studio.client()
    project = label_studio.studio().find_project(title)
    return project, list(sdk.tasks.list(project=project.id, fields="all", page_size=1000))


def _target(label_studio):
    return ["--url", label_studio.url, "--api-key", label_studio.api_key]


def _push(label_studio, dataset, title, *options):
    return main(["push", "--from", str(dataset), "--project", title, *options, *_target(label_studio)])


def _dump(p):
    return p if isinstance(p, dict) else p.model_dump()


# --- without a server ---------------------------------------------------------------------

@pytest.mark.parametrize("argv, needle", [
    (["--sample", "3", "--by", "outlet"], "--by goes with --audit N or --strategy stratified"),
    (["--sample", "3", "--strategy", "stratified"], "--strategy stratified needs --by FIELD"),
    (["--sample", "3", "--strategy", "diverse"], "--strategy diverse with --from: use one of uncertainty, random, stratified"),
    (["--audit", "3", "--by", "region"], "--by region: "),
    ([], "--from DIR needs --sample N"),
], ids=["by-alone", "stratified-without-by", "select-strategy", "unknown-field", "nothing-to-push"])
def test_bad_options_fail_before_any_server_contact(dataset, argv, needle, capsys):
    code = main(["push", "--from", str(dataset), "--project", "p", *argv, "--url", "http://127.0.0.1:9", "--api-key", "k"])
    err = capsys.readouterr().err
    assert code == 1 and needle in err and "Traceback" not in err and "Label Studio" not in err, err
    if "region" in needle:
        assert "use one of its document fields: doc_id, date, lean, outlet, source, title, url" in err


def test_a_directory_that_is_not_a_dataset(tmp_path, capsys):
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    assert main(["push", "--from", str(tmp_path), "--project", "p", "--sample", "3", "--url", "http://127.0.0.1:9"]) == 1
    assert "no _slant_manifest.json, so not a dataset written by `slant analyze --out`" in capsys.readouterr().err


def test_missing_corpus_extra(dataset, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert main(["push", "--from", str(dataset), "--project", "p", "--sample", "3"]) == 1
    assert "pip install 'slant[corpus]'" in capsys.readouterr().err


def test_a_sampled_sentence_becomes_the_task_push_file_makes(corpus, dataset, default_model, tax):
    """Data, review fields and prediction as `slant push FILE` builds them from the document;
    only the document fields come back as the strings the dataset stores (lean -2 -> "-2")."""
    from_file = {t["data"]["slant_id"]: t for doc in read_documents([corpus])
                 for t in tasks_with_predictions(task_data(doc, taxonomy=tax), model=default_model, taxonomy=tax)}
    wanted = {sid: {"selection": "uncertainty"} if i % 2 else {"slant_audit": True, "slant_audit_p": 0.25}
              for i, sid in enumerate(sorted(from_file))}
    built = list(_chosen_tasks(open_corpus(dataset)[0], wanted, tax))
    assert sorted(t["data"]["slant_id"] for t in built) == sorted(from_file)
    assert any(t["data"]["text"] == t["data"]["doc_title"] for t in built)  # title sentences too
    assert any(r["type"] == "labels" for t in built for r in t["predictions"][0]["result"])  # some with spans
    for task in built:
        sid = task["data"]["slant_id"]
        want = from_file[sid]["data"]
        assert task["data"] == {**want, "lean": str(want["lean"]), **wanted[sid]}
        assert list(task["data"])[-len(wanted[sid]):] == list(wanted[sid])  # the sample's fields last
        assert task["predictions"] == from_file[sid]["predictions"]


def test_a_row_becomes_one_task_with_its_document_fields_and_stored_prediction(tax):
    row = {"slant_id": "a" * 32, "doc_id": "d1", "sentence_index": 2, "start": 40, "end": 77, "kind": "body",
           "text": "Critics say the slashed budget hurts.", "title": None, "source": "s.txt", "outlet": "Herald",
           "date": None, "slant_note": "x", "labels": ["loaded_language"], "scores": [("loaded_language", 0.8)],
           "spans": [{"start": 16, "end": 23, "label": "loaded_language", "text": "slashed", "score": 1.0}],
           "uncertainty": 0.3, "model_version": "m1"}
    task = _task(row, "Before.", "", {"selection": "random"}, tax)
    assert task["data"] == {
        "text": row["text"], "context_before": "Before.", "context_after": "",
        "slant_labels": "Loaded language", "slant_confidence": 0.8, "slant_uncertainty": 0.3,
        "outlet": "Herald", "doc_id": "d1", "doc_title": "", "sentence_index": 2, "start": 40, "end": 77,
        "source": "s.txt", "slant_id": "a" * 32, "selection": "random"}
    assert list(task["data"])[:6] == ["text", "context_before", "context_after", "slant_labels", "slant_confidence",
                                      "slant_uncertainty"]
    (pred,) = task["predictions"]
    assert pred["model_version"] == "m1" and pred["score"] == 0.8
    assert [(r["id"], r["type"], r["value"]) for r in pred["result"]] == [
        ("aaaaaaaac", "choices", {"choices": ["Loaded language"]}),
        ("aaaaaaaas0", "labels", {"start": 16, "end": 23, "text": "slashed", "labels": ["Loaded language"]})]


# --- against the session's real Label Studio ------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("options", [
    ["--sample", "6"],
    ["--sample", "6", "--strategy", "random"],
    ["--sample", "6", "--strategy", "stratified", "--by", "outlet"],
], ids=["uncertainty", "random", "stratified"])
def test_review_samples(label_studio, dataset, tax, options, capsys):
    title = f"sample {options[-1]} {uuid.uuid4().hex[:6]}"
    assert _push(label_studio, dataset, title, *options) == 0
    said = capsys.readouterr().out
    assert "6 new tasks" in said and "review sample" in said
    rows = _rows(dataset)
    project, tasks = _tasks(label_studio, title)
    assert len(tasks) == 6
    for t in tasks:
        row = rows[t.data["slant_id"]]
        assert not any(k.startswith("slant_audit") for k in t.data)
        assert (t.data["outlet"], t.data["date"], t.data["url"]) == (row["outlet"], row["date"], row["url"])
        assert t.data["text"] == row["text"] and t.data["doc_title"] == row["title"]
        spans = [{**s, "weight": s["score"]} for s in row["spans"]]
        want = prediction_json(Prediction(row["labels"], dict(row["scores"]), spans, row["uncertainty"]), text=row["text"],
                               taxonomy=tax, model_version=row["model_version"], key=row["slant_id"])
        (pred,) = [_dump(p) for p in t.predictions]
        assert pred["model_version"] == want["model_version"] and pred["score"] == pytest.approx(want["score"])
        assert [(r["type"], r["value"]) for r in pred["result"]] == [(r["type"], r["value"]) for r in want["result"]]
    if "uncertainty" not in " ".join(options) and options[-1] == "6":  # the default strategy: the least certain
        top = sorted(rows.values(), key=lambda r: (-r["uncertainty"], r["slant_id"]))[:6]
        assert {t.data["slant_id"] for t in tasks} == {r["slant_id"] for r in top}
    if "stratified" in options:
        assert Counter(t.data["outlet"] for t in tasks) == Counter({"Coast Courier": 2, "Harbor Herald": 2, "Valley Voice": 2})
    assert _push(label_studio, dataset, title, *options) == 0  # idempotent
    assert "0 new tasks, 6 duplicates skipped" in capsys.readouterr().out
    assert len(_tasks(label_studio, title)[1]) == 6


@pytest.mark.integration
def test_audit_sample_its_tab_and_a_review_sample_beside_it(label_studio, dataset, capsys):
    title = f"audit {uuid.uuid4().hex[:6]}"
    assert _push(label_studio, dataset, title, "--audit", "9", "--by", "outlet") == 0
    rows = _rows(dataset)
    sizes = Counter(r["outlet"] for r in rows.values())
    alloc = allocate(9, dict(sizes))
    project, tasks = _tasks(label_studio, title)
    assert len(tasks) == 9 and Counter(t.data["slant_audit_stratum"] for t in tasks) == Counter(alloc)
    for t in tasks:
        h = t.data["outlet"]
        assert t.data["slant_audit"] is True and t.data["slant_audit_design"] == "stratified"
        assert t.data["slant_audit_stratum"] == h and t.data["slant_audit_p"] == pytest.approx(alloc[h] / sizes[h])
    assert _push(label_studio, dataset, title, "--sample", "5") == 0  # review sample: never marked audit
    _, tasks = _tasks(label_studio, title)
    review = [t for t in tasks if "slant_audit" not in t.data]
    assert len(tasks) == 9 + len(review) and all(t.data["selection"] == "uncertainty" for t in review)
    sdk = label_studio.client()
    (view,) = [v for v in sdk.views.list(project=project.id) if (v.data or {}).get("title") == AUDIT_VIEW_TITLE]
    in_tab = list(sdk.tasks.list(project=project.id, view=view.id, fields="task_only", page_size=1000))
    assert sorted(t.id for t in in_tab) == sorted(t.id for t in tasks if t.data.get("slant_audit"))
    capsys.readouterr()
    assert _push(label_studio, dataset, title, "--audit", "9", "--by", "outlet") == 0  # idempotent
    assert "0 new tasks" in capsys.readouterr().out and len(_tasks(label_studio, title)[1]) == len(tasks)
    assert len([v for v in sdk.views.list(project=project.id) if (v.data or {}).get("title") == AUDIT_VIEW_TITLE]) == 1


@pytest.mark.integration
def test_audit_marks_tasks_already_pushed_and_agreement_by_outlet(label_studio, corpus, dataset, default_model, tax,
                                                                  capsys):
    title = f"whole corpus {uuid.uuid4().hex[:6]}"
    studio = label_studio.studio()
    push(studio, [corpus], project=title, taxonomy=tax, model=default_model)  # every sentence, from the JSONL
    project, tasks = _tasks(label_studio, title)
    assert {t.data["slant_id"] for t in tasks} == set(_rows(dataset))  # the same keys as the Parquet rows
    assert {t.data["outlet"] for t in tasks} == {"Harbor Herald", "Valley Voice", "Coast Courier"}
    assert _push(label_studio, dataset, title, "--audit", "4") == 0
    out = capsys.readouterr().out
    assert "0 new tasks" in out and "audit fields added to 4 tasks already in the project" in out
    _, tasks = _tasks(label_studio, title)
    marked = [t for t in tasks if t.data.get("slant_audit")]
    assert len(marked) == 4 and {t.data["slant_audit_design"] for t in marked} == {"uniform"}
    assert {t.data["slant_audit_stratum"] for t in marked} == {""}
    assert all(t.data["slant_audit_p"] == pytest.approx(4 / len(tasks)) for t in marked)
    # two annotators label every task: agreement per outlet from the pulled project
    sdk = label_studio.client()
    names = [tax.category(c).name for c in list(tax.sentence_ids)[:2]]
    for k in range(2):
        tag = uuid.uuid4().hex[:8]
        user = sdk.users.create(username=f"corpus{k}-{tag}", email=f"corpus{k}-{tag}@example.com")
        for i, t in enumerate(tasks):
            value = {"choices": [names[(i + k * (i % 3 == 0)) % 2]]}
            sdk.annotations.create(id=t.id, completed_by=user.id,
                                   result=[{"from_name": "categories", "to_name": "text", "type": "choices", "value": value}])
    assert main(["agreement", "--project", title, "--by", "outlet", "--bootstrap", "0", "--format", "json",
                 *_target(label_studio)]) == 0
    import json

    report = json.loads(capsys.readouterr().out)
    assert [g["value"] for g in report["groups"]["values"]] == ["Coast Courier", "Harbor Herald", "Valley Voice"]
    assert sum(g["records"] for g in report["groups"]["values"]) == len(tasks)
