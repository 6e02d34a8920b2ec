"""Shared fixtures of the loop tests: the default taxonomy and reviewed records made from the seed."""

import random

import pytest

from slant.model.seed import read_seed
from slant.taxonomy.core import load_taxonomy


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def _reviewed(n_docs=30, per_doc=12, seed=0, policy="majority"):
    """Reviewed records made by recombining seed sentences: a labelled sentence keeps its
    labels and gets a few words of an unlabelled one spliced in."""
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


def _corrupt(records, held_docs, seed=1):
    """Labels of the training documents shuffled among sentences; held-out ones stay clean."""
    rng = random.Random(seed)
    train = [r for r in records if r["doc_id"] not in held_docs]
    labels = [r["labels"] for r in train]
    rng.shuffle(labels)
    bad = iter(labels)
    return [r if r["doc_id"] in held_docs else {**r, "labels": next(bad)} for r in records]


@pytest.fixture(scope="session")
def reviewed():
    """`_reviewed`: ``reviewed(n_docs=30, per_doc=12, seed=0, policy="majority")``."""
    return _reviewed


@pytest.fixture(scope="session")
def corrupt():
    """`_corrupt`: ``corrupt(records, held_docs, seed=1)``."""
    return _corrupt
