"""Files: the one place for atomic writes, checksums, slant's data/cache/config
directories, and the files that ship inside the package (schemas, default labels).

Shipped files are found through importlib.resources, so they come from the installed
package, never from the current directory. The directory helpers read the environment
(``SLANT_*_DIR``, then the XDG variables) and are called by the edges (the CLI and the
ML backend's start-up); library functions take directories as arguments.
"""

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path

from slant.errors import InputError

__all__ = [
    "atomic_dir", "atomic_write", "atomic_write_bytes", "atomic_write_text", "cache_dir", "config_dir", "data_dir",
    "default_taxonomy_path", "labels_dir", "sample_article_path", "schema", "schemas_dir", "sha256_bytes",
    "sha256_file", "writable_output",
]


# --- shipped files ------------------------------------------------------------------------

def schemas_dir():
    return resources.files("slant.schemas")


def labels_dir():
    return resources.files("slant.labels")


@cache
def schema(name):
    """The JSON Schema called `name` (e.g. ``"taxonomy"``) as a dict."""
    return json.loads((schemas_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))


def default_taxonomy_path():
    return labels_dir() / "rhetoric.json"


def sample_article_path():
    return labels_dir() / "sample" / "harbor-bridge.txt"


# --- slant's own directories --------------------------------------------------------------

def _xdg(var, *fallback):
    return Path(os.environ.get(var) or Path.home().joinpath(*fallback))


def cache_dir():
    """``$SLANT_CACHE_DIR``, else ``$XDG_CACHE_HOME/slant``, else ``~/.cache/slant``: the built default model."""
    return Path(os.environ["SLANT_CACHE_DIR"]) if os.environ.get("SLANT_CACHE_DIR") else _xdg("XDG_CACHE_HOME", ".cache") / "slant"


def data_dir(*parts):
    """``$XDG_DATA_HOME/slant`` (``~/.local/share/slant``), joined with `parts`: Label Studio's
    data, the ML backend's journal, the model registry."""
    return _xdg("XDG_DATA_HOME", ".local", "share").joinpath("slant", *parts)


def config_dir():
    """``$XDG_CONFIG_HOME/slant`` (``~/.config/slant``)."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "slant"


# --- checksums ----------------------------------------------------------------------------

def sha256_file(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


# --- atomic writes ------------------------------------------------------------------------

def writable_output(path, what="output"):
    """`path` as a Path whose directory exists and is writable, or `InputError` naming the fix.

    Called before long work starts, so a typo in ``-o`` costs nothing."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{what} {path}: is a directory; give a file name, e.g. {path / 'out.jsonl'}")
    if not parent.is_dir():
        raise InputError(f"{what} {path}: directory {parent} does not exist; create it (mkdir -p {parent}) or choose another path")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"{what} {path}: not writable by this user; choose a path you can write to")
    return path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, mode="w", *, encoding="utf-8", perms=None):
    """Open a temporary file beside `path`; on success it replaces `path` in one rename,
    on any error it is removed and `path` is left as it was. `perms` (e.g. 0o600) is set
    before anything is written; without it the file keeps the mode of the file it
    replaces, or gets the umask's default for a new file, as `open` would give."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
    try:
        if perms is None:  # mkstemp makes the file 0600: keep the old file's mode, or the umask's default
            try:
                perms = path.stat().st_mode & 0o7777
            except FileNotFoundError:
                perms = 0o666 & ~_umask()
        os.chmod(tmp, perms)
        with open(fd, mode, **({} if "b" in mode else {"encoding": encoding})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path, text, *, encoding="utf-8", perms=None):
    with atomic_write(path, "w", encoding=encoding, perms=perms) as fh:
        fh.write(text)
    return Path(path)


def atomic_write_bytes(path, data, *, perms=None):
    with atomic_write(path, "wb", perms=perms) as fh:
        fh.write(data)
    return Path(path)


@contextlib.contextmanager
def atomic_dir(dest, *, replace=True):
    """Build a directory in a temporary sibling and rename it to `dest` on success, so a
    concurrent reader never sees half of it. Yields the temporary directory's Path. With
    `replace`, an existing `dest` is swapped out; otherwise `FileExistsError` is raised."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        yield tmp
        try:
            os.replace(tmp, dest)
        except OSError:
            if not replace or not dest.exists():
                raise
            shutil.rmtree(dest, ignore_errors=True)  # os.replace cannot replace a non-empty directory
            os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
