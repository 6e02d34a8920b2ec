"""trainer: background retraining's outcome handling and status (fake job, no model)."""

import logging
from types import SimpleNamespace as NS

import pytest

from slant.backend.journal import Journal
from slant.backend.trainer import Trainer
from slant.errors import DataError
from slant.taxonomy.core import load_taxonomy


def _trainer(tmp_path, job, registry=None):
    return Trainer(journal=Journal(tmp_path), taxonomy=load_taxonomy(), registry=registry, slot=NS(version="v1"),
                   job=job, train_every=2, debounce=0.01, poll=0.01)


def test_status_counts_pending_events_and_says_when_training_is_off(tmp_path):
    trainer = _trainer(tmp_path, job=None)
    trainer.journal.append({"action": "ANNOTATION_CREATED", "annotations": [{"id": 1}, {"id": 2}]})
    status = trainer.status()
    assert (status["pending"], status["requested"], status["enabled"], status["running"]) == (2, False, False, False)
    assert status["train_every"] == 2 and status["last"] is None


@pytest.mark.parametrize("job, reasons", [
    (lambda records, **kw: {"promoted": False, "version": "v2", "reasons": ["worse on held-out documents"]},
     ["worse on held-out documents"]),
    (lambda records, **kw: (_ for _ in ()).throw(DataError("too few labels")), ["too few labels"]),
    (lambda records, **kw: 1 / 0, ["internal error while training; see the server log"]),
], ids=["kept", "slant-error", "crash"])
def test_a_run_never_raises_and_reports_why_the_model_was_kept(tmp_path, caplog, job, reasons):
    trainer = _trainer(tmp_path, job)
    with caplog.at_level(logging.INFO, logger="slant.backend.app"):
        outcome = trainer._train([{"text": "x", "labels": []}])
    assert outcome["promoted"] is False and outcome["reasons"] == reasons and outcome["records"] == 1
    assert "kept v1" in caplog.text


def test_no_records_means_no_training(tmp_path):
    called = []
    outcome = _trainer(tmp_path, lambda records, **kw: called.append(1))._train([])
    assert not called and outcome["reasons"] == ["no labelled sentences in the journal"]
