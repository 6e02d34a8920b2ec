"""slant._files: atomic writes, checksums, output checks and slant's directories."""

import hashlib
import os
import stat

import pytest

from slant import _files
from slant._files import (
    atomic_dir,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    cache_dir,
    config_dir,
    data_dir,
    sha256_bytes,
    sha256_file,
    writable_output,
)
from slant.errors import InputError


def _leftovers(directory, name):
    return [p.name for p in directory.iterdir() if p.name.startswith(f".{name}")]


# --- atomic writes ------------------------------------------------------------------------

def test_atomic_write_replaces_the_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old", encoding="utf-8")
    with atomic_write(path) as fh:
        fh.write("new ünïcode\n")
        assert path.read_text(encoding="utf-8") == "old"  # nothing visible before the end
    assert path.read_bytes() == "new ünïcode\n".encode()
    assert _leftovers(tmp_path, "out.txt") == []


def test_atomic_write_leaves_the_old_file_when_the_body_raises(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(path) as fh:
            fh.write("half of it")
            raise RuntimeError("boom")
    assert path.read_text(encoding="utf-8") == "old"
    assert _leftovers(tmp_path, "out.txt") == []


def test_atomic_write_of_a_new_file_that_fails_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(tmp_path / "new.bin", "wb") as fh:
            fh.write(b"x")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_perms(tmp_path):
    path = atomic_write_text(tmp_path / "secret.json", "{}", perms=0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path = atomic_write_bytes(tmp_path / "shared.bin", b"\x00\x01", perms=0o644)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 and path.read_bytes() == b"\x00\x01"


def test_atomic_write_text_and_bytes_return_the_path(tmp_path):
    assert atomic_write_text(tmp_path / "a.txt", "é") == tmp_path / "a.txt"
    assert (tmp_path / "a.txt").read_bytes() == "é".encode()
    assert atomic_write_text(tmp_path / "b.txt", "é", encoding="latin-1").read_bytes() == b"\xe9"


def test_atomic_write_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    atomic_write_text("plain.txt", "x")
    assert (tmp_path / "plain.txt").read_text(encoding="utf-8") == "x"


# --- atomic directories -------------------------------------------------------------------

def test_atomic_dir_creates_parents(tmp_path):
    dest = tmp_path / "a" / "b" / "model"
    with atomic_dir(dest) as tmp:
        assert tmp.parent == dest.parent and not dest.exists()
        (tmp / "file").write_text("1", encoding="utf-8")
    assert (dest / "file").read_text(encoding="utf-8") == "1"
    assert _leftovers(dest.parent, "model") == []


def test_atomic_dir_replaces_an_existing_directory(tmp_path):
    dest = tmp_path / "model"
    dest.mkdir()
    (dest / "old").write_text("old", encoding="utf-8")
    (dest / "sub").mkdir()
    with atomic_dir(dest) as tmp:
        (tmp / "new").write_text("new", encoding="utf-8")
    assert sorted(p.name for p in dest.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_atomic_dir_without_replace_refuses_an_existing_directory(tmp_path):
    dest = tmp_path / "model"
    dest.mkdir()
    (dest / "old").write_text("old", encoding="utf-8")
    with pytest.raises(OSError):
        with atomic_dir(dest, replace=False) as tmp:
            (tmp / "new").write_text("new", encoding="utf-8")
    assert sorted(p.name for p in dest.iterdir()) == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_atomic_dir_failure_keeps_the_old_directory(tmp_path):
    dest = tmp_path / "model"
    dest.mkdir()
    (dest / "old").write_text("old", encoding="utf-8")
    with pytest.raises(ValueError):
        with atomic_dir(dest) as tmp:
            (tmp / "new").write_text("new", encoding="utf-8")
            raise ValueError
    assert sorted(p.name for p in dest.iterdir()) == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


# --- checksums ----------------------------------------------------------------------------

def test_sha256_file_and_bytes(tmp_path):
    data = os.urandom(3000)
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(path) == sha256_file(path, chunk=7) == sha256_bytes(data) == expected


# --- output checks ------------------------------------------------------------------------

def test_writable_output_accepts_a_new_file(tmp_path):
    assert writable_output(tmp_path / "out.jsonl") == tmp_path / "out.jsonl"
    assert writable_output(str(tmp_path / "out.jsonl")) == tmp_path / "out.jsonl"


def test_writable_output_missing_directory(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(InputError, match=rf"output {missing / 'o.jsonl'}: directory {missing} does not exist; create it \(mkdir -p"):
        writable_output(missing / "o.jsonl")


def test_writable_output_directory_path(tmp_path):
    with pytest.raises(InputError, match=r"report .*: is a directory; give a file name, e\.g\. .*out\.jsonl"):
        writable_output(tmp_path, "report")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_writable_output_read_only_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InputError, match=r"not writable by this user"):
            writable_output(ro / "o.jsonl")
    finally:
        ro.chmod(0o700)


# --- directories --------------------------------------------------------------------------

def test_cache_dir_prefers_slant_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "mine"


def test_cache_dir_falls_back_to_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.delenv("SLANT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "slant"
    monkeypatch.setenv("SLANT_CACHE_DIR", "")  # empty counts as unset
    assert cache_dir() == tmp_path / "xdg" / "slant"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "slant"


def test_data_and_config_dirs(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert data_dir() == tmp_path / "data" / "slant"
    assert data_dir("registry", "x") == tmp_path / "data" / "slant" / "registry" / "x"
    assert config_dir() == tmp_path / "config" / "slant"


# --- shipped files ------------------------------------------------------------------------

def test_shipped_files():
    assert _files.schema("taxonomy")["$schema"].startswith("https://json-schema.org/")
    assert _files.default_taxonomy_path().name == "rhetoric.json"
    assert _files.sample_article_path().is_file()


def test_atomic_write_without_perms_gives_a_new_file_the_umask_default(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644


def test_atomic_write_without_perms_keeps_the_replaced_files_mode(tmp_path):
    target = tmp_path / "kept.txt"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() == "new"
