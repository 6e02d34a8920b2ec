"""The seed sentences the default model is built from meet the project's own bar."""

import collections
import json

import pytest
from jsonschema import Draft202012Validator

from slant._files import labels_dir, schema
from slant.taxonomy.core import load_taxonomy


@pytest.fixture(scope="module")
def seed():
    records = []
    for path in sorted((labels_dir() / "seed").iterdir()):
        if path.name.endswith(".jsonl"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                records.append((f"{path.name}:{n}", json.loads(line)))
    return records


def test_every_seed_line_is_a_valid_reviewed_record(seed):
    validator = Draft202012Validator(schema("reviewed"))
    ids = load_taxonomy().ids
    for where, rec in seed:
        assert not list(validator.iter_errors(rec)), where
        assert set(rec["labels"]) <= set(ids), where


def test_seed_size_balance_and_share_of_unlabelled(seed):
    counts = collections.Counter(label for _, rec in seed for label in rec["labels"])
    assert len(seed) >= 1000
    for cid in load_taxonomy().ids:
        assert counts[cid] >= 40, cid
    unlabelled = sum(1 for _, rec in seed if not rec["labels"])
    assert unlabelled / len(seed) >= 0.40


def test_seed_ids_and_texts_are_unique(seed):
    ids = [rec["id"] for _, rec in seed]
    texts = [rec["text"] for _, rec in seed]
    assert len(set(ids)) == len(ids)
    assert len(set(texts)) == len(texts)


def test_seed_groups_sentences_into_documents(seed):
    docs = collections.Counter(rec["doc_id"] for _, rec in seed)
    assert len(docs) >= 100 and max(docs.values()) <= 20
