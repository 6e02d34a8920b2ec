"""cli.serve: options, and what `slant serve` hands to backend.run (directories and
credentials from the environment), with the server itself replaced."""

import pytest

import slant.backend.run
from slant.cli.main import build_parser, main


def test_serve_command_parses_its_options():
    args = build_parser().parse_args(["serve", "--port", "9191", "--workers", "2", "--connect", "News", "--train-every", "5"])
    assert (args.port, args.workers, args.connect, args.train_every, args.host) == (9191, 2, "News", 5, "127.0.0.1")
    assert args.data_dir is None and args.studio_data_dir is None


@pytest.fixture
def served(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(slant.backend.run, "serve", lambda **kwargs: calls.append(kwargs) or 0)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("SLANT_ML_USERNAME", "SLANT_ML_PASSWORD", "SLANT_ML_WEBHOOK_TOKEN", "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_serve_uses_slants_data_directories(served, tmp_path, capsys):
    assert main(["serve", "--url", "http://ls:1", "--api-key", "k", "--port", "9393"]) == 0
    (call,) = served
    build = call["build"]
    assert build["data_dir"] == str(tmp_path / "data" / "slant" / "ml-backend")
    assert build["models_dir"] == str(tmp_path / "data" / "slant" / "models")
    assert build["cache_dir"] == str(tmp_path / "cache")
    assert (build["studio_url"], build["studio_key"]) == ("http://ls:1", "k")
    assert (tmp_path / "data" / "slant" / "ml-backend" / "ml-backend.json").exists()
    out = capsys.readouterr().out
    assert "slant ML backend: http://127.0.0.1:9393" in out and call["auth"].password not in out


def test_serve_takes_credentials_from_the_environment(served, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SLANT_ML_USERNAME", "u")
    monkeypatch.setenv("SLANT_ML_PASSWORD", "secret-pw")
    assert main(["serve", "--data-dir", str(tmp_path / "ml"), "--models", str(tmp_path / "m")]) == 0
    (call,) = served
    assert (call["auth"].username, call["auth"].password) == ("u", "secret-pw")
    assert call["build"]["data_dir"] == str(tmp_path / "ml") and call["build"]["models_dir"] == str(tmp_path / "m")
    out = capsys.readouterr().out
    assert "password in SLANT_ML_USERNAME/SLANT_ML_PASSWORD" in out and "secret-pw" not in out


def test_serve_refuses_half_the_credentials(served, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SLANT_ML_USERNAME", "u")
    assert main(["serve", "--data-dir", str(tmp_path / "ml")]) == 1
    assert "set both SLANT_ML_USERNAME and SLANT_ML_PASSWORD" in capsys.readouterr().err and served == []
