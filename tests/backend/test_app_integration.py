"""The live ML backend against a real Label Studio (session fixture, started with
ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=false).

The backend runs in this process under uvicorn, in a thread, on a free loopback port,
so Label Studio can call it and the test can stop and restart it.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from slant.backend.app import ServerAuth, create_app
from slant.errors import StudioError
from slant.loop.train import Registry
from slant.studio.lsformat import prediction_json, task_data
from slant.studio.ml import connect_ml_backend, ml_backends, refresh_live_predictions
from slant.studio.projects import ensure_project
from slant.taxonomy.core import load_taxonomy
from slant.text.documents import make_document

pytestmark = pytest.mark.integration

AUTH = ServerAuth("slant-test", "pw-integration-1", "hook-token-abc")
SUBJECTS = ["council", "committee", "board", "agency", "ministry", "union"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend:
    """uvicorn serving one app in a thread; `stop` ends it like Ctrl-C would."""

    def __init__(self, app, port):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "backend did not start"
            time.sleep(0.05)
        return self

    def stop(self):
        self.server.should_exit = True
        self.thread.join(30)
        assert not self.thread.is_alive()


def _documents():
    """Six short articles: the first sentence uses a made-up charged word the seed model
    has never seen, which the annotators below mark as loaded language."""
    docs = []
    for i, who in enumerate(SUBJECTS):
        text = f"The {who} met on Tuesday to review the zorbish proposal. The {who} published its annual figures on Monday."
        docs.append(make_document(text, doc_id=f"doc-{who}", title=f"Report {i}"))
    return docs


def _choices(names):
    return [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": names}}] if names else []


def _predictions(sdk, task_id):
    return [p if isinstance(p, dict) else p.model_dump() for p in (sdk.tasks.get(id=task_id).predictions or [])]


def _wait(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_wrong_backend_credentials_are_refused_by_label_studio(label_studio, tmp_path):
    tax = load_taxonomy()
    studio = label_studio.studio()
    project, _, _ = ensure_project(studio, "ML backend wrong password", tax)
    model_source = Registry(tmp_path / "models")
    port = _free_port()
    backend = Backend(create_app(model_source=model_source, taxonomy=tax, auth=AUTH, journal_dir=tmp_path / "j"), port).start()
    try:
        with pytest.raises(StudioError, match="authentication parameters were either not provided or are incorrect"):
            connect_ml_backend(studio, project.id, url=f"http://127.0.0.1:{port}", username=AUTH.username,
                               password="wrong", webhook_url=f"http://127.0.0.1:{port}/webhook/x")
        assert ml_backends(studio, project) == []
    finally:
        backend.stop()


def test_connect_predict_learn_from_annotations_and_survive_a_restart(label_studio, tmp_path):
    tax = load_taxonomy()
    studio, sdk = label_studio.studio(), label_studio.client()
    user_id, _ = studio.whoami()
    project, _, _ = ensure_project(studio, "ML backend live", tax)
    datas = [d for doc in _documents() for d in task_data(doc, taxonomy=tax)]
    ids = list(sdk.projects.import_tasks(id=project.id, request=[{"data": d} for d in datas], return_task_ids=True).task_ids)
    assert len(ids) == 12

    registry = Registry(tmp_path / "models")
    promoted = []

    def on_promote(version, project_ids):
        promoted.append((version, project_ids))
        for pid in project_ids:
            refresh_live_predictions(label_studio.studio(), pid, version)

    def make_app():
        return create_app(model_source=registry, taxonomy=tax, auth=AUTH, journal_dir=tmp_path / "journal",
                          train_every=12, debounce=1.0, poll_registry=0.5, on_promote=on_promote,
                          model_processes=2)  # as `slant serve` runs it: the model in child processes

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    backend = Backend(make_app(), port).start()
    try:
        # Connect: Label Studio checks /health and /setup with basic auth before accepting.
        conn = connect_ml_backend(studio, project.id, url=url, username=AUTH.username, password=AUTH.password,
                                  webhook_url=f"{url}/webhook/{AUTH.webhook_token}")
        assert conn.backend.connected and conn.backend.is_interactive, conn.summary()
        assert [b.state for b in ml_backends(studio, project)] == ["CO"]
        assert AUTH.password not in conn.summary() and AUTH.webhook_token not in conn.summary()
        hooks = [h for h in sdk.webhooks.list(project=str(project.id)) if h.url.startswith(url)]
        assert [h.url for h in hooks] == [f"{url}/webhook/{AUTH.webhook_token}"]  # LS's token-less hook re-pointed
        again = connect_ml_backend(studio, project.id, url=url, username=AUTH.username, password=AUTH.password,
                                   webhook_url=f"{url}/webhook/{AUTH.webhook_token}")
        assert not again.created and len(ml_backends(studio, project)) == 1  # idempotent

        # Retrieve predictions for all tasks: stored, one per task, as `slant push` would make them.
        seed = registry.current_model(tax)
        sdk.actions.create(id="retrieve_tasks_predictions", project=project.id, selected_items={"all": True, "excluded": []})
        expected = {d["slant_id"]: prediction_json(p, text=d["text"], taxonomy=tax, model_version=seed.model_version, key=d["slant_id"])
                    for d, p in zip(datas, seed.predict([d["text"] for d in datas]))}
        for task_id, d in zip(ids, datas):
            preds = _predictions(sdk, task_id)
            assert len(preds) == 1 and preds[0]["model_version"] == seed.model_version
            assert preds[0]["result"] == expected[d["slant_id"]]["result"]
            assert preds[0]["score"] == pytest.approx(expected[d["slant_id"]]["score"])
        sdk.projects.update(id=project.id, model_version=seed.model_version)  # as after `slant push`

        # Interactive: a task opened without predictions gets them from the backend.
        extra = {**datas[1], "text": "Officials say the zorbish plan is a disaster.", "slant_id": "extra-1"}
        new_id = sdk.projects.import_tasks(id=project.id, request=[{"data": extra}], return_task_ids=True).task_ids[0]
        assert _predictions(sdk, new_id) and _predictions(sdk, new_id)[0]["model_version"] == seed.model_version

        # Annotators mark the made-up word as loaded language; half now, half after a restart.
        def annotate(pairs):
            for task_id, d in pairs:
                names = ["Loaded language"] if "zorbish" in d["text"] else []
                sdk.annotations.create(id=task_id, result=_choices(names), completed_by=user_id)

        pairs = list(zip(ids, datas))
        annotate(pairs[:6])
        journal = tmp_path / "journal" / "events.jsonl"
        assert len(journal.read_text().splitlines()) == 6  # journaled before Label Studio got its answer
        health = httpx.get(f"{url}/health", auth=(AUTH.username, AUTH.password)).json()
        assert health["training"]["pending"] == 6 and health["model_version"] == seed.model_version
    finally:
        backend.stop()

    backend = Backend(make_app(), port).start()  # the restarted backend replays its journal
    try:
        health = httpx.get(f"{url}/health", auth=(AUTH.username, AUTH.password)).json()
        assert health["training"]["pending"] == 6
        annotate(pairs[6:])
        events = [json.loads(x) for x in journal.read_text().splitlines()]
        assert sorted(e["annotations"][0]["task"] for e in events) == sorted(ids)  # no event lost

        last = _wait(lambda: httpx.get(f"{url}/health", auth=(AUTH.username, AUTH.password)).json()["training"]["last"],
                     300, "the background retrain")
        assert last["records"] == 12 and last["promoted"], last
        new_version = registry.current_version()
        assert new_version and new_version.startswith("trained-") and new_version != seed.model_version
        assert httpx.get(f"{url}/health", auth=(AUTH.username, AUTH.password)).json()["model_version"] == new_version
        assert promoted == [(new_version, [project.id])]

        # Annotators now see the new model: the project points at it and the untouched task carries it.
        assert studio.project(project.id).model_version == new_version
        assert new_version in {p["model_version"] for p in _predictions(sdk, new_id)}
        r = httpx.post(f"{url}/predict", auth=(AUTH.username, AUTH.password),
                       json={"tasks": [{"id": 1, "data": {"text": "The guild met to review the zorbish plan."}}]})
        assert r.json()["model_version"] == new_version
    finally:
        backend.stop()


def test_slant_serve_connect_registers_the_backend(label_studio, tmp_path):
    tax = load_taxonomy()
    studio = label_studio.studio()
    project, _, _ = ensure_project(studio, "ML backend via CLI", tax)
    port = _free_port()
    env = {**os.environ, "SLANT_ML_USERNAME": "cli-user", "SLANT_ML_PASSWORD": "cli-pass-123"}
    cmd = [sys.executable, "-m", "slant", "serve", "--port", str(port), "--connect", str(project.id),
           "--url", label_studio.url, "--api-key", label_studio.api_key, "--data-dir", str(tmp_path / "ml"),
           "--models", str(tmp_path / "models")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Label Studio reports it" in line or line.startswith("error:"):
                break
        out = "".join(lines)
        assert "Label Studio reports it Connected" in out, out
        assert "cli-pass-123" not in out and "Traceback" not in out
        token = json.loads((tmp_path / "ml" / "ml-backend.json").read_text())["webhook_token"]
        assert token not in out
        assert oct((tmp_path / "ml" / "ml-backend.json").stat().st_mode & 0o777) == "0o600"
        assert [b.state for b in ml_backends(studio, project)] == ["CO"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
