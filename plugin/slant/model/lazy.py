"""A model known by its version before it is loaded.

Loading a model imports scikit-learn (seconds on a busy machine) and reads it from disk. A
command that may need no prediction at all (`slant push` of an article already pushed:
every sentence is a duplicate) takes a `LazyModel`: its `model_version` is known at once,
from the model card or the default model's key, and the model is read on first use.

>>> model = LazyModel("seed-0123abcd4567", lambda: load_model(taxonomy=tax))
>>> model.model_version      # no loading
>>> model.predict(["A sentence."])   # loads once, then predicts
"""

import json
import threading
from pathlib import Path

__all__ = ["LazyModel", "card_version"]


def card_version(path):
    """The ``model_version`` a model directory's card names, or None when the card or the
    model file is missing or unreadable (loading the model then says what is wrong)."""
    from slant.model.card import CARD_FILE, MODEL_FILE

    path = Path(path)
    try:
        card = json.loads((path / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = card.get("model_version") if isinstance(card, dict) else None
    return version if isinstance(version, str) and version and (path / MODEL_FILE).is_file() else None


class LazyModel:
    """`version` now; the model `load()` returns when first used (any attribute but the
    version loads it). Safe to share between threads: the model is loaded once."""

    def __init__(self, version, load):
        self._version, self._load, self._model = str(version), load, None
        self._lock = threading.Lock()

    def __repr__(self):
        return f"LazyModel({self.model_version!r}, loaded={self.loaded})"

    @property
    def model_version(self):
        return self._model.model_version if self._model is not None else self._version

    @property
    def loaded(self):
        return self._model is not None

    def load(self):
        """The model, loaded now if it was not yet."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def predict(self, texts, **kwargs):
        return self.load().predict(texts, **kwargs)

    def __getattr__(self, name):  # only for what the class does not define
        if name.startswith("__") or name in ("_version", "_load", "_model", "_lock"):
            raise AttributeError(name)
        return getattr(self.load(), name)
