"""slant.model.seed: the seed sentences meet the project's own bar; the rule that keeps
them for another taxonomy; the default model built from them."""

import collections
import json
import re

import pytest
from jsonschema import Draft202012Validator

from slant._files import labels_dir, schema
from slant.cli.main import main
from slant.model.seed import load_model, read_seed, seed_records
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
    """Issue #18's bar: at least 6,000 sentences, every category with hundreds of positives."""
    counts = collections.Counter(label for _, rec in seed for label in rec["labels"])
    assert len(seed) >= 6000
    for cid in load_taxonomy().ids:
        assert counts[cid] >= 250, cid
    unlabelled = sum(1 for _, rec in seed if not rec["labels"])
    assert unlabelled / len(seed) >= 0.30


def test_seed_spans_agree_with_labels(seed):
    """Every span-level label is marked; spans index their sentence; no span for a label the
    sentence does not carry, none for a sentence-level category."""
    tax = load_taxonomy()
    _, sentence_only, span_level = tax.id_sets
    span_level = set(span_level)
    marked = 0
    for where, rec in seed:
        text = rec["text"]
        for s in rec.get("spans", []):
            assert 0 <= s["start"] < s["end"] <= len(text) and text[s["start"]:s["end"]] == s["text"], where
            assert s["label"] in rec["labels"] and s["label"] in span_level, where
        for lab in rec["labels"]:
            if lab in span_level:
                assert any(s["label"] == lab for s in rec["spans"]), (where, lab)
                marked += 1
    assert marked >= 3000


def test_seed_ids_and_texts_are_unique(seed):
    ids = [rec["id"] for _, rec in seed]
    texts = [rec["text"] for _, rec in seed]
    assert len(set(ids)) == len(ids)
    assert len(set(texts)) == len(texts)


def test_seed_groups_sentences_into_documents(seed):
    docs = collections.Counter(rec["doc_id"] for _, rec in seed)
    assert len(docs) >= 300 and max(docs.values()) <= 40


# --- which seed sentences train ------------------------------------------------------------

def test_seed_records_keep_sentences_the_taxonomy_can_describe(sub_taxonomy):
    tax = load_taxonomy(sub_taxonomy("seed_sub", ["loaded_language", "omission"]))
    everything, files = read_seed()
    kept, same_files = seed_records(tax)
    assert same_files == files
    known = set(tax.ids)
    # a sentence with a label outside the taxonomy is left out, not kept with fewer labels
    assert [r["id"] for r in kept] == [r["id"] for r in everything if set(r["labels"]) <= known]
    assert 0 < len(kept) < len(everything) and all(set(r["labels"]) <= known for r in kept)
    assert len(seed_records(load_taxonomy())[0]) == len(everything)


# --- the default model --------------------------------------------------------------------

def test_seed_files_are_read():
    records, files = read_seed()
    assert len(records) == sum(f["sentences"] for f in files) >= 1000
    assert all(f["path"].startswith("labels/seed/") for f in files)


def test_default_model_card_and_cache(default_model, default_model_cache):
    card = default_model.card
    assert card["model_version"].startswith("seed-")
    assert card["training_data"]["base"] == "seed"
    assert card["cv"]["folds"] == 5
    assert list(default_model.estimator.classes_) == list(load_taxonomy().ids)
    entries = list((default_model_cache / "models").iterdir())
    assert len(entries) == 1 and entries[0].name.startswith("default-")
    # Loading again comes from the cache: same version, no rebuild.
    again = load_model(taxonomy=load_taxonomy(), cache_dir=default_model_cache)
    assert again.model_version == default_model.model_version
    assert again.card["created_at"] == card["created_at"]


@pytest.mark.parametrize(
    "text, label",
    [
        ("Opposition leaders slammed the reckless scheme as a shameless power grab.", "loaded_language"),
        ("Critics argue the merger will drive up prices for rural customers.", "attribution_vague"),
        ("The fund's spokesman, Daniel Ortiz, said the payments would resume in May.", "attribution_named"),
        ("The agency's so-called \u201creview\u201d took less than a day.", "scare_quotes"),
    ],
    ids=["loaded", "vague", "named", "scare"],
)
def test_default_model_recognises_unseen_sentences(default_model, text, label):
    (pred,) = default_model.predict([text])
    assert label in pred.labels, pred


# Words the seed sentences never use: the model reaches them only through the lexicon
# families (cue features), which is how it generalises past the seed's wording.
UNSEEN_IN_SEED = [
    ("The mayor called the council members imbeciles and halfwits on Tuesday.", "name_calling", ("imbeciles", "halfwits")),
    ("Operatives believe the bill will pass next week.", "attribution_vague", ("Operatives",)),
    ("Pollsters believe the race will tighten before the vote.", "attribution_vague", ("Pollsters",)),
]


def test_seed_never_uses_the_unseen_words():

    records, _ = read_seed()
    seed_words = {w for r in records for w in re.findall(r"[a-z]+", r["text"].lower())}
    unseen = {e.split()[-1].lower() for _, _, evidence in UNSEEN_IN_SEED for e in evidence}
    assert unseen == {"imbeciles", "halfwits", "operatives", "pollsters"} and not seed_words & unseen


@pytest.mark.parametrize("text, label, evidence", UNSEEN_IN_SEED, ids=["insults", "operatives-believe", "pollsters-believe"])
def test_default_model_generalises_through_lexicons(default_model, text, label, evidence):
    (pred,) = default_model.predict([text])
    assert label in pred.labels, pred
    marked = [s["text"] for s in pred.spans if s["label"] == label]
    assert any(word in span for span in marked for word in evidence), pred.spans


def test_default_model_leaves_plain_news_alone(default_model):
    (pred,) = default_model.predict(["The committee will meet again on Thursday at 10 a.m. in room 204."])
    assert pred.labels == []


def test_cli_model_build_writes_a_copy(tmp_path, tiny_tax_path, monkeypatch, capsys):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "default"
    assert main(["model", "build", "--out", str(out), "--taxonomy", str(tiny_tax_path)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("built seed-") and str(out) in said
    tax = load_taxonomy(tiny_tax_path)
    assert load_model(out, taxonomy=tax).model_version == load_model(taxonomy=tax, cache_dir=tmp_path / "cache").model_version
