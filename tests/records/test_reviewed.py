"""Reviewed records (slant.records.reviewed): reading, defaults, migration, writing."""

import copy
import json
import logging

import pytest

from helpers.files import write, write_lines
from slant.errors import DataError, InputError
from slant.records.reviewed import iter_reviewed, load_reviewed, write_jsonl
from slant.taxonomy.core import load_taxonomy


def test_minimal_line_gets_defaults(tmp_path, tax):
    path = write_lines(tmp_path / "r.jsonl", [{"id": "a1", "doc_id": "d1", "text": "Rivals are thugs.", "labels": ["name_calling"]}, ""])
    [rec] = load_reviewed(path, taxonomy=tax)
    assert rec == {"id": "a1", "doc_id": "d1", "text": "Rivals are thugs.", "labels": ["name_calling"],
                   "spans": [], "annotations": [], "policy": "given", "source": "r.jsonl"}


def test_extra_fields_kept_and_many_paths(tmp_path, tax):
    a = write_lines(tmp_path / "a.jsonl", [{"id": 1, "doc_id": 1, "text": "One.", "labels": [], "policy": "majority",
                                            "source": "studio", "task_id": 9}])
    b = write_lines(tmp_path / "b.jsonl", [{"id": 2, "doc_id": 1, "text": "Two.", "labels": ["doubt"]}])
    records = load_reviewed([a, str(b)], taxonomy=tax)
    assert [r["id"] for r in records] == [1, 2]
    assert records[0]["policy"] == "majority" and records[0]["source"] == "studio" and records[0]["task_id"] == 9
    assert records[1]["source"] == "b.jsonl" and records.unknown_labels == {}


def _old_taxonomy(tmp_path, tax):
    """The default taxonomy at 1.1.0 where 'charged_language' was renamed and 'bias' retired."""
    data = copy.deepcopy(tax.raw)
    data["version"] = "1.1.0"
    data["migrations"] = [
        {"from_version": "1.0.0", "op": "rename", "from": "charged_language", "to": "loaded_language"},
        {"from_version": "1.0.0", "op": "retire", "from": "bias"},
    ]
    path = write(tmp_path / "tax.json", json.dumps(data))
    return load_taxonomy(path)


def test_labels_migrate_and_unknown_are_reported(tmp_path, tax, caplog):
    new = _old_taxonomy(tmp_path, tax)
    path = write_lines(tmp_path / "r.jsonl", [
        {"id": "a", "doc_id": "d", "text": "A.", "labels": ["charged_language", "bias", "spin"],
         "spans": [{"start": 0, "end": 1, "label": "charged_language"}, {"start": 0, "end": 1, "label": "ptc:Slogans"}],
         "annotations": [{"annotator": "ann@x.org", "labels": ["charged_language", "spin"]}]},
        {"id": "b", "doc_id": "d", "text": "B.", "labels": ["spin"]},
    ])
    with caplog.at_level(logging.WARNING, logger="slant"):
        records = load_reviewed(path, taxonomy=new)
    a, b = records
    assert a["labels"] == ["loaded_language"] and a["unknown_labels"] == ["spin"]
    assert a["spans"] == [{"start": 0, "end": 1, "label": "loaded_language"}, {"start": 0, "end": 1, "label": "ptc:Slogans"}]
    assert a["annotations"][0]["labels"] == ["loaded_language"] and a["annotations"][0]["unknown_labels"] == ["spin"]
    assert b["labels"] == [] and b["unknown_labels"] == ["spin"]
    assert records.unknown_labels == {"spin": 3}
    assert "3 labels unknown to the taxonomy: spin (3)" in records.report()
    assert "spin (3)" in caplog.text


def test_iter_reviewed_streams(tmp_path):
    path = write_lines(tmp_path / "r.jsonl", [{"id": i, "doc_id": "d", "text": "x", "labels": []} for i in range(3)])
    it = iter_reviewed(path)
    assert next(it)["id"] == 0
    assert [r["id"] for r in it] == [1, 2]


def test_write_jsonl_round_trip(tmp_path, tax):
    class Rec:
        def to_dict(self):
            return {"id": "z", "doc_id": "d", "text": "Ünïcode “quotes”.", "labels": ["doubt"]}

    out = tmp_path / "deep" / "out.jsonl"
    assert write_jsonl([{"id": "y", "doc_id": "d", "text": "Plain.", "labels": []}, Rec()], out) == 2
    assert "“quotes”" in out.read_text(encoding="utf-8")
    assert [r["id"] for r in load_reviewed(out, taxonomy=tax)] == ["y", "z"]


@pytest.mark.parametrize(
    "line,match",
    [
        ("{bad json", r"r\.jsonl:1: not valid JSON .*fix or remove the line"),
        ("[1, 2]", r"r\.jsonl:1: expected a JSON object, got list"),
        ({"id": "a", "doc_id": "d", "text": "x"}, r"r\.jsonl:1: 'labels' is a required property; add the missing field"),
        ({"id": "a", "doc_id": "d", "text": "x", "labels": "doubt"}, r"r\.jsonl:1: labels: 'doubt' is not of type 'array'; change the value's type"),
        ({"id": "a", "doc_id": "d", "text": "", "labels": []}, r"r\.jsonl:1: text: '' should be non-empty; give the sentence text"),
        ({"id": "a", "doc_id": "d", "text": "x", "labels": ["doubt", "doubt"]}, r"r\.jsonl:1: labels: .*has non-unique elements; list each label once"),
        ({"id": "a", "doc_id": "d", "text": "x", "labels": [], "spans": [{"start": 0, "label": "doubt"}]},
         r"r\.jsonl:1: spans\[0\]: 'end' is a required property"),
    ],
    ids=["not-json", "not-object", "no-labels", "labels-not-list", "empty-text", "duplicate-label", "span-no-end"],
)
def test_reviewed_errors(tmp_path, tax, line, match):
    path = write_lines(tmp_path / "r.jsonl", [line])
    with pytest.raises(DataError, match=match):
        load_reviewed(path, taxonomy=tax)


def test_reviewed_file_errors(tmp_path, tax):
    with pytest.raises(InputError, match=r"nope\.jsonl: no such file; check the path"):
        load_reviewed(tmp_path / "nope.jsonl", taxonomy=tax)
    with pytest.raises(InputError, match=r"is a directory; pass the \.jsonl file inside it"):
        load_reviewed(tmp_path, taxonomy=tax)
    with pytest.raises(DataError, match=r"empty\.jsonl: no records"):
        load_reviewed(write(tmp_path / "empty.jsonl", "\n"), taxonomy=tax)
    row = {"id": "a", "doc_id": "d", "text": "x", "labels": []}
    with pytest.raises(DataError, match=r"dup\.jsonl:3: duplicate id 'a' \(first on line 1\)"):
        load_reviewed(write_lines(tmp_path / "dup.jsonl", [row, {**row, "id": "b"}, row]), taxonomy=tax)
    (tmp_path / "latin.jsonl").write_bytes(b'{"id": "a", "doc_id": "d", "text": "caf\xe9", "labels": []}\n')
    with pytest.raises(DataError, match=r"latin\.jsonl:1: not UTF-8"):
        load_reviewed(tmp_path / "latin.jsonl", taxonomy=tax)
