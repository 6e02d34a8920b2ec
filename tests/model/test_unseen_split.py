"""benchmarks/unseen_split.py: imported corpora split into dev and test halves by document,
by the hash rule that keeps the test half fixed (docs/performance.md, tenth session)."""

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def split_mod():
    spec = importlib.util.spec_from_file_location("unseen_split", ROOT / "benchmarks" / "unseen_split.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_half_is_the_sha256_rule(split_mod):
    for doc in ["article1", "a2", "polnear/ap/0001", "x"]:
        even = int(hashlib.sha256(doc.encode()).hexdigest(), 16) % 2 == 0
        assert split_mod.half(doc) == ("dev" if even else "test")


def test_split_keeps_documents_whole_and_loses_nothing(split_mod, tmp_path):
    docs = [f"doc{i}" for i in range(12)]
    lines = [json.dumps({"id": f"{d}-{k}", "doc_id": d, "text": f"Sentence {k} of {d}.", "labels": []})
             for d in docs for k in range(3)]
    src = tmp_path / "corpus.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = split_mod.split(src)
    dev = [json.loads(x) for x in (tmp_path / "corpus.dev.jsonl").read_text().splitlines()]
    test = [json.loads(x) for x in (tmp_path / "corpus.test.jsonl").read_text().splitlines()]
    assert len(dev) + len(test) == 36 and dev and test
    assert {r["doc_id"] for r in dev}.isdisjoint({r["doc_id"] for r in test})
    assert all(split_mod.half(r["doc_id"]) == "dev" for r in dev)
    assert counts["dev"] == {"sentences": len(dev), "documents": len({r["doc_id"] for r in dev})}


def test_a_line_without_doc_id_is_one_clear_error(split_mod, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text(json.dumps({"id": "1", "text": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="line 1: no doc_id"):
        split_mod.split(src)
    assert not (tmp_path / "bad.dev.jsonl").exists()


def test_a_line_that_is_not_json_and_a_missing_file_are_one_clear_error_each(split_mod, tmp_path):
    src = tmp_path / "broken.jsonl"
    src.write_text('{"doc_id": "d", "text": "x"}\n{not json\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"broken.jsonl line 2: not valid JSON .*re-run the import"):
        split_mod.split(src)
    assert not (tmp_path / "broken.dev.jsonl").exists() and not (tmp_path / "broken.test.jsonl").exists()
    with pytest.raises(SystemExit, match=r"missing.jsonl: no such file; import the corpus first"):
        split_mod.main([str(tmp_path / "missing.jsonl")])


def test_seed_variant_refuses_a_missing_seed_folder_and_bad_params_before_building(tmp_path):
    spec = importlib.util.spec_from_file_location("seed_variant", ROOT / "benchmarks" / "seed_variant.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(SystemExit, match=r"nowhere: not a directory; pass a folder of seed JSONL files"):
        mod.main([str(tmp_path / "nowhere"), str(tmp_path / "out")])
    with pytest.raises(SystemExit, match=r"--params is not valid JSON"):
        mod.main([str(tmp_path), str(tmp_path / "out"), "--params", "{min_precision: 0.7}"])
    assert not (tmp_path / "out").exists()
