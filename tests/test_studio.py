"""studio: connection errors, project config plans, push against a real Label Studio."""

import json
import os
import socket
import stat

import pytest
from label_studio_sdk.label_interface import LabelInterface

from slant.cli.main import main
from slant.errors import InputError, StudioError
from slant.studio import server as studio_server
from slant.studio.core import (
    REVIEW_VIEW_TITLE,
    ConsoleProgress,
    connect,
    ensure_project,
    plan_config,
    project_config,
    push,
)
from slant.taxonomy.core import load_taxonomy
from slant.text.documents import read_documents
from test_prelabel import FakeModel

ARTICLE = """Harbour Fees Rise Again

The port authority slashed its maintenance budget in March, officials said.
Critics say the scheme is a disaster for small fishing crews.
“We were never consulted,” said Ana Ruiz, who chairs the fishers' cooperative.
Fees will rise by 12 percent next year.
The authority's board meets on Thursday.
Some members have asked whether the audit was ever finished.
"""

SPECIAL = """Odd Characters In The News

He typed <script>alert("x")</script> & "quotes" into the form, critics say.
The 😀 emoji came before the slashed budget line.
הוועדה אישרה את התקציב and the scheme passed.
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _sentences(path):
    return [s for d in read_documents([path]) for s in d.sentences if s.kind != "byline"]


def _tasks(sdk, project_id):
    return list(sdk.tasks.list(project=project_id, fields="all", page_size=1000))


def _pred_dict(p):
    return p if isinstance(p, dict) else p.model_dump()


# --- without a server -----------------------------------------------------------------

def test_unreachable_server_names_url_and_next_step(tmp_path, capsys):
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(StudioError, match=rf"cannot reach Label Studio at {url} .*slant studio"):
        connect(url, "token")
    article = _write(tmp_path, "a.txt", ARTICLE)
    assert main(["push", str(article), "--project", "nowhere", "--url", url, "--api-key", "t"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot reach Label Studio at {url}") and "Traceback" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("url, key, message", [
    (None, "k", r"no Label Studio URL; pass --url, set LABEL_STUDIO_URL, or start a local server with `slant studio`"),
    ("localhost:8080", "k", r"URL 'localhost:8080' must start with http:// or https://"),
    ("http://localhost:1", None, r"no API token for Label Studio at http://localhost:1; pass --api-key"),
], ids=["no-url", "no-scheme", "no-token"])
def test_connect_argument_errors(url, key, message):
    with pytest.raises(StudioError, match=message):
        connect(url, key)


def test_expired_jwt_token_is_refused_before_any_request():
    import jwt

    token = jwt.encode({"token_type": "refresh", "exp": 1000, "user_id": "1"}, "k" * 32, algorithm="HS256")
    with pytest.raises(StudioError, match=r"refused the API token .*expired"):
        connect("http://127.0.0.1:9", token)


def test_push_checks_input_files_and_batch_size(tmp_path, tax):
    with pytest.raises(InputError, match=r"nope.txt: no such file; check the path"):
        push(None, [tmp_path / "nope.txt"], project="p", taxonomy=tax, model=FakeModel())
    with pytest.raises(InputError, match=r"is a directory; pass the files inside it"):
        push(None, [tmp_path], project="p", taxonomy=tax, model=FakeModel())
    with pytest.raises(InputError, match=r"--batch-size 0 must be at least 1"):
        push(None, [tmp_path], project="p", taxonomy=tax, model=FakeModel(), batch_size=0)
    with pytest.raises(InputError, match=r"no input files"):
        push(None, [], project="p", taxonomy=tax, model=FakeModel())


def _taxonomy_variant(tmp_path, tax, name, *, version, drop=(), rename=None, migrations=()):
    data = json.loads(json.dumps(tax.raw))
    data["version"] = version
    data["categories"] = [c for c in data["categories"] if c["id"] not in drop]
    if rename:
        for c in data["categories"]:
            if c["id"] == rename[0]:
                c["id"] = rename[1]
    data["migrations"] = list(migrations)
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_taxonomy(path)


def test_plan_config(tmp_path, tax):
    current = project_config(tax)
    assert plan_config(current, tax) is None
    assert "slant:taxonomy" in current and LabelInterface(current)  # the marker keeps the config valid
    # Built by hand with the same categories: adopted.
    from slant.taxonomy.config import render_config

    assert plan_config(render_config(tax), tax) == current
    renamed = _taxonomy_variant(tmp_path, tax, "r.json", version="1.1.0", rename=("doubt", "casting_doubt"),
                                migrations=[{"from_version": "1.0.0", "op": "rename", "from": "doubt", "to": "casting_doubt"}])
    assert "casting_doubt" in plan_config(current, renamed)
    dropped = _taxonomy_variant(tmp_path, tax, "d.json", version="1.1.0", drop=("omission",))
    with pytest.raises(StudioError, match=r"removed omission; added -; but no migration says what becomes of omission"):
        plan_config(current, dropped, title="P")
    same_version = _taxonomy_variant(tmp_path, tax, "s.json", version="1.0.0", drop=("omission",),
                                     migrations=[])
    with pytest.raises(StudioError, match=r"the taxonomy version 1.0.0 is not newer than the project's 1.0.0"):
        plan_config(current, same_version)
    foreign = "<View><Text name='text' value='$text'/><Choices name='categories' toName='text'><Choice value='Spam'/></Choices></View>"
    with pytest.raises(StudioError, match=r"not set up by slant .*only in the project: Spam; only in the taxonomy: .*Loaded language"):
        plan_config(foreign, tax)
    other = current.replace('"id": "rhetoric"', '"id": "other"')
    with pytest.raises(StudioError, match=r"uses taxonomy 'other', not 'rhetoric'"):
        plan_config(other, tax)


def test_prefetched_keeps_order_and_raises_worker_errors():
    from slant.studio.core import _prefetched

    assert list(_prefetched(iter(range(5)))) == [0, 1, 2, 3, 4]

    def broken():
        yield 1
        raise InputError("bad file")

    got = []
    with pytest.raises(InputError, match="bad file"):
        for item in _prefetched(broken()):
            got.append(item)
    assert got == [1]
    # A consumer that stops early does not leave the worker blocked forever.
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    stream = _prefetched(endless())
    assert next(stream) == 0
    stream.close()
    import time

    time.sleep(0.3)
    settled = len(produced)
    time.sleep(0.3)
    assert len(produced) == settled <= 4


def test_console_progress_plain_lines(capsys, tax):
    import io

    from slant.studio.lsformat import Batch

    stream = io.StringIO()
    with ConsoleProgress(stream) as show:
        show(Batch([], documents=1, sentences=7, duplicates=2), 5)
    assert stream.getvalue() == "push: 1 documents, 7 sentences read, 5 new tasks, 2 duplicates\n"


def test_count_documents_sizes_the_progress_bar(tmp_path):
    from slant.studio.core import count_documents

    feed = _write(tmp_path, "feed.jsonl", '{"id": 1, "text": "a"}\n\n{"id": 2, "text": "b"}\n')
    assert count_documents([feed, _write(tmp_path, "a.txt", "x"), tmp_path / "missing.md"]) == 4


def test_credentials_file_is_private_and_env_is_local(tmp_path):
    creds, first = studio_server._ensure_credentials(tmp_path)
    assert first and studio_server._ensure_credentials(tmp_path) == (creds, False)
    mode = stat.S_IMODE(os.stat(tmp_path / "credentials.json").st_mode)
    assert mode == 0o600
    assert len(creds["api_key"]) == 40
    env = studio_server.server_env(tmp_path, creds, base={"PATH": "/bin"})
    assert env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true" and env["SSRF_PROTECTION_ENABLED"] == "false"
    assert env["ML_BLOCK_LOCAL_IP"] == "false" and env["SENTRY_DSN"] == "" and env["COLLECT_ANALYTICS"] == "false"
    assert env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path)


def test_studio_without_extra_says_how_to_install(monkeypatch, tmp_path, capsys):
    real = studio_server.importlib.util.find_spec
    monkeypatch.setattr(studio_server.importlib.util, "find_spec", lambda name: None if name == "label_studio" else real(name))
    assert main(["studio", "--data-dir", str(tmp_path)]) == 1
    assert "Label Studio is not installed; install it with: pip install 'slant[studio]'" in capsys.readouterr().err


def test_default_data_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert studio_server.default_data_dir() == tmp_path / "slant" / "studio"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert studio_server.default_data_dir() == tmp_path / ".local" / "share" / "slant" / "studio"


# --- against the session's real Label Studio ------------------------------------------

@pytest.mark.integration
def test_wrong_token_is_refused_and_leaves_no_project(label_studio, tmp_path, capsys):
    article = _write(tmp_path, "a.txt", ARTICLE)
    before = {p.title for p in label_studio.client().projects.list()}
    code = main(["push", str(article), "--project", "Wrong token project", "--url", label_studio.url, "--api-key", "0" * 40])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"error: Label Studio at {label_studio.url} refused the API token (HTTP 401" in err
    assert {p.title for p in label_studio.client().projects.list()} == before


@pytest.mark.integration
def test_push_creates_project_and_repush_adds_nothing(label_studio, tmp_path, tax):
    article = _write(tmp_path, "harbour.txt", ARTICLE)
    sentences = _sentences(article)
    studio, model = label_studio.studio(), FakeModel()
    first = push(studio, [article], project="Harbour push", taxonomy=tax, model=model, batch_size=4, cache_dir=tmp_path / "cache")
    assert first.created and first.new_tasks == len(sentences) == first.sentences and first.duplicates == 0
    assert first.label_counts == {"loaded_language": 2, "attribution_vague": 1}
    assert first.model_version_set and "Harbour push" in first.summary()
    sdk = label_studio.client()
    project = sdk.projects.get(id=first.project_id)
    assert project.model_version == "fake-1" and project.sampling == "Uncertainty sampling"
    assert "taxonomy rhetoric 1.0.0" in project.description
    views = [v for v in sdk.views.list(project=first.project_id) if v.data.get("title") == REVIEW_VIEW_TITLE]
    assert len(views) == 1 and views[0].data["ordering"] == ["tasks:predictions_score"]
    assert first.project_url.endswith(f"/projects/{first.project_id}/data?tab={views[0].id}")

    again = push(studio, [article], project="Harbour push", taxonomy=tax, model=model, cache_dir=tmp_path / "cache")
    assert (again.created, again.new_tasks, again.duplicates, again.sentences) == (False, 0, len(sentences), len(sentences))
    no_cache = push(studio, [article, article], project="Harbour push", taxonomy=tax, model=model)
    assert (no_cache.new_tasks, no_cache.duplicates) == (0, 2 * len(sentences))
    assert len(_tasks(sdk, first.project_id)) == len(sentences)
    assert len([v for v in sdk.views.list(project=first.project_id) if v.data.get("title") == REVIEW_VIEW_TITLE]) == 1

    # A task deleted in Label Studio puts the local ledger out of step: it is noticed and
    # exactly that sentence is sent again.
    victim = _tasks(sdk, first.project_id)[2]
    sdk.tasks.delete(id=victim.id)
    healed = push(studio, [article], project="Harbour push", taxonomy=tax, model=model, cache_dir=tmp_path / "cache")
    assert healed.new_tasks == 1
    texts = sorted(t.data["text"] for t in _tasks(sdk, first.project_id))
    assert texts == sorted(s.text for s in sentences)


@pytest.mark.integration
def test_pushed_predictions_are_valid_and_ordered(label_studio, tmp_path, tax):
    article = _write(tmp_path, "harbour.txt", ARTICLE)
    result = push(label_studio.studio(), [article], project="Harbour validity", taxonomy=tax, model=FakeModel())
    sdk = label_studio.client()
    interface = LabelInterface(sdk.projects.get(id=result.project_id).label_config)
    tasks = _tasks(sdk, result.project_id)
    assert tasks
    for task in tasks:
        (pred,) = [_pred_dict(p) for p in task.predictions]
        assert pred["model_version"] == "fake-1" and 0 <= pred["score"] <= 1
        assert interface.validate_prediction({"result": pred["result"]}, return_errors=True) == []
        for region in pred["result"]:
            if region["type"] == "labels":
                v = region["value"]
                assert task.data["text"][v["start"]:v["end"]] == v["text"]
    # The review tab lists the least certain sentence first.
    view = [v for v in sdk.views.list(project=result.project_id) if v.data.get("title") == REVIEW_VIEW_TITLE][0]
    ordered = list(sdk.tasks.list(project=result.project_id, view=view.id, fields="all", page_size=100))
    scores = [_pred_dict(t.predictions[0])["score"] for t in ordered]
    assert scores == sorted(scores)


@pytest.mark.integration
def test_personal_access_token_works(label_studio, tmp_path, tax):
    pat = label_studio.client().tokens.create().token
    studio = connect(label_studio.url, pat)
    result = push(studio, [_write(tmp_path, "a.txt", ARTICLE)], project="PAT push", taxonomy=tax, model=FakeModel())
    assert result.new_tasks == len(_sentences(tmp_path / "a.txt"))


@pytest.mark.integration
def test_special_characters_arrive_intact(label_studio, tmp_path, tax):
    article = _write(tmp_path, "odd.txt", SPECIAL)
    expected = [s.text for s in _sentences(article)]
    assert any("<script>" in t for t in expected) and any("😀" in t for t in expected)
    result = push(label_studio.studio(), [article], project="Odd characters", taxonomy=tax, model=FakeModel())
    tasks = _tasks(label_studio.client(), result.project_id)
    assert sorted(t.data["text"] for t in tasks) == sorted(expected)
    spans = 0
    for task in tasks:
        for region in _pred_dict(task.predictions[0])["result"]:
            if region["type"] == "labels":
                v = region["value"]
                assert task.data["text"][v["start"]:v["end"]] == v["text"]
                spans += 1
    assert spans == 2  # "slashed" after the emoji, "scheme" after the Hebrew


@pytest.mark.integration
def test_taxonomy_change_updates_or_refuses(label_studio, tmp_path, tax):
    studio = label_studio.studio()
    project, created, _ = ensure_project(studio, "Taxonomy changes", tax)
    assert created
    renamed = _taxonomy_variant(tmp_path, tax, "r.json", version="1.1.0", rename=("doubt", "casting_doubt"),
                                migrations=[{"from_version": "1.0.0", "op": "rename", "from": "doubt", "to": "casting_doubt"}])
    same, created, updated = ensure_project(studio, "Taxonomy changes", renamed)
    assert (same.id, created, updated) == (project.id, False, True)
    assert '"casting_doubt"' in label_studio.client().projects.get(id=project.id).label_config
    dropped = _taxonomy_variant(tmp_path, tax, "d.json", version="1.2.0", rename=("doubt", "casting_doubt"), drop=("omission",))
    with pytest.raises(StudioError, match=r"removed omission; added -; but no migration says what becomes of omission"):
        ensure_project(studio, "Taxonomy changes", dropped)
    with pytest.raises(StudioError, match=r"project name 'ab' is too short"):
        ensure_project(studio, "ab", tax)


@pytest.mark.integration
def test_server_killed_mid_push_then_rerun_completes(label_studio, tmp_path, tax):
    article = _write(tmp_path, "harbour.txt", ARTICLE)
    sentences = _sentences(article)
    studio, cache = label_studio.studio(), tmp_path / "cache"
    calls = []

    def kill_after_first_batch(batch, new_tasks):
        calls.append(new_tasks)
        if len(calls) == 1:
            label_studio.stop(kill=True)

    with pytest.raises(StudioError, match=r"(cannot reach|stopped answering).*Label Studio"):
        push(studio, [article], project="Killed mid-push", taxonomy=tax, model=FakeModel(), batch_size=3,
             cache_dir=cache, progress=kill_after_first_batch)
    assert calls == [3]
    # Keep the old port busy: Label Studio moves to another one and the fixture must notice.
    old_port = label_studio.port
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", old_port))
        blocker.listen()
        label_studio.restart()
    assert label_studio.port != old_port
    rerun = push(label_studio.studio(), [article], project="Killed mid-push", taxonomy=tax, model=FakeModel(),
                 batch_size=3, cache_dir=cache)
    assert (rerun.new_tasks, rerun.duplicates) == (len(sentences) - 3, 3)
    tasks = _tasks(label_studio.client(), rerun.project_id)
    assert sorted(t.data["slant_id"] for t in tasks) == sorted({t.data["slant_id"] for t in tasks})
    assert sorted(t.data["text"] for t in tasks) == sorted(s.text for s in sentences)
    assert all(len(t.predictions) == 1 for t in tasks)


@pytest.mark.integration
def test_demo_no_serve_reuses_running_server(label_studio, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["demo", "--no-serve", "--data-dir", str(label_studio.data_dir)]) == 0
    out = capsys.readouterr().out
    assert f"Label Studio is already running at {label_studio.url}" in out
    assert f"login:     {label_studio.email}" in out and label_studio.api_key not in out
    assert label_studio.running  # a reused server is left alone
    sdk = label_studio.client()
    (project,) = [p for p in sdk.projects.list() if p.title == "slant demo"]
    from slant._files import sample_article_path

    tasks = _tasks(sdk, project.id)
    assert len(tasks) == len(_sentences(sample_article_path()))
    assert all(t.predictions for t in tasks)
    assert f"/projects/{project.id}/data?tab=" in out
    # The default push target is the embedded server of --data-dir.
    article = _write(tmp_path, "a.txt", ARTICLE)
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    assert main(["push", str(article), "--project", "Local default", "--data-dir", str(label_studio.data_dir)]) == 0
    assert "new tasks" in capsys.readouterr().out


@pytest.mark.integration
def test_slant_studio_starts_and_stops_cleanly_on_ctrl_c(label_studio, tmp_path):
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    import httpx

    # A copy of the session's (already migrated) database starts in seconds.
    data_dir = tmp_path / "studio"
    data_dir.mkdir()
    (data_dir / "credentials.json").write_bytes((label_studio.data_dir / "credentials.json").read_bytes())
    with sqlite3.connect(label_studio.data_dir / "label_studio.sqlite3") as src, \
            sqlite3.connect(data_dir / "label_studio.sqlite3") as dst:
        src.backup(dst)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "slant", "studio", "--port", str(port), "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not lines or "Press Ctrl-C" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, "slant studio exited early:\n" + "".join(lines)
            lines.append(line)
        out = "".join(lines)
        assert f"running at http://127.0.0.1:{port}" in out and label_studio.api_key not in out
        assert "password:  in " in out  # not the first start: the password is not shown again
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        state = json.loads((data_dir / "server.json").read_text())
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Label Studio stopped." in rest and "Traceback" not in rest
    assert not (data_dir / "server.json").exists()
    deadline = time.monotonic() + 10
    while studio_server._alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not studio_server._alive(state["pid"])


@pytest.mark.integration
def test_slant_studio_reports_a_running_server(label_studio, capsys):
    assert main(["studio", "--data-dir", str(label_studio.data_dir)]) == 0
    out = capsys.readouterr().out
    assert "already running" in out and "stop it there with Ctrl-C" in out and label_studio.api_key not in out
