"""Shared fixtures of the loop tests: corrupted reviewed records, and the corpus-scale tests'
news corpus and its analysed dataset."""

import random

import pytest

from helpers.corpus import write_corpus


def _corrupt(records, held_docs, seed=1):
    """Labels of the training documents shuffled among sentences; held-out ones stay clean."""
    rng = random.Random(seed)
    train = [r for r in records if r["doc_id"] not in held_docs]
    labels = [r["labels"] for r in train]
    rng.shuffle(labels)
    bad = iter(labels)
    return [r if r["doc_id"] in held_docs else {**r, "labels": next(bad)} for r in records]


@pytest.fixture(scope="session")
def corrupt():
    """`_corrupt`: ``corrupt(records, held_docs, seed=1)``."""
    return _corrupt


@pytest.fixture(scope="module")
def corpus(request, tmp_path_factory):
    """The module's news corpus (`helpers.corpus`) as JSONL, of the size its ``CORPUS``
    asks for (`write_corpus` arguments: ``{"n_docs": ..., "per_doc": ..., "seed": ...}``)."""
    return write_corpus(tmp_path_factory.mktemp("corpus") / "docs.jsonl", **request.module.CORPUS)


@pytest.fixture(scope="module")
def analysed(request, corpus, default_model, tmp_path_factory):
    """``(directory, CorpusResult)``: `corpus` analysed once in this process (`slant analyze
    --out`) with the default model, in partitions of the module's ``PARTITION_SENTENCES``."""
    from slant.loop.corpus import analyze_corpus

    out = tmp_path_factory.mktemp("preds") / "preds"
    return out, analyze_corpus([corpus], model=default_model, out=out,
                               partition_sentences=request.module.PARTITION_SENTENCES)
