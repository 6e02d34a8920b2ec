"""Files that ship inside the package: schemas and the default labels.

Found through importlib.resources so they come from the installed package, never from
the current directory.
"""

import json
from functools import lru_cache
from importlib import resources

__all__ = ["schema", "labels_dir", "schemas_dir", "default_taxonomy_path", "sample_article_path"]


def schemas_dir():
    return resources.files("slant.schemas")


def labels_dir():
    return resources.files("slant.labels")


@lru_cache(maxsize=None)
def schema(name):
    """The JSON Schema called `name` (e.g. ``"taxonomy"``) as a dict."""
    return json.loads((schemas_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))


def default_taxonomy_path():
    return labels_dir() / "rhetoric.json"


def sample_article_path():
    return labels_dir() / "sample" / "harbor-bridge.txt"
