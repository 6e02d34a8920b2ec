"""LazyModel: a model named at once and read on first use (a re-push loads no model)."""

import threading

import pytest

from slant.errors import ModelError
from slant.loop.registry import Registry
from slant.model.lazy import LazyModel, card_version
from slant.model.seed import default_version


class Counting:
    def __init__(self, model):
        self.model, self.calls, self.lock = model, 0, threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
        return self.model


def test_named_at_once_loaded_once_on_first_use(fake_model):
    load = Counting(fake_model())
    lazy = LazyModel("fake-1", load)
    assert (lazy.model_version, lazy.loaded, load.calls) == ("fake-1", False, 0)
    threads = [threading.Thread(target=lazy.predict, args=(["Critics say the scheme failed."],)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert load.calls == 1 and lazy.loaded
    assert lazy.cues is load.model.cues  # anything else is the model's
    assert len(load.model.calls) == 8


def test_after_loading_the_version_is_the_models_own(fake_model):
    lazy = LazyModel("named-before", fake_model)
    assert lazy.model_version == "named-before"
    lazy.load()
    assert lazy.model_version == "fake-1"


def test_the_default_models_version_without_building_it(tax, default_model):
    # what a re-push names in its summary is what the built model's card says
    assert default_version(tax) == default_model.model_version


def test_card_version_reads_the_card_or_says_none(tmp_path, default_model):
    from slant.model.persist import save_model

    save_model(default_model, tmp_path / "m")
    assert card_version(tmp_path / "m") == default_model.model_version
    assert card_version(tmp_path / "nowhere") is None
    (tmp_path / "m" / "model.skops").unlink()
    assert card_version(tmp_path / "m") is None  # loading it names the missing file
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model-card.json").write_text("{not json", encoding="utf-8")
    assert card_version(tmp_path / "broken") is None


def test_registry_lazy_model_checks_the_version_now(tmp_path, tax, default_model_cache):
    registry = Registry(tmp_path / "models")
    with pytest.raises(ModelError, match="model version 'trained-nope' is not in the registry"):
        registry.lazy_model(tax, "trained-nope")
    current = registry.lazy_model(tax, cache_dir=default_model_cache)
    assert current.model_version == default_version(tax) and not current.loaded
    assert current.load().model_version == current.model_version
