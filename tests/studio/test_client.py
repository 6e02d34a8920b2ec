"""client: connecting to Label Studio, and the errors that name the next step."""

import socket

import pytest

from slant.cli.main import main
from slant.errors import StudioError
from slant.studio.client import Project, Studio, connect, error_detail


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- without a server -----------------------------------------------------------------

def test_unreachable_server_names_url_and_next_step(tmp_path, capsys):
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(StudioError, match=rf"cannot reach Label Studio at {url} .*slant studio"):
        connect(url, "token")
    article = tmp_path / "a.txt"
    article.write_text("The council slashed the budget.\n", encoding="utf-8")
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


class _ApiError(Exception):
    def __init__(self, body):
        super().__init__("api error")
        self.body = body


def test_error_detail_reads_the_servers_words():
    assert error_detail(_ApiError({"detail": "Invalid token", "validation_errors": {"title": ["too short"]}})) == \
        'Invalid token: {"title": ["too short"]}'
    assert error_detail(_ApiError({"other": 1})) == "{'other': 1}"
    assert error_detail(_ApiError(None)) == "api error"
    assert len(error_detail(_ApiError("x" * 900))) == 500


def test_studio_never_shows_its_token_and_builds_project_urls():
    studio = Studio.__new__(Studio)  # no SDK client needed for these
    studio.url = "http://ls.example:8080"
    assert repr(studio) == "Studio('http://ls.example:8080')"
    project = Project(id=7, title="Harbor", label_config="<View/>")
    assert studio.project_url(project) == "http://ls.example:8080/projects/7/data"
    assert studio.project_url(7, view_id=3) == "http://ls.example:8080/projects/7/data?tab=3"


class _SilentServer:
    """Accepts TCP connections and reads, but never answers (a stuck server, or another service)."""

    def __init__(self):
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        for c in self.held:
            c.close()
        self.sock.close()


def test_a_server_that_never_answers_fails_soon_with_what_to_check(tmp_path, capsys, monkeypatch):
    import time

    import slant.studio.client as client

    server = _SilentServer()
    monkeypatch.setattr(client, "WAIT_NOTICE", 1.0)
    try:
        notes = []
        began = time.monotonic()
        with pytest.raises(StudioError, match=rf"{server.url} accepted the connection but sent no answer within 3 s "
                                              r"while asked to identify the API token's user; check that .* is Label Studio"):
            connect(server.url, "token", timeout=3, on_wait=notes.append)
        assert time.monotonic() - began < 10
        assert notes and "still waiting for Label Studio" in notes[0]
        # the command: fails after CHECK_TIMEOUT (15 s), not the 300 s read limit, with progress lines on the way
        article = tmp_path / "a.txt"
        article.write_text("The council slashed the budget.\n", encoding="utf-8")
        began = time.monotonic()
        assert main(["push", str(article), "--project", "Harbor", "--url", server.url, "--api-key", "t"]) == 1
        assert time.monotonic() - began < 40
        err = capsys.readouterr().err
        assert "still waiting for Label Studio" in err and "sent no answer within 15 s" in err and "Traceback" not in err
    finally:
        server.close()
@pytest.mark.integration
def test_listing_asks_for_no_page_past_the_last(label_studio, caplog):
    # the SDK's pager asked for page 2 of a one-page list: a 404 in `slant serve --connect`'s log
    import logging

    from slant.studio.ml import refresh_live_predictions
    from slant.studio.projects import ensure_project, project_titles
    from slant.studio.tasks import existing_slant_ids, project_tasks, tasks_with_version
    from slant.taxonomy.core import load_taxonomy

    studio = label_studio.studio()
    project, _, _ = ensure_project(studio, "Pager check", load_taxonomy())
    studio.sdk.projects.import_tasks(id=project.id, request=[{"text": f"Sentence {i}.", "context_before": "", "context_after": "", "doc_title": ""} for i in range(3)])
    with caplog.at_level(logging.INFO, logger="httpx"):
        assert studio.find_project("Pager check").id == project.id
        assert "Pager check" in project_titles(studio)
        assert refresh_live_predictions(studio, project.id, "none-yet", chunk=2) == 3
        # the task pagers of push, --refresh and the ledger (slant.studio.tasks)
        project = studio.project(project.id)
        assert len(existing_slant_ids(studio, project)) == 3 and len(project_tasks(studio, project)) == 3
        assert tasks_with_version(studio, project, "none-yet") == set()
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/api/projects/" in m for m in requests) and any("/api/tasks" in m for m in requests)
    assert not [m for m in requests if "404" in m], requests
