"""predictors: the ML backend's model in child processes (real default model, real processes)."""

import asyncio
import copy
import os
import signal
import time

import orjson
import pytest
from starlette.testclient import TestClient

from slant.backend.app import ModelSlot, ServerAuth, create_app
from slant.backend.predictors import ProcessPredictor, ThreadPredictor, encode_predictions
from slant.errors import ModelError
from slant.loop.prelabel import tasks_with_predictions
from slant.model.persist import TRUSTED_TYPES, model_from_bytes, model_to_bytes
from slant.taxonomy.core import taxonomy_from_data

SENTENCES = [
    "Critics say the scheme is a disaster.",
    "The vote was 5-4.",
    "Officials said the \u201creform\u201d would cost billions, an absurd sum.",
    "The minister, Ana Ruiz, said the plan was sound.",
]
AUTH = ServerAuth("ls", "pw", "tok")


def _renamed(model, version):
    other = copy.copy(model)
    other.card = {**model.card, "model_version": version}
    return other


def test_model_bytes_round_trip_and_refuse_untrusted_types(default_model, tax):
    data = model_to_bytes(default_model)
    again = model_from_bytes(data, default_model.card, tax)
    assert again.model_version == default_model.model_version
    assert [p.labels for p in again.predict(SENTENCES)] == [p.labels for p in default_model.predict(SENTENCES)]
    import skops.io as sio

    hostile = sio.dumps({"x": ProcessPredictor})  # a type no model holds
    with pytest.raises(ModelError, match="refusing to load untrusted types"):
        model_from_bytes(hostile, {"model_version": "x"}, tax)
    assert "slant.backend.predictors.ProcessPredictor" not in TRUSTED_TYPES
    with pytest.raises(ModelError, match="not a readable skops file"):
        model_from_bytes(b"not a model", {"model_version": "x"}, tax)


def test_taxonomy_round_trips_through_its_raw_json(tax):
    again = taxonomy_from_data(tax.raw, tax.source)
    assert again.hash == tax.hash and again.ids == tax.ids


def test_process_predictions_equal_thread_predictions_and_push(default_model, tax):
    texts = SENTENCES * 3
    keys = [f"k{i}" for i in range(len(texts))]
    slot = ModelSlot(default_model)

    async def both():
        procs = ProcessPredictor(slot, tax, max_batch=5, processes=2)
        thread = ThreadPredictor(slot, tax, max_batch=5)
        try:
            # Several concurrent requests: merged into batches across two processes.
            answers = await asyncio.gather(*(procs.predict(texts[i:i + 2], keys[i:i + 2]) for i in range(0, len(texts), 2)))
            single = await thread.predict(texts, keys)
        finally:
            procs.stop()
            thread.stop()
        return answers, single

    answers, (version, single) = asyncio.run(both())
    merged = [b for _, encoded in answers for b in encoded]
    assert {v for v, _ in answers} == {version} == {default_model.model_version}
    assert merged == single
    pushed = tasks_with_predictions([{"text": t, "slant_id": k} for t, k in zip(texts, keys)], model=default_model, taxonomy=tax)
    assert [orjson.loads(b) for b in merged] == [t["predictions"][0] for t in pushed]


def test_server_with_model_processes_follows_a_swap_and_replaces_a_dead_process(default_model, tax):
    app = create_app(model_source=default_model, taxonomy=tax, auth=AUTH, model_processes=1)
    body = {"tasks": [{"id": i, "data": {"text": t}} for i, t in enumerate(SENTENCES)]}
    with TestClient(app, raise_server_exceptions=False) as client:
        # Startup waited for the model process to load the model: nothing left to wait for.
        assert app.state.predictor.wait_ready(timeout=0)
        first = client.post("/predict", auth=("ls", "pw"), json=body)
        assert first.status_code == 200 and first.json()["model_version"] == default_model.model_version
        assert len(first.json()["results"]) == len(SENTENCES)

        # A promotion replaces the slot's model: the child gets it before its next batch.
        app.state.slot.model = _renamed(default_model, "swapped-1")
        second = client.post("/predict", auth=("ls", "pw"), json=body)
        assert second.json()["model_version"] == "swapped-1"
        assert {r["model_version"] for r in second.json()["results"]} == {"swapped-1"}
        assert [r["result"] for r in second.json()["results"]] == [r["result"] for r in first.json()["results"]]

        # Kill the model process: that request fails with a generic 500, the next succeeds.
        predictor_children = [p for p in _children()]
        assert predictor_children, "no model process found"
        for pid in predictor_children:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        failed = client.post("/predict", auth=("ls", "pw"), json=body)
        assert failed.status_code == 500 and "Traceback" not in failed.text
        assert failed.json() == {"error": "internal error in the slant ML backend; the traceback is in the server log"}
        again = client.post("/predict", auth=("ls", "pw"), json=body)
        assert again.status_code == 200 and again.json()["model_version"] == "swapped-1"


def _children():
    import multiprocessing as mp

    return [p.pid for p in mp.active_children() if p.name == "slant-model"]


def test_encode_predictions_rejects_a_model_that_loses_sentences(tax):
    class Short:
        model_version = "short"

        def predict(self, texts):
            return []

    with pytest.raises(RuntimeError, match="returned 0 predictions for 2 texts"):
        encode_predictions(Short(), ["a", "b"], ["1", "2"], tax)


def test_process_predictor_needs_at_least_one_process(default_model, tax):
    with pytest.raises(ValueError, match="processes must be >= 1"):
        ProcessPredictor(ModelSlot(default_model), tax, max_batch=8, processes=0)
