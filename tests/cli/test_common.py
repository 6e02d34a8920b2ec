"""cli.common: shared options, the Label Studio target, slant's directories, output checks."""

import argparse
from pathlib import Path

import pytest

from slant.cli import common
from slant.cli.main import build_parser
from slant.errors import InputError

# every command that takes --taxonomy, with the arguments it needs besides
TAXONOMY_COMMANDS = [
    ["agreement"], ["pull", "--project", "p", "-o", "x"], ["import", "ptc", "d", "-o", "x"], ["import", "brat", "d", "-o", "x"],
    ["import", "csv", "f", "-o", "x", "--text-col", "t", "--label-col", "l"], ["push", "--project", "p"],
    ["model", "build"], ["analyze", "f"], ["train", "f"], ["evaluate", "f"], ["serve"], ["models", "promote", "v"],
]


@pytest.mark.parametrize("argv", TAXONOMY_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_taxonomy_option_is_the_same_everywhere(argv):
    assert build_parser().parse_args([*argv, "--taxonomy", "t.json"]).taxonomy == "t.json"
    assert build_parser().parse_args(argv).taxonomy is None


@pytest.mark.parametrize("argv", [["agreement"], ["pull", "--project", "p", "-o", "x"], ["push", "--project", "p"],
                                  ["serve"]], ids=lambda a: a[0])
def test_studio_target_options(argv):
    flag = "--studio-data-dir" if argv[0] == "serve" else "--data-dir"
    args = build_parser().parse_args([*argv, "--url", "http://ls:8080", "--api-key", "k", flag, "d"])
    assert (args.url, args.api_key, args.studio_data_dir) == ("http://ls:8080", "k", "d")


@pytest.mark.parametrize("argv", [["push", "--project", "p"], ["train", "f"], ["serve"], ["models", "list"],
                                  ["models", "rollback"]], ids=lambda a: " ".join(a[:2]))
def test_models_option(argv):
    assert build_parser().parse_args([*argv, "--models", "m"]).models == "m"


def _target(url=None, api_key=None, studio_data_dir=None):
    return argparse.Namespace(url=url, api_key=api_key, studio_data_dir=studio_data_dir)


def test_studio_target_reads_the_environment_and_flags_win(monkeypatch, tmp_path):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://env:8080")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "env-key")
    assert common.studio_target(_target()) == ("http://env:8080", "env-key")
    assert common.studio_target(_target("http://flag:1", "flag-key")) == ("http://flag:1", "flag-key")


def test_studio_target_without_a_key_or_a_local_server(monkeypatch, tmp_path):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    assert common.studio_target(_target("http://x:1", studio_data_dir=str(tmp_path))) == ("http://x:1", None)


def test_directories_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert common.cache_dir() == tmp_path / "cache"
    assert common.data_dir("ml-backend") == tmp_path / "data" / "slant" / "ml-backend"
    assert common.models_dir(argparse.Namespace(models=None)) == tmp_path / "data" / "slant" / "models"
    assert common.models_dir(argparse.Namespace(models="m")) == Path("m")
    assert common.models_flag(argparse.Namespace(models="m")) == " --models m"
    assert common.models_flag(argparse.Namespace()) == ""


def test_ml_backend_credentials_from_the_environment(monkeypatch):
    for name in ("SLANT_ML_USERNAME", "SLANT_ML_PASSWORD", "SLANT_ML_WEBHOOK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert common.ml_backend_credentials() == {"username": None, "password": None, "webhook_token": None}
    assert not common.password_from_environment()
    monkeypatch.setenv("SLANT_ML_USERNAME", "u")
    monkeypatch.setenv("SLANT_ML_PASSWORD", "p")
    assert common.ml_backend_credentials() == {"username": "u", "password": "p", "webhook_token": None}
    assert common.password_from_environment()


def test_check_output(tmp_path):
    assert common.check_output(None) is None and common.check_output("-") == "-"
    assert common.check_output(tmp_path / "x.txt") == tmp_path / "x.txt"
    with pytest.raises(InputError, match="does not exist"):
        common.check_output(tmp_path / "a" / "x.txt")
    assert common.check_output(tmp_path / "a" / "x.txt", make_parents=True) == tmp_path / "a" / "x.txt"
    with pytest.raises(InputError, match="--plot .*is a directory"):
        common.check_output(tmp_path, "--plot", make_parents=True)


def test_check_output_dir(tmp_path):
    assert common.check_output_dir(None) is None
    assert common.check_output_dir(tmp_path) == tmp_path
    assert common.check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file, not a directory"):
        common.check_output_dir(tmp_path / "f")
    with pytest.raises(InputError, match="is a file, not a directory"):
        common.check_output_dir(tmp_path / "f" / "below")


def test_write_out(tmp_path, capsys):
    common.write_out("abc", None)
    assert capsys.readouterr().out == "abc\n"
    common.write_out("abc\n", tmp_path / "o.txt")
    assert (tmp_path / "o.txt").read_text() == "abc\n" and "wrote" in capsys.readouterr().err
