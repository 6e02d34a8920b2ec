"""Shared fixtures.

`label_studio` is one real Label Studio server for the whole session (free port,
temporary data dir, legacy tokens on, the same environment `slant studio` uses).
Integration tests take it and mark themselves ``@pytest.mark.integration``:

    def test_x(label_studio):
        sdk = label_studio.client()          # label_studio_sdk.LabelStudio, for test set-up
        studio = label_studio.studio()       # slant.studio.client.Studio, what slant code takes
        label_studio.url, label_studio.api_key, label_studio.email, label_studio.password
        label_studio.stop(kill=True); label_studio.restart()   # fault tests

The port can change across a restart (Label Studio moves on when its port is busy), so
read ``label_studio.url`` after restarting.

`label_studio_pg` is the same on PostgreSQL (a cluster of its own, `slant studio --database
postgresql`); `studio_db` is parametrised over both (ids ``sqlite`` and ``postgresql``) for
the tests that must hold on either database (tests/loop/test_team_integration.py).
"""

import importlib.util
import random
import shutil
import socket
import tempfile
from pathlib import Path

import pytest


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveStudio:
    """Handle on the session's Label Studio server."""

    def __init__(self, data_dir, port, database="sqlite"):
        self.data_dir = Path(data_dir)
        self.requested_port = port
        self.database = database
        self.server = None

    def start(self):
        from slant.studio.server import start_studio

        self.server = start_studio(data_dir=self.data_dir, port=self.requested_port, timeout=600,
                                   database=self.database)
        return self

    @property
    def url(self):
        return self.server.url

    @property
    def port(self):
        return self.server.port

    @property
    def api_key(self):
        return self.server.api_key

    @property
    def email(self):
        return self.server.username

    username = email

    @property
    def password(self):
        return self.server.password

    @property
    def running(self):
        return self.server is not None and self.server.process is not None and self.server.process.poll() is None

    def client(self, api_key=None):
        """A fresh `label_studio_sdk.LabelStudio` client (admin token by default)."""
        from label_studio_sdk import LabelStudio

        return LabelStudio(base_url=self.url, api_key=api_key or self.api_key, timeout=300)

    def studio(self, api_key=None):
        """A connected `slant.studio.client.Studio`."""
        from slant.studio.client import connect

        return connect(self.url, api_key or self.api_key)

    def stop(self, *, kill=False):
        """Stop the server, and its PostgreSQL (SIGKILL to both with `kill`, to simulate a crash)."""
        if self.server is not None:
            self.server.stop(kill=kill)

    def restart(self):
        """Start again on the same data dir (same database, users and token)."""
        self.stop()
        return self.start()

    def __repr__(self):
        return (f"LiveStudio(url={self.url if self.server else None!r}, database={self.database!r}, "
                f"data_dir={str(self.data_dir)!r})")


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory):
    """A real Label Studio for the session; skipped only when label-studio is not installed."""
    if importlib.util.find_spec("label_studio") is None:
        pytest.skip("label-studio is not installed (pip install 'slant[studio]'); integration tests need a real server")
    live = LiveStudio(tmp_path_factory.mktemp("label-studio"), _free_port())
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="session")
def label_studio_pg():
    """A real Label Studio on a PostgreSQL cluster of its own; skipped when PostgreSQL is not installed."""
    from slant.errors import StudioError
    from slant.studio.postgres import find_bindir

    if importlib.util.find_spec("label_studio") is None:
        pytest.skip("label-studio is not installed (pip install 'slant[studio]'); integration tests need a real server")
    try:
        find_bindir()
    except StudioError as exc:
        pytest.skip(f"{exc} (`make test` does this when run as root)")
    # Not under pytest's basetemp: as root that is 0700 and the postgres user could not enter it.
    data_dir = tempfile.mkdtemp(prefix="slant-pg-test-")
    live = LiveStudio(data_dir, _free_port(), database="postgresql")
    try:
        live.start()
        yield live
    finally:
        live.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def studio_db(request):
    """The session's Label Studio on SQLite, then on PostgreSQL."""
    return request.getfixturevalue("label_studio" if request.param == "sqlite" else "label_studio_pg")


@pytest.fixture(scope="session")
def default_model_cache(tmp_path_factory):
    """A cache directory holding the default model, built once per session (~10 s)."""
    from slant.model.seed import build_default_model
    from slant.taxonomy.core import load_taxonomy

    cache = tmp_path_factory.mktemp("slant-cache")
    build_default_model(taxonomy=load_taxonomy(), cache_dir=cache)
    return cache


@pytest.fixture(scope="session")
def default_model(default_model_cache):
    """The default model (labels/seed, default taxonomy), loaded from the session cache."""
    from slant.model.seed import load_model
    from slant.taxonomy.core import load_taxonomy

    return load_model(taxonomy=load_taxonomy(), cache_dir=default_model_cache)


@pytest.fixture(scope="session")
def sub_taxonomy(tmp_path_factory):
    """``sub_taxonomy(tax_id, ids)``: the path of a taxonomy file with only the default
    taxonomy's categories `ids` (and their groups), for tests that need a small one."""
    import json

    from slant._files import default_taxonomy_path

    def make(tax_id, ids):
        data = json.loads(default_taxonomy_path().read_text(encoding="utf-8"))
        data["id"] = tax_id
        data["categories"] = [c for c in data["categories"] if c["id"] in ids]
        data["groups"] = [g for g in data["groups"] if g["id"] in {c["group"] for c in data["categories"]}]
        data.pop("migrations", None)
        path = tmp_path_factory.mktemp("tax") / f"{tax_id}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    return make


class FakeModel:
    """Labels any sentence containing a cue word, with a span on the word; records its calls."""

    model_version = "fake-1"
    cues = {"slashed": "loaded_language", "scheme": "loaded_language", "Critics say": "attribution_vague"}

    def __init__(self):
        self.calls = []

    def predict(self, texts):
        from slant.model.slantmodel import Prediction

        self.calls.append(list(texts))
        out = []
        for text in texts:
            labels, spans = [], []
            for cue, label in self.cues.items():
                at = text.find(cue)
                if at >= 0:
                    if label not in labels:
                        labels.append(label)
                    spans.append({"start": at, "end": at + len(cue), "label": label, "text": cue, "weight": 1.0, "cue": "x"})
            scores = {lab: (0.9 if lab in labels else 0.1) for lab in ("loaded_language", "attribution_vague")}
            out.append(Prediction(labels, scores, spans, uncertainty=0.2 if labels else 0.6))
        return out


@pytest.fixture
def fake_model():
    """The `FakeModel` class: call it for a fresh model (push and pre-label tests, no training)."""
    return FakeModel


@pytest.fixture
def chromium_login():
    """``chromium_login(url, email, password)``: a context manager giving a Chromium page
    logged in to Label Studio (helpers.browser); the browser tests take it, and are skipped
    up front when Playwright or Chromium is missing."""
    from helpers.browser import chromium_login

    return chromium_login()


# --- reviewed records for the model and loop tests ----------------------------------------

def _reviewed(n_docs=30, per_doc=12, seed=0, policy="majority"):
    """Reviewed records made by recombining seed sentences: a labelled sentence keeps its
    labels and gets a few words of an unlabelled one spliced in."""
    from slant.model.seed import read_seed

    recs, _ = read_seed()
    neutral = [r["text"].split() for r in recs if not r["labels"]]
    rng = random.Random(seed)
    out = []
    for d in range(n_docs):
        for i in range(per_doc):
            a = rng.choice(recs)
            w, b = a["text"].split(), rng.choice(neutral)
            at, s = rng.randint(0, len(w)), rng.randint(0, max(0, len(b) - 3))
            out.append({"id": f"r{seed}-{d}-{i}", "doc_id": f"doc{seed}-{d}", "text": " ".join(w[:at] + b[s:s + 3] + w[at:]),
                        "labels": list(a["labels"]), "policy": policy})
    return out


@pytest.fixture(scope="session")
def reviewed():
    """``reviewed(n_docs, per_doc, seed)``: reviewed records recombined from the seed sentences."""
    return _reviewed


@pytest.fixture(scope="session")
def tax():
    """The default taxonomy (modules that need another one define their own `tax`)."""
    from slant.taxonomy.core import load_taxonomy

    return load_taxonomy()


# The measure tests' synthetic corpus with known truth (helpers.measure), shared by
# tests/measure and tests/cli/test_measure.py.
@pytest.fixture(scope="session")
def population():
    from helpers.measure import Population

    return Population()


@pytest.fixture(scope="session")
def corpus_dir(population, tmp_path_factory):
    return population.write_parquet(tmp_path_factory.mktemp("corpus") / "predictions")


@pytest.fixture
def uniform_audit(population, tmp_path):
    from helpers.measure import uniform_rows

    return population.audit(tmp_path / "audit.jsonl", uniform_rows(population), 400 / population.n)
