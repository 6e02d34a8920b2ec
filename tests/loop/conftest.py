"""Shared fixtures of the loop tests: the default taxonomy and reviewed records made from the seed."""

import random

import pytest


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
