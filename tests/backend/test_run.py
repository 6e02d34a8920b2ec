"""backend.run: credentials, the checks `serve` makes before starting, and the uvicorn
factory the worker processes import."""

import importlib
import json
import os
import stat

import pytest

from slant.backend.app import ServerAuth
from slant.backend.run import app_from_env, ensure_credentials, serve
from slant.errors import DataError

AUTH = ServerAuth("ls", "pw", "tok")


def test_credentials_are_generated_once_in_a_private_file(tmp_path):
    auth, path, generated = ensure_credentials(tmp_path)
    assert generated and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again, _, generated_again = ensure_credentials(tmp_path)
    assert again == auth and not generated_again
    assert len(auth.password) >= 24 and len(auth.webhook_token) >= 32
    env, _, _ = ensure_credentials(tmp_path, username="u", password="p")
    assert (env.username, env.password, env.webhook_token) == ("u", "p", auth.webhook_token)
    assert "p" not in repr(env) and auth.webhook_token not in repr(env)
    with pytest.raises(DataError, match="set both SLANT_ML_USERNAME and SLANT_ML_PASSWORD"):
        ensure_credentials(tmp_path, username="u")


def test_serve_refuses_a_negative_model_process_count():
    with pytest.raises(DataError, match=r"--model-processes -1: use 0 \(a thread\) or more"):
        serve(build={"model_processes": -1}, auth=AUTH)


def test_serve_refuses_zero_workers():
    with pytest.raises(DataError, match="--workers 0: use 1 or more"):
        serve(build={}, auth=AUTH, workers=0)


def test_workers_build_the_app_from_a_private_config_file_through_the_factory(tmp_path, monkeypatch):
    import uvicorn

    seen = {}

    def fake_run(target, **kwargs):
        config = os.environ["SLANT_SERVE_CONFIG"]
        seen.update(target=target, kwargs=kwargs, mode=stat.S_IMODE(os.stat(config).st_mode),
                    config=json.loads(open(config, encoding="utf-8").read()))

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.delenv("SLANT_SERVE_CONFIG", raising=False)
    build = {"data_dir": str(tmp_path), "models_dir": str(tmp_path / "models"), "model_processes": 0}
    assert serve(build=build, auth=AUTH, workers=2) == 0
    module, _, name = seen["target"].partition(":")
    assert getattr(importlib.import_module(module), name) is app_from_env  # the string names the real factory
    assert seen["kwargs"]["factory"] is True and seen["kwargs"]["workers"] == 2
    assert seen["mode"] == 0o600 and seen["config"]["auth"] == {"username": "ls", "password": "pw", "webhook_token": "tok"}
    assert not (tmp_path / "serve-workers.json").exists()  # it held the password


def _children(pid):
    """Pids whose parent is `pid` (Linux /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat_line = open(f"/proc/{entry}/stat", encoding="utf-8").read()
            except OSError:
                continue
            if int(stat_line.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid):
    try:
        state = open(f"/proc/{pid}/stat", encoding="utf-8").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _port_free(port):
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _until(check, seconds):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
def test_workers_die_with_a_killed_server_and_a_restart_works(tmp_path, default_model_cache):
    """`kill -9` of `slant serve --workers 2`: the workers stop, the port is free, the
    credentials file is gone, and the same command starts again."""
    import signal
    import subprocess
    import sys

    import httpx

    from conftest import _free_port

    port, data = _free_port(), tmp_path / "ml"
    env = {**os.environ, "SLANT_CACHE_DIR": str(default_model_cache), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    env.pop("SLANT_ML_USERNAME", None), env.pop("SLANT_ML_PASSWORD", None)
    cmd = [sys.executable, "-m", "slant", "serve", "--port", str(port), "--workers", "2", "--model-processes", "0",
           "--data-dir", str(data), "--models", str(tmp_path / "models")]
    started = []

    def start():
        log = open(tmp_path / f"serve-{len(started)}.log", "wb")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(proc)
        assert _until(lambda: (data / "ml-backend.json").exists(), 120)
        creds = json.loads((data / "ml-backend.json").read_text())

        def up():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", auth=(creds["username"], creds["password"]),
                                 timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert _until(up, 600), (tmp_path / f"serve-{len(started) - 1}.log").read_text()
        return proc

    try:
        server = start()
        workers = _children(server.pid)
        assert len([w for w in workers if _alive(w)]) >= 2 and (data / "serve-workers.json").exists()
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        assert _until(lambda: not any(_alive(w) for w in workers), 60), "workers outlived the killed server"
        assert _until(lambda: _port_free(port), 30)
        assert _until(lambda: not (data / "serve-workers.json").exists(), 10)  # it held the password
        again = start()
        again.send_signal(signal.SIGTERM)
        assert again.wait(60) == 0 or again.returncode in (-signal.SIGTERM, 0)
        assert not (data / "serve-workers.json").exists()
    finally:
        for proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in started:  # workers of a run whose parent was killed are in its process group too
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
