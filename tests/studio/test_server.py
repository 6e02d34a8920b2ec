"""server: the embedded Label Studio behind `slant studio` and `slant demo`."""

import json
import os
import socket
import stat

import pytest

from slant.cli.main import main
from slant.studio import server as studio_server


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        # it says what it is doing before the wait, and where the log is
        assert lines[0].startswith("starting Label Studio (about a minute; log: ") and "server.log" in lines[0]
        creds = json.loads((data_dir / "credentials.json").read_text())
        assert "password:  the \"password\" field of " in out and creds["password"] not in out  # never printed
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
    assert "starting Label Studio" not in out and "was busy" not in out


def test_describe_never_shows_the_password_or_token(tmp_path):
    from slant.studio.server import StudioServer

    s = StudioServer(url="http://127.0.0.1:8080", port=8080, username="admin@slant.local", password="s3cret-pw",
                     api_key="tok-123", data_dir=tmp_path, process=None, first_start=True)
    text = s.describe()
    assert "s3cret-pw" not in text and "tok-123" not in text
    assert "admin@slant.local" in text and "credentials.json" in text
    assert "s3cret-pw" not in repr(s) and "tok-123" not in repr(s)


@pytest.mark.integration
def test_slant_studio_on_postgresql_reuses_its_data_and_stops_both_on_ctrl_c(label_studio_pg):
    """The real command on the session's PostgreSQL data dir: a project made before is there,
    and Ctrl-C stops Label Studio and then PostgreSQL, leaving no process behind."""
    import signal
    import subprocess
    import sys
    import time
    import uuid

    import httpx

    title = f"kept {uuid.uuid4().hex[:6]}"
    label_studio_pg.client().projects.create(title=title)
    label_studio_pg.stop()
    data_dir, port = label_studio_pg.data_dir, _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "slant", "studio", "--database", "postgresql", "--port", str(port),
                             "--data-dir", str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not lines or "Press Ctrl-C" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, "slant studio exited early:\n" + "".join(lines)
            lines.append(line)
        out = "".join(lines)
        assert f"running at http://127.0.0.1:{port} (PostgreSQL (local cluster))" in out
        secrets = json.loads((data_dir / "postgres.json").read_text())
        assert secrets["password"] not in out and secrets["superuser_password"] not in out
        projects = httpx.get(f"http://127.0.0.1:{port}/api/projects?page_size=1000", timeout=60,
                             headers={"Authorization": f"Token {label_studio_pg.api_key}"}).json()["results"]
        assert title in {p["title"] for p in projects}  # the restart kept the data
        studio_pid = json.loads((data_dir / "server.json").read_text())["pid"]
        pg_pid = int((data_dir / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        label_studio_pg.start()  # back for the other tests
    assert proc.returncode == 0 and "Label Studio and its PostgreSQL stopped." in rest and "Traceback" not in rest
    deadline = time.monotonic() + 20
    while (studio_server._alive(studio_pid) or studio_server._alive(pg_pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not studio_server._alive(studio_pid) and not studio_server._alive(pg_pid)


def test_a_reused_server_does_not_claim_the_port_was_busy(tmp_path):
    from slant.studio.server import StudioServer

    started = StudioServer(url="http://127.0.0.1:18580", port=18580, username="a@b", password="p", api_key="k",
                           data_dir=tmp_path, requested_port=8080, process=object())
    assert "port 8080 was busy" in started.describe()
    reused = StudioServer(url="http://127.0.0.1:18580", port=18580, username="a@b", password="p", api_key="k",
                          data_dir=tmp_path, requested_port=8080)
    assert reused.reused and "was busy" not in reused.describe() and "already running" in reused.describe()
