"""backend.app + journal: the ML backend through Starlette's test client, with small fakes.

Label Studio itself is exercised in test_app_integration.py; credentials and uvicorn
(backend.run) in test_run.py.
"""

import base64
import json
import logging
import os
import stat
import threading
import time

import pytest
from starlette.testclient import TestClient

from slant.backend.app import Limits, ServerAuth, create_app
from slant.backend.journal import Journal, normalize_event, reviewed_records
from slant.backend.openapi import openapi_document
from slant.backend.trainer import Trainer
from slant.errors import DataError, ModelError
from slant.model.slantmodel import Prediction
from slant.studio.lsformat import check_label_config, prediction_json
from slant.studio.projects import project_config

AUTH = ServerAuth("ls", "pw-123", "tok-456")
GOOD = ("ls", "pw-123")


class FakeModel:
    """Labels sentences containing 'scheme' as loaded language; can be told to fail."""

    def __init__(self, version="fake-1", fail=None, delay=0.0):
        self.model_version, self.fail, self.delay, self.calls = version, fail, delay, []

    def predict(self, texts):
        self.calls.append(list(texts))
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        out = []
        for text in texts:
            at = text.find("scheme")
            labels = ["loaded_language"] if at >= 0 else []
            spans = [{"start": at, "end": at + 6, "label": "loaded_language", "text": "scheme"}] if at >= 0 else []
            out.append(Prediction(labels, {"loaded_language": 0.9 if labels else 0.1}, spans, 0.2 if labels else 0.7))
        return out


class FakeRegistry:
    def __init__(self, model):
        self.current, self.models = None, {None: model}

    def current_version(self):
        return self.current

    def current_model(self, taxonomy, cache_dir=None):
        return self.models[self.current]


@pytest.fixture
def client_for(tax, tmp_path):
    clients = []

    def make(model=None, **kwargs):
        kwargs.setdefault("auth", AUTH)
        kwargs.setdefault("journal_dir", tmp_path / "journal")
        app = create_app(model_source=model or FakeModel(), taxonomy=tax, **kwargs)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def tasks(*texts):
    return {"tasks": [{"id": i + 1, "data": {"text": t, "slant_id": f"sid{i}"}} for i, t in enumerate(texts)],
            "project": "1.1700000000", "label_config": "<View/>"}


def event(aid, task, text, names, action="ANNOTATION_CREATED", project=3, cancelled=False):
    result = [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": names}}] if names else []
    return {"action": action, "project": {"id": project, "title": "p"},
            "annotation": {"id": aid, "task": task, "result": result, "was_cancelled": cancelled, "completed_by": 7},
            "task": {"id": task, "data": {"text": text, "doc_id": f"doc{task}"}}}


# --- health, setup, predict ------------------------------------------------------------------

def test_health_and_setup_answer_the_model_version(client_for, tax):
    c = client_for()
    r = c.get("/health", auth=GOOD)
    assert r.status_code == 200 and r.json()["status"] == "UP" and r.json()["model_version"] == "fake-1"
    r = c.post("/setup", auth=GOOD, json={"project": "4.1700000000", "schema": project_config(tax), "hostname": "http://x",
                                          "access_token": "secret"})
    assert r.status_code == 200 and r.json() == {"model_version": "fake-1"}
    assert 4 in c.app.state.projects


def test_predict_returns_one_prediction_per_task_in_order_in_push_format(client_for, tax):
    model = FakeModel()
    c = client_for(model)
    texts = ["Nothing here.", "The scheme failed.", "Plain words.", "Another scheme again."]
    r = c.post("/predict", auth=GOOD, json=tasks(*texts))
    assert r.status_code == 200
    body = r.json()
    assert body["model_version"] == "fake-1" and len(body["results"]) == 4
    expected = [prediction_json(p, text=t, taxonomy=tax, model_version="fake-1", key=f"sid{i}")
                for i, (p, t) in enumerate(zip(FakeModel().predict(texts), texts))]
    assert body["results"] == expected
    assert [bool(res["result"]) for res in body["results"]] == [False, True, False, True]
    assert body["results"][3]["result"][1]["value"]["text"] == "scheme"


def test_concurrent_requests_are_merged_but_answers_stay_separate(client_for):
    model = FakeModel(delay=0.05)
    c = client_for(model)
    out = {}

    def call(i):
        texts = [f"request {i} sentence {j} scheme" if j % 2 else f"request {i} sentence {j}" for j in range(i + 1)]
        out[i] = (texts, c.post("/predict", auth=GOOD, json=tasks(*texts)).json())

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for texts, body in out.values():
        assert len(body["results"]) == len(texts)
        assert [bool(r["result"]) for r in body["results"]] == ["scheme" in t for t in texts]
    assert len(model.calls) < 8  # some requests shared a model call


def test_empty_task_list_gets_empty_results(client_for):
    r = client_for().post("/predict", auth=GOOD, json={"tasks": []})
    assert r.status_code == 200 and r.json()["results"] == []


def test_real_default_model_matches_slant_push(client_for, tax):
    from slant.loop.prelabel import tasks_with_predictions
    from slant.model.seed import load_model

    model = load_model(None, taxonomy=tax)
    c = client_for(model)
    datas = [{"text": t, "slant_id": f"k{i}"} for i, t in enumerate(["Critics say the scheme is a disaster.", "The vote was 5-4."])]
    r = c.post("/predict", auth=GOOD, json={"tasks": [{"id": i, "data": d} for i, d in enumerate(datas)]})
    pushed = [t["predictions"][0] for t in tasks_with_predictions(datas, model=model, taxonomy=tax)]
    assert r.json()["results"] == pushed


# --- auth --------------------------------------------------------------------------------------

@pytest.mark.parametrize("auth", [None, ("ls", "wrong"), ("other", "pw-123"), ("", ""), "garbage"],
                         ids=["none", "wrong-password", "wrong-user", "empty", "malformed-header"])
@pytest.mark.parametrize("path", ["/health", "/setup", "/predict"])
def test_wrong_credentials_get_401_and_never_a_prediction(client_for, auth, path):
    model = FakeModel()
    c = client_for(model)
    headers = {"Authorization": "Basic !!notbase64"} if auth == "garbage" else {}
    kwargs = {"auth": auth} if isinstance(auth, tuple) else {}
    if path == "/health":
        r = c.get(path, headers=headers, **kwargs)
    else:
        r = c.post(path, json=tasks("The scheme."), headers=headers, **kwargs)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")
    assert "results" not in r.json() and "model_version" not in r.json()
    assert model.calls == []


def test_auth_compares_in_constant_time(monkeypatch, client_for):
    import hmac

    seen = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: seen.append(1) or real(a, b))
    client_for().get("/health", auth=("x", "y"))
    assert len(seen) == 2  # user and password, both compared whatever the first result


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("body,match", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "expects a JSON object"),
    (b'{"tasks": {"a": 1}}', "expects a JSON object"),
    (b'{"tasks": [{"id": 1, "data": {"txt": "x"}}]}', r"task 0 \(id 1\): data.text must be a string"),
    (b'{"tasks": [5]}', "task 0: data.text must be a string"),
    (b'{"tasks": [{"data": {"text": "\\ud800"}}]}', "unpaired surrogate"),
], ids=["syntax", "bytes", "array", "tasks-object", "no-text", "task-not-object", "surrogate"])
def test_malformed_predict_requests_get_400_json(client_for, body, match):
    r = client_for().post("/predict", auth=GOOD, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert __import__("re").search(match, r.json()["error"])


@pytest.mark.parametrize("path", ["/predict", "/setup", "/webhook/tok-456"])
def test_deeply_nested_json_gets_a_short_400_and_no_traceback(client_for, caplog, path):
    c = client_for()
    deep = b"[" * 100_000 + b"]" * 100_000
    with caplog.at_level(logging.ERROR, logger="slant.backend.app"):
        r = c.post(path, auth=GOOD, content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "nests JSON too deeply" in r.json()["error"]
    assert len(r.text) < 200 and "Traceback" not in caplog.text
    assert c.app.state.journal.size() == 0


def test_too_many_tasks_and_too_long_text_are_refused(client_for):
    c = client_for(limits=Limits(max_tasks=2, max_text=10))
    r = c.post("/predict", auth=GOOD, json=tasks("a", "b", "c"))
    assert r.status_code == 400 and "at most 2 per request" in r.json()["error"]
    r = c.post("/predict", auth=GOOD, json=tasks("x" * 11))
    assert r.status_code == 400 and "more than 10" in r.json()["error"]


def test_too_large_body_gets_413(client_for):
    c = client_for(limits=Limits(max_body=1000))
    r = c.post("/predict", auth=GOOD, json=tasks("x" * 2000))
    assert r.status_code == 413 and "larger than 1000 bytes" in r.json()["error"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(10):
            yield b" " * 200

    r = c.post("/predict", auth=GOOD, content=chunks())
    assert r.status_code == 413


def test_setup_refuses_a_labeling_config_of_another_taxonomy(client_for):
    config = '<View><Text name="text" value="$text"/><Choices name="categories" toName="text"><Choice value="Cats"/></Choices></View>'
    r = client_for().post("/setup", auth=GOOD, json={"project": "1.2", "schema": config})
    assert r.status_code == 400 and "has no choice or label for Loaded language" in r.json()["error"]


def test_check_label_config_messages(tax):
    check_label_config(project_config(tax), tax)
    with pytest.raises(DataError, match="not valid XML"):
        check_label_config("<View>", tax)


def test_slant_error_becomes_4xx_json(client_for):
    c = client_for(FakeModel(fail=ModelError("model x: broken; rebuild it with `slant train`")))
    r = c.post("/predict", auth=GOOD, json=tasks("a"))
    assert r.status_code == 400 and r.json() == {"error": "model x: broken; rebuild it with `slant train`"}


def test_internal_error_is_a_generic_500_with_the_traceback_in_the_log_only(client_for, caplog):
    c = client_for(FakeModel(fail=RuntimeError("secret internals at /srv/x.py")))
    with caplog.at_level(logging.ERROR, logger="slant.backend.app"):
        r = c.post("/predict", auth=GOOD, json=tasks("a"))
    assert r.status_code == 500
    assert "secret internals" not in r.text and "Traceback" not in r.text
    assert r.json()["error"].startswith("internal error")
    assert "secret internals" in caplog.text and "Traceback" in caplog.text


def test_unknown_paths_and_methods_answer_json(client_for):
    c = client_for()
    assert c.get("/nope", auth=GOOD).json()["error"]
    r = c.get("/predict", auth=GOOD)
    assert r.status_code == 405 and r.json()["error"]


def test_openapi_document_is_served_without_auth(client_for):
    r = client_for().get("/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.")
    assert set(r.json()["paths"]) == {"/health", "/setup", "/predict", "/webhook", "/webhook/{token}", "/openapi.json"}
    assert openapi_document()["paths"]["/webhook/{token}"]["post"]["security"] == []


# --- webhook and journal ---------------------------------------------------------------------------

def test_webhook_needs_its_token_or_basic_auth(client_for):
    c = client_for()
    body = event(1, 10, "The scheme.", ["Loaded language"])
    assert c.post("/webhook", json=body).status_code == 401
    assert c.post("/webhook/wrong", json=body).status_code == 403
    assert c.post("/webhook/tok-456", json=body).status_code == 201
    assert c.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 3}}, auth=GOOD).status_code == 201
    lines = (c.app.state.journal.path).read_text().splitlines()
    assert [json.loads(x)["action"] for x in lines] == ["ANNOTATION_CREATED", "START_TRAINING"]


def test_webhook_ignores_other_actions_and_refuses_malformed_payloads(client_for):
    c = client_for()
    r = c.post("/webhook/tok-456", json={"action": "PROJECT_UPDATED", "project": {"id": 1}})
    assert r.status_code == 200 and r.json() == {"status": "ignored"}
    r = c.post("/webhook/tok-456", json={"action": "ANNOTATION_CREATED", "annotation": {"id": "x"}})
    assert r.status_code == 400 and "integer 'id'" in r.json()["error"]
    r = c.post("/webhook/tok-456", json={"nothing": 1})
    assert r.status_code == 400 and "no 'action'" in r.json()["error"]
    r = c.post("/webhook/tok-456", json={"action": "ANNOTATION_CREATED"})
    assert r.status_code == 400 and "turn on 'send payload'" in r.json()["error"]
    assert c.app.state.journal.size() == 0


def test_access_log_hides_the_webhook_token(client_for, caplog):
    from slant.backend.app import AccessLog

    c = client_for()
    logged = TestClient(AccessLog(c.app))
    with caplog.at_level(logging.INFO, logger="slant.backend.app.access"):
        logged.post("/webhook/tok-456", json={"action": "PROJECT_UPDATED"})
    assert "/webhook/<token>" in caplog.text and "tok-456" not in caplog.text


def test_reviewed_records_replay_creations_updates_and_deletions(tmp_path, tax):
    journal = Journal(tmp_path)
    for payload in [
        event(1, 10, "The scheme failed.", ["Loaded language"]),
        event(2, 11, "Officials said so.", ["Attribution to a named source"]),
        event(1, 10, "The scheme failed.", [], action="ANNOTATION_UPDATED"),
        event(3, 12, "Skipped one.", [], cancelled=True),
        event(4, 13, "Gone soon.", ["Loaded language"]),
        {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 4}], "project": {"id": 3}},
        event(5, 14, "Odd label.", ["No such category", "Loaded language"]),
    ]:
        journal.append(normalize_event(payload))
    records = {r["task_id"]: r for r in reviewed_records(journal.events(), taxonomy=tax)}
    assert set(records) == {10, 11, 14}
    assert records[10]["labels"] == [] and records[11]["labels"] == ["attribution_named"]
    assert records[14]["labels"] == ["loaded_language"] and records[14]["unknown_labels"] == ["No such category"]
    assert records[10]["doc_id"] == "doc10" and records[10]["project_id"] == 3


def test_journal_survives_a_torn_last_line_and_keeps_its_offset(tmp_path):
    journal = Journal(tmp_path)
    end = journal.append({"action": "ANNOTATION_CREATED", "annotations": [{"id": 1}]})
    journal.mark_processed(end)
    journal.append({"action": "ANNOTATION_CREATED", "annotations": [{"id": 2}]})
    with open(journal.path, "ab") as fh:
        fh.write(b'{"action": "ANNOTATION_CRE')  # the crash came mid-write, before any reply
    again = Journal(tmp_path)
    assert [e["annotations"][0]["id"] for _, e in again.events()] == [1, 2]
    assert again.processed() == end and again.pending() == (1, False)
    assert stat.S_IMODE(os.stat(again.path).st_mode) == 0o600


# --- training -------------------------------------------------------------------------------------

def promoting_job(calls, version="v2", promote=True, delay=0.0):
    def job(records, *, registry, taxonomy):
        calls.append(records)
        time.sleep(delay)
        if promote:
            registry.models[version] = FakeModel(version)
            registry.current = version
        return {"promoted": promote, "version": version, "reasons": [] if promote else ["macro-F1 dropped"]}
    return job


def wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_training_runs_after_n_annotations_promotes_and_swaps_the_model(client_for):
    calls, promoted = [], []
    registry = FakeRegistry(FakeModel("v1"))
    c = client_for(registry, train_every=3, debounce=0.1, poll_registry=0.05, train_job=promoting_job(calls),
                   on_promote=lambda v, pids: promoted.append((v, pids)))
    for i in range(3):
        assert c.post("/webhook/tok-456", json=event(i, 100 + i, f"The scheme {i}.", ["Loaded language"])).status_code == 201
    assert wait_for(lambda: c.get("/health", auth=GOOD).json()["training"]["runs"] == 1)
    assert c.get("/health", auth=GOOD).json()["model_version"] == "v2"
    assert len(calls) == 1 and len(calls[0]) == 3  # debounced: one run for the burst
    assert promoted == [("v2", [3])]
    assert c.post("/predict", auth=GOOD, json=tasks("x")).json()["results"][0]["model_version"] == "v2"
    training = c.get("/health", auth=GOOD).json()["training"]
    assert training["pending"] == 0 and training["last"]["promoted"] is True


def test_refused_candidate_keeps_the_model_and_start_training_triggers_a_run(client_for):
    calls = []
    registry = FakeRegistry(FakeModel("v1"))
    c = client_for(registry, train_every=100, debounce=0.05, poll_registry=0.05, train_job=promoting_job(calls, promote=False))
    c.post("/webhook/tok-456", json=event(1, 1, "The scheme.", ["Loaded language"]))
    time.sleep(0.3)
    assert calls == []  # 1 < 100 annotations
    c.post("/webhook", auth=GOOD, json={"action": "START_TRAINING", "project": {"id": 3}})
    assert wait_for(lambda: c.get("/health", auth=GOOD).json()["training"]["runs"] == 1)
    health = c.get("/health", auth=GOOD).json()
    assert health["model_version"] == "v1" and health["training"]["last"]["reasons"] == ["macro-F1 dropped"]
    assert health["training"]["pending"] == 0


def test_predict_does_not_wait_for_training(client_for):
    calls = []
    registry = FakeRegistry(FakeModel("v1"))
    c = client_for(registry, train_every=1, debounce=0.01, poll_registry=0.02, train_job=promoting_job(calls, delay=1.5))
    c.post("/webhook/tok-456", json=event(1, 1, "The scheme.", ["Loaded language"]))
    assert wait_for(lambda: c.get("/health", auth=GOOD).json()["training"]["running"])
    began = time.perf_counter()
    r = c.post("/predict", auth=GOOD, json=tasks("The scheme."))
    assert time.perf_counter() - began < 0.5 and r.json()["model_version"] == "v1"
    assert wait_for(lambda: c.get("/health", auth=GOOD).json()["model_version"] == "v2")


def test_restart_replays_the_journal_and_loses_no_event(tax, tmp_path):
    calls = []
    registry = FakeRegistry(FakeModel("v1"))
    kwargs = dict(taxonomy=tax, auth=AUTH, journal_dir=tmp_path / "j", train_every=4, debounce=0.05, poll_registry=0.05,
                  train_job=promoting_job(calls))
    with TestClient(create_app(model_source=registry, **kwargs)) as c:
        for i in range(3):
            c.post("/webhook/tok-456", json=event(i, i, f"The scheme {i}.", ["Loaded language"]))
        assert c.get("/health", auth=GOOD).json()["training"]["pending"] == 3
    with TestClient(create_app(model_source=registry, **kwargs)) as c:  # the restarted backend
        assert c.get("/health", auth=GOOD).json()["training"]["pending"] == 3
        c.post("/webhook/tok-456", json=event(9, 9, "The scheme 9.", ["Loaded language"]))
        assert wait_for(lambda: c.get("/health", auth=GOOD).json()["model_version"] == "v2")
    assert sorted(r["task_id"] for r in calls[0]) == [0, 1, 2, 9]


def test_app_follows_a_promotion_made_elsewhere(client_for):
    registry = FakeRegistry(FakeModel("v1"))
    c = client_for(registry, poll_registry=0.05)
    registry.models["v7"], registry.current = FakeModel("v7"), "v7"  # `slant models promote` in another process
    assert wait_for(lambda: c.get("/health", auth=GOOD).json()["model_version"] == "v7")


def test_trainer_without_records_does_not_call_the_job(tmp_path, tax):
    from slant.backend.app import ModelSlot

    journal = Journal(tmp_path)
    journal.append(normalize_event({"action": "START_TRAINING", "project": {"id": 1}}))
    calls = []
    trainer = Trainer(journal=journal, taxonomy=tax, registry=FakeRegistry(FakeModel()), slot=ModelSlot(FakeModel()),
                      debounce=0.01, job=promoting_job(calls))
    trainer._run_once()
    assert calls == [] and trainer.status()["last"]["reasons"] == ["no labelled sentences in the journal"]
    assert journal.pending() == (0, False)


# --- auth headers, training job ---------------------------------------------------------------------

def test_basic_header_parsing_edge_cases(client_for):
    c = client_for()
    colonless = base64.b64encode(b"lspw-123").decode()
    assert c.get("/health", headers={"Authorization": f"Basic {colonless}"}).status_code == 401
    latin = base64.b64encode("ls:pw-123\xff".encode("latin-1")).decode()
    assert c.get("/health", headers={"Authorization": f"Basic {latin}"}).status_code == 401


def test_background_retrain_fits_in_one_process(monkeypatch, tax):
    """The server's retrain leaves the other cores to the model processes answering /predict."""
    import slant.loop.train
    from slant.backend.trainer import retrain_job

    seen = {}

    class Out:
        promoted, version, reasons = False, None, ()

    def fake(records, **kwargs):
        seen.update(kwargs)
        return Out()

    monkeypatch.setattr(slant.loop.train, "retrain_and_maybe_promote", fake)
    assert retrain_job([], registry=None, taxonomy=tax) == {"promoted": False, "version": None, "reasons": []}
    assert seen["params"] == {"n_jobs": 1}


def test_a_replayed_webhook_is_answered_but_not_counted(client_for):
    c = client_for(train_every=0)
    body = event(1, 10, "The scheme.", ["Loaded language"])
    assert c.post("/webhook/tok-456", json=body).status_code == 201
    r = c.post("/webhook/tok-456", json=body)
    assert r.status_code == 200 and r.json() == {"status": "duplicate"}
    assert len(c.app.state.journal.path.read_text().splitlines()) == 1
