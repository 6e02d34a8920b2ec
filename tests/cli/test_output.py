"""Output paths (-o/--out, --plots, --plot) are checked before any long work: a missing or
unwritable directory, or a directory given for a file, ends in one message naming the
fix and exit status 1, never a traceback."""

import os
import subprocess
import sys

import pytest

from slant._files import default_taxonomy_path, sample_article_path
from slant.cli.main import main

TAXONOMY = str(default_taxonomy_path())


def _fails_cleanly(capsys, argv, *needles):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture
def missing(tmp_path):
    return tmp_path / "no" / "such" / "dir"


def test_analyze_into_a_missing_directory(capsys, missing):
    out = missing / "x.jsonl"
    _fails_cleanly(capsys, ["analyze", str(sample_article_path()), "--format", "jsonl", "-o", str(out)],
                   f"directory {missing} does not exist", f"mkdir -p {missing}")
    assert not missing.exists()  # nothing was created on the way


def test_analyze_into_a_directory(capsys, tmp_path):
    # a directory is a Parquet dataset unless a file format is asked for
    _fails_cleanly(capsys, ["analyze", str(sample_article_path()), "--format", "jsonl", "-o", str(tmp_path)],
                   "is a directory", "give a file name")


def test_agreement_into_a_missing_directory_fails_before_reading_anything(capsys, missing, tmp_path):
    # the input does not exist either: the output is checked first, so its message comes out
    _fails_cleanly(capsys, ["agreement", str(tmp_path / "reviewed.jsonl"), "-o", str(missing / "a.json")], "does not exist")


def test_agreement_plots_into_a_file(capsys, tmp_path):
    afile = tmp_path / "plots"
    afile.write_text("x")
    _fails_cleanly(capsys, ["agreement", str(tmp_path / "r.jsonl"), "--plots", str(afile)], "--plots", "not a directory")


@pytest.mark.parametrize("command", ["config", "docs"])
def test_taxonomy_renderings_into_a_missing_directory(capsys, missing, command):
    _fails_cleanly(capsys, ["taxonomy", command, TAXONOMY, "-o", str(missing / "out.txt")], "does not exist")


def test_taxonomy_config_into_a_directory(capsys, tmp_path):
    _fails_cleanly(capsys, ["taxonomy", "config", TAXONOMY, "-o", str(tmp_path)], "is a directory")


def test_output_below_a_file(capsys, tmp_path):
    (tmp_path / "f").write_text("x")
    _fails_cleanly(capsys, ["taxonomy", "config", TAXONOMY, "-o", str(tmp_path / "f" / "c.xml")], "does not exist")


@pytest.mark.parametrize("argv", [
    ["evaluate", "{data}", "-o", "{missing}/r.txt"],
    ["pull", "--project", "p", "-o", "{missing}/r.jsonl", "--url", "http://127.0.0.1:9", "--api-key", "k"],
    ["import", "csv", "{data}", "--text-col", "t", "--label-col", "l", "-o", "{missing}/r.jsonl"],
    ["import", "ptc", "{data}", "-o", "{missing}/r.jsonl"],
], ids=["evaluate", "pull", "import-csv", "import-ptc"])
def test_other_file_outputs_are_checked_first(capsys, tmp_path, missing, argv):
    argv = [a.format(data=tmp_path / "in.jsonl", missing=missing) for a in argv]
    _fails_cleanly(capsys, argv, "does not exist")


def test_model_directory_outputs_must_not_be_files(capsys, tmp_path):
    afile = tmp_path / "model"
    afile.write_text("x")
    _fails_cleanly(capsys, ["model", "build", "--out", str(afile)], "is a file, not a directory")
    _fails_cleanly(capsys, ["train", str(tmp_path / "r.jsonl"), "--out", str(afile / "sub")], "is a file, not a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes everywhere")
def test_unwritable_directory(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        _fails_cleanly(capsys, ["taxonomy", "config", TAXONOMY, "-o", str(locked / "c.xml")], "not writable")
    finally:
        locked.chmod(0o700)


def test_unwritable_directory_message(capsys, tmp_path, monkeypatch):
    """The same check as seen by a user without write permission (root passes every access test)."""
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK else real(p, mode, **kw))
    _fails_cleanly(capsys, ["taxonomy", "config", TAXONOMY, "-o", str(tmp_path / "c.xml")], "not writable by this user")


def test_good_outputs_still_work(capsys, tmp_path):
    out = tmp_path / "c.xml"
    assert main(["taxonomy", "config", TAXONOMY, "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<View") and f"wrote {out}" in capsys.readouterr().err
    assert main(["taxonomy", "config", TAXONOMY, "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("<View")


def test_no_traceback_from_the_installed_command(tmp_path):
    out = tmp_path / "missing" / "c.xml"
    proc = subprocess.run([sys.executable, "-m", "slant", "taxonomy", "config", TAXONOMY, "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: -o/--out ") and "Traceback" not in proc.stderr
