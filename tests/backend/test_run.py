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
