"""The model registry: trained versions on disk, which one is promoted, and its history.

Layout of a registry directory (``slant models`` / ``--models DIR``)::

    <root>/<version>/model.skops        the estimator (skops)
    <root>/<version>/model-card.json    its model card (data, held-out split, CV metrics)
    <root>/<version>/records.jsonl.gz   the reviewed sentences it saw, each marked
                                        "train" or "heldout" (the gate evaluates on these)
    <root>/state.json                   the promotion stack and an event log

The current model is the top of the promotion stack; with nothing promoted it is the
default seed model. Writes go through a lock file and atomic renames, so the CLI and a
running ML backend can share one registry.

>>> registry = Registry(tmp_path / "models")
>>> registry.current_version() is None          # nothing promoted: the seed model serves
True
"""

import contextlib
import fcntl
import gzip
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import orjson

from slant._files import atomic_dir, atomic_write
from slant.errors import ModelError
from slant.model.card import CARD_FILE

# slant.model.persist and slant.model.seed's builder import scikit-learn: they are imported
# where a model is read or written, so naming the current model (`lazy_model`) stays cheap.

__all__ = ["KEEP_VERSIONS", "RECORDS_FILE", "Registry", "VersionInfo"]

KEEP_VERSIONS = 10  # `prune` keeps the promoted versions and this many of the newest others
RECORDS_FILE = "records.jsonl.gz"
STATE_FILE = "state.json"
_RECORD_KEYS = ("id", "doc_id", "text", "labels", "policy", "split")


@dataclass(frozen=True)
class VersionInfo:
    version: str
    created_at: str
    sentences: int        # training sentences, base included
    reviewed: int         # reviewed sentences trained on
    heldout: int          # reviewed sentences kept out for the gate
    documents: int
    macro_f1: float       # cross-validated, from the card
    base: str
    current: bool         # top of the promotion stack
    promoted_at: str = ""  # last time it was promoted ("" = never)


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Registry:
    """Model versions under one directory; see the module docstring."""

    def __init__(self, root):
        self.root = Path(root)
        self._models = {}  # (version, taxonomy hash) -> SlantModel: the server asks often

    def __repr__(self):
        return f"Registry({str(self.root)!r})"

    # -- state -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _state(self):
        path = self.root / STATE_FILE
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"promoted": [], "events": []}
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"model registry {path}: not valid JSON ({exc}); restore it or move it away to start a new history") from None
        state.setdefault("promoted", [])
        state.setdefault("events", [])
        return state

    def _write_state(self, state):
        with atomic_write(self.root / STATE_FILE) as fh:
            json.dump(state, fh, indent=2)
            fh.write("\n")

    # -- versions --------------------------------------------------------------------
    def _dir(self, version):
        return self.root / version

    def _names(self):
        if not self.root.is_dir():
            return []
        # Dot names are directories being written (atomic_dir) or removed (prune).
        return [p.name for p in self.root.iterdir()
                if p.is_dir() and not p.name.startswith(".") and (p / CARD_FILE).is_file()]

    def card(self, version):
        """The model card of `version` (a dict); "latest" is the newest version."""
        version = self.resolve(version)
        return json.loads((self._dir(version) / CARD_FILE).read_text(encoding="utf-8"))

    def _cards(self):
        cards = []
        for name in self._names():
            try:
                cards.append(json.loads((self._dir(name) / CARD_FILE).read_text(encoding="utf-8")))
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # a broken entry is listed by nobody; `load` names the problem
        # Cards carry whole seconds: two versions trained within one second are ordered by
        # when they were registered ("train" events), so "latest" is the one added last.
        order = {}
        for i, e in enumerate(self._state()["events"]):
            if e.get("event") == "train":
                order.setdefault(e.get("version"), i)
        return sorted(cards, key=lambda c: (c.get("created_at", ""), order.get(c["model_version"], float("inf")),
                                            c["model_version"]))

    def resolve(self, version):
        """`version` checked against the registry; "latest" becomes the newest version."""
        names = [c["model_version"] for c in self._cards()]
        if version == "latest":
            if not names:
                raise ModelError(f"model registry {self.root} holds no versions yet; train one with `slant train reviewed.jsonl`")
            return names[-1]
        if version not in names:
            known = ", ".join(names[-8:]) or "none yet (train one with `slant train reviewed.jsonl`)"
            raise ModelError(f"model version {version!r} is not in the registry {self.root}; known versions: {known} "
                             "(`slant models list`)")
        return version

    def versions(self):
        """`VersionInfo` for each version, oldest first."""
        state = self._state()
        current = self.current_version(state)
        promoted_at = {}
        for entry in state["promoted"]:
            promoted_at[entry["version"]] = entry.get("at", "")
        out = []
        for c in self._cards():
            data = c.get("training_data", {})
            split = c.get("heldout", {})
            out.append(VersionInfo(
                version=c["model_version"], created_at=c.get("created_at", ""), sentences=int(data.get("sentences", 0)),
                reviewed=int(split.get("train_sentences", 0)), heldout=int(split.get("sentences", 0)),
                documents=int(data.get("documents", 0)), macro_f1=float(c.get("cv", {}).get("macro", {}).get("f1", 0.0)),
                base=str(data.get("base") or "none"), current=c["model_version"] == current,
                promoted_at=promoted_at.get(c["model_version"], ""),
            ))
        return out

    def add(self, model, records):
        """Save `model` and the reviewed `records` it saw (dicts with a ``split`` key).

        Returns the version. Adding a version that exists (same data, same settings)
        keeps the stored one.
        """
        version = model.model_version
        with self._locked():
            if (self._dir(version) / CARD_FILE).is_file():
                return version
            with atomic_dir(self._dir(version)) as tmp:
                from slant.model.persist import save_model

                save_model(model, tmp)
                # One write of orjson lines at gzip level 6: level 9 and per-line json.dumps
                # took ~3 s of a 50,000-sentence retrain for a file read once per promotion.
                with gzip.open(tmp / RECORDS_FILE, "wb", compresslevel=6) as fh:
                    fh.write(b"".join(orjson.dumps({k: r.get(k) for k in _RECORD_KEYS}) + b"\n" for r in records))
            state = self._state()
            state["events"].append({"event": "train", "version": version, "at": _now()})
            self._write_state(state)
        return version

    def records(self, version, split=None):
        """The reviewed records stored with `version` (only `split` ones if given)."""
        path = self._dir(self.resolve(version)) / RECORDS_FILE
        if not path.is_file():
            return []
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        return [r for r in rows if split is None or r.get("split") == split]

    def load(self, version, taxonomy):
        """The `SlantModel` of a registered version ("latest" allowed)."""
        version = self.resolve(version)
        key = (version, taxonomy.hash)
        if key not in self._models:
            from slant.model.persist import read_model

            self._models[key] = read_model(self._dir(version), taxonomy=taxonomy)
        return self._models[key]

    # -- promotion -----------------------------------------------------------------------
    def current_version(self, state=None):
        """The promoted version, or None when the default seed model is current."""
        stack = (state or self._state())["promoted"]
        return stack[-1]["version"] if stack else None

    def current_model(self, taxonomy, cache_dir=None):
        """The model that serves now: the promoted version, else the default seed model."""
        version = self.current_version()
        if version is None:
            key = (None, taxonomy.hash, str(cache_dir))
            if key not in self._models:
                from slant.model.seed import build_default_model

                self._models[key] = build_default_model(taxonomy=taxonomy, cache_dir=cache_dir)
            return self._models[key]
        return self.load(version, taxonomy)

    def lazy_model(self, taxonomy, version=None, cache_dir=None):
        """A `LazyModel` of `version` (a registered version or "latest"), else of the model
        that serves now (`current_model`): the version is checked and named at once, the
        model read only when first used."""
        from slant.model.lazy import LazyModel
        from slant.model.seed import default_version

        if version is not None:
            version = self.resolve(version)
            return LazyModel(version, lambda: self.load(version, taxonomy))
        current = self.current_version()
        name = default_version(taxonomy) if current is None else current
        return LazyModel(name, lambda: self.current_model(taxonomy, cache_dir=cache_dir))

    def set_current(self, version, *, forced=False, gate=None):
        """Push `version` on the promotion stack (the gate has already been run)."""
        version = self.resolve(version)
        with self._locked():
            state = self._state()
            entry = {"version": version, "at": _now(), "forced": bool(forced)}
            if gate:
                entry["gate"] = gate
            state["promoted"].append(entry)
            state["events"].append({"event": "promote", **entry})
            self._write_state(state)
        return version

    def pop_current(self):
        """Undo the last promotion; returns the version now current (None = default seed)."""
        with self._locked():
            state = self._state()
            if not state["promoted"]:
                raise ModelError(f"model registry {self.root}: nothing is promoted, so the default seed model is already "
                                 "current; promote a version with `slant models promote VERSION`")
            gone = state["promoted"].pop()
            now = state["promoted"][-1]["version"] if state["promoted"] else None
            state["events"].append({"event": "rollback", "from": gone["version"], "to": now, "at": _now()})
            self._write_state(state)
        return now

    def history(self):
        """The event log: trainings, promotions and rollbacks, oldest first."""
        return list(self._state()["events"])

    # -- retention -----------------------------------------------------------------------
    def prune(self, keep=KEEP_VERSIONS):
        """Remove old versions: every version on the promotion stack stays (so `rollback`
        works), and so do the `keep` newest of the rest. Returns ``(removed versions, bytes freed)``.

        A removed directory is first renamed to a dot name, so a reader never sees half of it.
        """
        if not isinstance(keep, int) or keep < 0:
            raise ModelError(f"--keep {keep!r}: must be 0 or more (the number of unpromoted versions to keep)")
        with self._locked():
            state = self._state()
            promoted = {e["version"] for e in state["promoted"]}
            others = [c["model_version"] for c in self._cards() if c["model_version"] not in promoted]
            doomed = others[:max(len(others) - keep, 0)]
            freed = 0
            for version in doomed:
                gone = self.root / f".pruned-{version}"
                os.replace(self._dir(version), gone)
                freed += sum(f.stat().st_size for f in gone.rglob("*") if f.is_file())
                shutil.rmtree(gone, ignore_errors=True)
                self._models = {k: m for k, m in self._models.items() if k[0] != version}
            if doomed:
                state["events"].append({"event": "prune", "versions": doomed, "at": _now()})
                self._write_state(state)
        return doomed, freed
