"""What the importers share (slant.records.common): summaries, records, spans, exact reads."""

import json
import time
from collections import Counter

import pytest

from slant.errors import InputError
from slant.records.common import (
    ImportSummary,
    clip_span,
    corpus_map,
    finish_import,
    make_record,
    ordered_labels,
    read_exact,
)


def test_corpus_map_collects_every_category_of_a_corpus_label(tax):
    mapping = corpus_map(tax, "ptc")
    assert mapping and all(ids and set(ids) <= set(tax.ids) for ids in mapping.values())
    for c in tax.categories:
        for name in c.mappings.get("ptc", []):
            assert c.id in mapping[name]
    assert corpus_map(tax, "no-such-corpus") == {}


def test_ordered_labels_follow_the_taxonomy_and_drop_unknown_ids(tax):
    a, b, c = tax.ids[:3]
    assert ordered_labels([c, "ptc:Slogans", a, c, b], tax) == [a, b, c]
    assert ordered_labels(set(), tax) == []


def test_make_record_fields(tax):
    a, b = tax.ids[:2]
    rec = make_record(rid="d-0", doc_id="d", text="T.", labels={b, a}, spans=[], source="d.txt", taxonomy=tax,
                      annotations=({"annotator": "x"},), sentence_index=0)
    assert list(rec) == ["id", "doc_id", "text", "labels", "spans", "annotations", "policy", "source",
                         "sentence_index", "taxonomy"]
    assert rec["labels"] == [a, b] and rec["policy"] == "import" and rec["annotations"] == [{"annotator": "x"}]
    assert rec["taxonomy"] == {"id": tax.id, "version": tax.version}


def test_clip_span_to_a_sentence():
    text = "Hello world."
    # the span 3-20 of the document, clipped to the sentence at 5-17, offsets relative to it
    assert clip_span(3, 20, 5, 17, text) == {"start": 0, "end": 12, "text": "Hello world."}
    assert clip_span(11, 13, 5, 17, text) == {"start": 6, "end": 8, "text": "wo"}


def test_read_exact_keeps_offsets(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffOne.\r\nTwo.".encode())
    assert read_exact(path) == "One.\r\nTwo."
    path.write_bytes(b"caf\xe9")
    with pytest.raises(InputError, match=r"a\.txt: not UTF-8 \(byte 3\)"):
        read_exact(path)


def test_summary_format_and_dict():
    s = ImportSummary("ptc", "o.jsonl", documents=2, sentences=5, labels=Counter(doubt=2, loaded_language=3), spans=4,
                      unmapped=Counter({"Flag-Waving": 1}), notes=["one note"], seconds=1.234)
    assert s.format().splitlines() == [
        "ptc: 2 documents, 5 sentences, 4 spans -> o.jsonl (1.2 s)",
        "  loaded_language: 3 sentences",
        "  doubt: 2 sentences",
        "  not mapped to the taxonomy (kept as prefixed spans only): Flag-Waving (1)",
        "  note: one note",
    ]
    d = s.to_dict()
    assert d["labels"] == {"loaded_language": 3, "doubt": 2} and d["seconds"] == 1.23
    assert json.loads(json.dumps(d)) == d


def test_finish_import_writes_and_counts(tmp_path):
    summary = ImportSummary("csv", str(tmp_path / "o.jsonl"))
    got = finish_import(summary, tmp_path / "o.jsonl", iter([{"id": 1}, {"id": 2}]), time.perf_counter())
    assert got is summary and summary.sentences == 2 and summary.seconds >= 0
    assert (tmp_path / "o.jsonl").read_text(encoding="utf-8") == '{"id": 1}\n{"id": 2}\n'
