"""Corpus inputs: directories, globs, JSONL(.gz), CSV and Parquet, with every document field
other than the text kept as metadata; bad inputs give one clear message."""

import gzip
import json
import sys

import pytest

from slant.errors import InputError
from slant.text.documents import read_documents, read_raw
from slant.text.inputs import corpus_suffix, expand_inputs

DOC = {"id": "a1", "text": "Budget Talks\n\nThe council slashed the budget. Critics say it is a scheme.",
       "outlet": "Harbor Herald", "date": "2024-03-01", "url": "https://news.example/a1", "lean": -1}


def _jsonl(path, docs):
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def test_suffixes():
    assert [corpus_suffix(p) for p in ("a.TXT", "b.jsonl.gz", "c.parquet", "d.csv", "e.pdf")] == \
        [".txt", ".jsonl.gz", ".parquet", ".csv", ""]


def test_directories_are_searched_and_globs_expanded(tmp_path):
    (tmp_path / "feeds" / "deep").mkdir(parents=True)
    for name in ("b.txt", "a.md", "feeds/c.html", "feeds/deep/d.jsonl", "notes.pdf", ".hidden.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    got = [p.relative_to(tmp_path).as_posix() for p in expand_inputs([tmp_path])]
    assert got == ["a.md", "b.txt", "feeds/c.html", "feeds/deep/d.jsonl"]
    got = [p.name for p in expand_inputs([str(tmp_path / "**" / "*.txt"), str(tmp_path / "a.md")])]
    assert got == ["b.txt", "a.md"]


@pytest.mark.parametrize("bad, needle", [
    ("nomatch/*.txt", r"the pattern matches no file; check it"),
    ("missing.txt", r"missing\.txt: no such file; check the path"),
    ("empty", r"empty: no readable documents inside"),
], ids=["glob", "missing", "empty-dir"])
def test_bad_paths(tmp_path, bad, needle):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=needle):
        expand_inputs([str(tmp_path / bad)])


def test_metadata_from_jsonl_gz_csv_and_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with gzip.open(tmp_path / "feed.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(DOC) + "\n")
    (tmp_path / "table.csv").write_text("id,text,outlet,date\nc1,\"Budget Talks\n\nThe council slashed it.\",Valley Voice,"
                                        "2024-04-02\n", encoding="utf-8")
    pq.write_table(pa.table({"text": ["The scheme failed."], "outlet": ["Coast Courier"], "section": ["local"]}),
                   tmp_path / "rows.parquet")
    docs = {d.id: d for d in read_documents([tmp_path])}
    assert docs["a1"].meta == {"outlet": "Harbor Herald", "date": "2024-03-01", "url": "https://news.example/a1", "lean": -1}
    assert docs["a1"].source == "https://news.example/a1" and docs["a1"].title == "Budget Talks"
    assert docs["c1"].meta == {"outlet": "Valley Voice", "date": "2024-04-02"} and docs["c1"].source == "table.csv"
    assert docs["rows-1"].meta == {"outlet": "Coast Courier", "section": "local"}  # no id column: <stem>-<row>
    assert [s.text for s in docs["rows-1"].sentences] == ["The scheme failed."]


def test_raw_items_are_stable(tmp_path):
    feed = _jsonl(tmp_path / "feed.jsonl", [DOC, {**DOC, "id": "a2"}])
    first = [item.digest() for item in read_raw([feed])]
    assert first == [item.digest() for item in read_raw([str(feed)])] and len(set(first)) == 2


def test_bad_tables_and_gzip(tmp_path):
    (tmp_path / "no-text.csv").write_text("id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no-text\.csv: no 'text' column \(columns: id, body\); name the column"):
        list(read_documents(tmp_path / "no-text.csv"))
    (tmp_path / "fake.parquet").write_text("not parquet", encoding="utf-8")
    with pytest.raises(InputError, match=r"fake\.parquet: not a Parquet file .*; pass a \.parquet file"):
        list(read_documents(tmp_path / "fake.parquet"))
    (tmp_path / "fake.jsonl.gz").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match=r"fake\.jsonl\.gz: not a readable gzip file"):
        list(read_documents(tmp_path / "fake.jsonl.gz"))
    (tmp_path / "empty-text.csv").write_text("id,text\n1,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"empty-text\.csv: row 1: \"text\" of document '1' is empty"):
        list(read_documents(tmp_path / "empty-text.csv"))


def test_parquet_without_the_corpus_extra(tmp_path, monkeypatch):
    (tmp_path / "rows.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InputError, match=r"reading Parquet needs the optional corpus extra .*pip install 'slant\[corpus\]'"):
        list(read_documents(tmp_path / "rows.parquet"))


def test_a_bad_file_in_a_directory_is_named(tmp_path):
    (tmp_path / "good.txt").write_text("The council slashed it.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01binary")
    with pytest.raises(InputError, match=r"bad\.txt: looks binary \(NUL byte at offset 0\); pass \.txt, .*\.parquet files"):
        list(read_documents([tmp_path]))
