"""What the commands share: options declared once, the Label Studio target, slant's
directories, and output paths (checked before any long work, then written).

Every environment variable the command line reads is read here (or, for slant's own
directories, in `slant._files`); the command modules and the library take values.
"""

import os
import sys
from pathlib import Path

from slant import _files
from slant.errors import InputError

__all__ = [
    "MODEL_HELP", "add_models_option", "add_output_option", "add_studio_target_options", "add_taxonomy_option", "cache_dir",
    "check_output", "check_output_dir", "corpus_ready", "data_dir", "ml_backend_credentials", "models_dir", "models_flag",
    "password_from_environment", "pick_model", "studio_target", "write_out",
]

TAXONOMY_HELP = "taxonomy (default: built-in)"
MODELS_HELP = "model registry (default ~/.local/share/slant/models)"
URL_HELP = "Label Studio URL (default: $LABEL_STUDIO_URL, else the local `slant studio`)"
API_KEY_HELP = "API token (default: $LABEL_STUDIO_API_KEY, else the local server's)"
STUDIO_DATA_DIR_HELP = "data dir of the local `slant studio` to use when no URL is given"
MODEL_HELP = ("model directory or registered version; default: the registry's promoted model (see --models), "
              "else the built-in seed model")


# --- options ------------------------------------------------------------------------------

def add_taxonomy_option(p, help=TAXONOMY_HELP):
    p.add_argument("--taxonomy", metavar="FILE", help=help)


def add_models_option(p):
    p.add_argument("--models", metavar="DIR", help=MODELS_HELP)


def add_output_option(p, help=None, *, required=False, metavar=None, short=True):
    """``-o/--out`` (just ``--out`` with `short` false); checked with `check_output`."""
    flags = ("-o", "--out") if short else ("--out",)
    p.add_argument(*flags, required=required, metavar=metavar, help=help)


def add_studio_target_options(p, *, url_help=URL_HELP, api_key_help=API_KEY_HELP, data_dir_flag="--data-dir"):
    """``--url``, ``--api-key`` and the local studio's data dir (read by `studio_target`)."""
    p.add_argument("--url", help=url_help)
    p.add_argument("--api-key", help=api_key_help)
    p.add_argument(data_dir_flag, dest="studio_data_dir", metavar="DIR", help=STUDIO_DATA_DIR_HELP)


# --- the model -----------------------------------------------------------------------------

def pick_model(args, taxonomy, *, lazy=False):
    """The one rule of `analyze` and `push` (stated in MODEL_HELP): an explicit --model
    (a directory, else a registered version) wins; else the registry's promoted model;
    else the built-in seed model. With `lazy`, a `slant.model.lazy.LazyModel`: the model
    is named (and a missing version reported) now, and read only when it first predicts."""
    from slant.loop.registry import Registry
    from slant.model.lazy import LazyModel, card_version

    if args.model and (Path(args.model).is_dir() or "/" in args.model or args.model.startswith(".")):
        from slant.model.seed import load_model

        version = card_version(args.model) if lazy else None
        if version is None:  # not lazy, or a broken directory: loading it names the problem now
            return load_model(args.model, taxonomy=taxonomy, cache_dir=cache_dir())
        return LazyModel(version, lambda: load_model(args.model, taxonomy=taxonomy, cache_dir=cache_dir()))
    registry = Registry(models_dir(args))
    if lazy:
        return registry.lazy_model(taxonomy, args.model, cache_dir=cache_dir())
    if args.model:
        return registry.load(args.model, taxonomy)
    return registry.current_model(taxonomy, cache_dir=cache_dir())


# --- the Label Studio target -----------------------------------------------------------------

def studio_target(args):
    """URL and token from flags, then LABEL_STUDIO_URL/_API_KEY, then the embedded server."""
    from slant.studio.server import default_data_dir, local_connection

    url = args.url or os.environ.get("LABEL_STUDIO_URL")
    key = args.api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not key:
        local = local_connection(args.studio_data_dir or default_data_dir())
        if local and (not url or url.rstrip("/") == local[0]):
            url, key = local
    return url, key


def ml_backend_credentials():
    """SLANT_ML_USERNAME, SLANT_ML_PASSWORD and SLANT_ML_WEBHOOK_TOKEN (None when unset),
    as `ensure_credentials` keyword arguments."""
    return {"username": os.environ.get("SLANT_ML_USERNAME"), "password": os.environ.get("SLANT_ML_PASSWORD"),
            "webhook_token": os.environ.get("SLANT_ML_WEBHOOK_TOKEN")}


def password_from_environment():
    """True when the ML backend's password comes from SLANT_ML_PASSWORD."""
    return bool(os.environ.get("SLANT_ML_PASSWORD"))


# --- directories ------------------------------------------------------------------------------

def cache_dir():
    """SLANT_CACHE_DIR, else $XDG_CACHE_HOME/slant, else ~/.cache/slant."""
    return _files.cache_dir()


def data_dir(*parts):
    """$XDG_DATA_HOME/slant/<parts> (~/.local/share/slant/...)."""
    return _files.data_dir(*parts)


def models_dir(args):
    """--models, else $XDG_DATA_HOME/slant/models, else ~/.local/share/slant/models; a
    path that is (or lies below) a file is an `InputError`, not a traceback later."""
    path = Path(args.models) if getattr(args, "models", None) else _files.data_dir("models")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        where = "is a file" if existing == path else f"{existing} is a file"
        raise InputError(f"model registry {path}: {where}, not a directory; pass --models DIR (a directory, new or existing)")
    return path


def models_flag(args):
    return f" --models {args.models}" if getattr(args, "models", None) else ""


# --- outputs --------------------------------------------------------------------------------

def check_output(path, what="-o/--out", *, make_parents=False):
    """`path` for a file to write, checked now, before long work: its directory must exist
    and be writable (`InputError` naming the fix otherwise). With `make_parents`, missing
    directories are fine if they can be created. None and "-" (standard output) pass as
    they are."""
    if path in (None, "-"):
        return path
    if make_parents and not Path(path).parent.is_dir():
        check_output_dir(Path(path).parent, what)
        return Path(path)
    return _files.writable_output(path, what)


def check_output_dir(path, what="--out"):
    """`path` for a directory the command creates (with missing parents) or fills: it must
    not be a file, and the nearest existing directory above it must be writable."""
    if path is None:
        return None
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path}: is a file, not a directory; remove it or choose another path")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise InputError(f"{what} {path}: {existing} is a file, not a directory; choose another path")
    if not os.access(existing, os.W_OK):
        raise InputError(f"{what} {path}: {existing} is not writable by this user; choose a path you can write to")
    return path


def write_out(text, out):
    """`text` to standard output (`out` None or "-") or to the file `out` (checked first
    with `check_output`)."""
    if out in (None, "-"):
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        Path(out).write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)


def corpus_ready():
    """Raise `InputError` naming ``pip install 'slant[corpus]'`` when pyarrow or distributed is missing."""
    import importlib.util

    for name in ("pyarrow", "distributed"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken one
            found = False
        if not found:
            raise InputError(f"Parquet datasets and Dask need the optional corpus extra ({name} is not installed): "
                             "pip install 'slant[corpus]'")
