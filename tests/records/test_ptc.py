"""The PTC importer (slant.records.ptc)."""


import pytest

from helpers.files import read_jsonl, write
from slant.cli.main import main
from slant.errors import DataError, InputError
from slant.records.ptc import import_ptc
from slant.records.reviewed import load_reviewed

# --- PTC --------------------------------------------------------------------------------

ARTICLE = (
    "Mayor Slams Rivals Over Harbor Plan\n\n"
    "The mayor called the harbor plan a disgraceful scam on Monday.\n\n"
    "She said the council would never, ever agree to it.\n\n"
    "Is the council really serious?\n"
)


def _span(text, phrase, end_phrase=None):
    start = text.index(phrase)
    end = text.index(end_phrase) + len(end_phrase) if end_phrase else start + len(phrase)
    return start, end


def _ptc_labels(article_id, text):
    rows = [
        ("Loaded_Language", *_span(text, "disgraceful")),
        ("Name_Calling,Labeling", *_span(text, "disgraceful scam")),
        ("Loaded_Language", *_span(text, "disgraceful")),  # duplicate line: one span
        ("Exaggeration,Minimisation", *_span(text, "scam on Monday.", "never, ever")),  # crosses two lines
        ("Flag-Waving", *_span(text, "Slams Rivals")),  # not in the taxonomy
        ("Doubt", *_span(text, "Is the council really serious?")),
    ]
    return "".join(f"{article_id}\t{t}\t{s}\t{e}\n" for t, s, e in rows)


def _ptc_corpus(root, *, articles="train-articles", labels="train-labels-task-flc-tc", concatenated=False):
    write(root / articles / "article1001.txt", ARTICLE)
    write(root / articles / "article1002.txt", "Quiet Day\n\nNothing happened.\n")
    if concatenated:
        write(root / "train-task-flc-tc.labels", _ptc_labels("1001", ARTICLE))
    else:
        write(root / labels / "article1001.task-flc-tc.labels", _ptc_labels("1001", ARTICLE))
        write(root / labels / "article1002.task-flc-tc.labels", "")
    return root


def test_import_ptc(tmp_path, tax):
    out = tmp_path / "out" / "ptc.jsonl"
    summary = import_ptc(_ptc_corpus(tmp_path / "ptc"), taxonomy=tax, out=out)
    records = read_jsonl(out)
    assert (summary.documents, summary.sentences) == (2, 6)
    assert [r["id"] for r in records] == ["article1001-0", "article1001-1", "article1001-2", "article1001-3", "article1002-0", "article1002-1"]
    title, body, said, question = records[:4]
    assert title["text"] == "Mayor Slams Rivals Over Harbor Plan" and title["labels"] == []
    assert title["spans"] == [{"start": 6, "end": 18, "text": "Slams Rivals", "label": "ptc:Flag-Waving"}]
    assert title["data"] == {"doc_title": title["text"], "corpus": "ptc", "kind": "title"}
    assert body["labels"] == ["loaded_language", "name_calling", "exaggeration"]
    assert {(s["label"], s["text"]) for s in body["spans"]} == {
        ("loaded_language", "disgraceful"), ("name_calling", "disgraceful scam"), ("exaggeration", "scam on Monday.")}
    assert said["labels"] == ["exaggeration"] and said["spans"][0]["text"] == "She said the council would never, ever"
    assert question["labels"] == ["doubt"]
    for r in records:
        assert ARTICLE[r["start"]:r["end"]] == r["text"] if r["doc_id"] == "article1001" else True
        for s in r["spans"]:
            assert r["text"][s["start"]:s["end"]] == s["text"]
        assert r["policy"] == "import" and r["source"].startswith("article100") and r["annotations"] == []
    assert summary.labels == {"loaded_language": 1, "name_calling": 1, "exaggeration": 2, "doubt": 1}
    assert summary.unmapped == {"Flag-Waving": 1}
    assert "Flag-Waving (1)" in summary.format() and "exaggeration: 2 sentences" in summary.format()
    # The output is valid reviewed JSONL.
    assert len(load_reviewed(out, taxonomy=tax)) == 6


@pytest.mark.parametrize(
    "layout",
    [dict(articles="dev-articles", labels="dev-labels-task-flc-tc"), dict(concatenated=True)],
    ids=["other-folder-names", "concatenated-labels"],
)
def test_import_ptc_layouts(tmp_path, tax, layout):
    summary = import_ptc(_ptc_corpus(tmp_path / "c", **layout), taxonomy=tax, out=tmp_path / "o.jsonl")
    assert summary.labels["loaded_language"] == 1 and summary.sentences == 6


def test_import_ptc_articles_folder_itself(tmp_path, tax):
    root = tmp_path / "flat"
    write(root / "article7.txt", "Title\n\nA sinister plot.\n")
    write(root / "article7.labels", "7\tLoaded_Language\t9\t17\n")
    import_ptc(root, taxonomy=tax, out=tmp_path / "o.jsonl")
    assert read_jsonl(tmp_path / "o.jsonl")[1]["spans"][0]["text"] == "sinister"


@pytest.mark.parametrize(
    "setup,match",
    [
        (lambda r: None, r"no such directory; pass the PTC corpus folder"),
        (lambda r: write(r, "x"), r"not a directory"),
        (lambda r: (r / "misc").mkdir(parents=True), r"no \*-articles folder and no article<ID>\.txt files"),
        (lambda r: write(r / "train-articles" / "article1.txt", "T\n"), r"no technique label files"),
        (lambda r: (write(r / "train-articles" / "article1.txt", "T\n"), write(r / "x-labels-task-flc-tc" / "a.labels", "1\tDoubt\t0\n")),
         r"a\.labels:1: expected 4 tab-separated fields .* found 3"),
        (lambda r: (write(r / "train-articles" / "article1.txt", "T\n"), write(r / "x-labels-task-flc-tc" / "a.labels", "1\tDoubt\tzero\t1\n")),
         r"a\.labels:1: start and end must be integers, got 'zero', '1'"),
        (lambda r: (write(r / "train-articles" / "article1.txt", "T\n"), write(r / "x-labels-task-flc-tc" / "a.labels", "1\tDoubt\t5\t2\n")),
         r"a\.labels:1: empty or reversed span 5-2"),
        (lambda r: (write(r / "train-articles" / "article1.txt", "T\n"), write(r / "x-labels-task-flc-tc" / "a.labels", "1\tDoubt\t0\t50\n")),
         r"article1\.txt: span 0-50 runs past the end of the article \(2 characters\)"),
        (lambda r: ((r / "train-articles").mkdir(parents=True), write(r / "x-labels-task-flc-tc" / "a.labels", "")),
         r"train-articles: no article<ID>\.txt files"),
    ],
    ids=["missing", "file", "no-articles", "no-labels", "three-fields", "not-int", "reversed", "past-end", "empty-articles"],
)
def test_import_ptc_errors(tmp_path, tax, setup, match):
    root = tmp_path / "ptc"
    setup(root)
    with pytest.raises((InputError, DataError), match=match):
        import_ptc(root, taxonomy=tax, out=tmp_path / "o.jsonl")


def test_import_ptc_stray_label_ids_are_noted(tmp_path, tax):
    root = _ptc_corpus(tmp_path / "ptc")
    write(root / "train-labels-task-flc-tc" / "article9.task-flc-tc.labels", "9\tDoubt\t0\t3\n")
    summary = import_ptc(root, taxonomy=tax, out=tmp_path / "o.jsonl")
    assert "1 label article ids have no article file (e.g. 9); skipped" in summary.notes


# --- CLI --------------------------------------------------------------------------------

def test_cli_import_ptc(tmp_path, capsys):
    root = _ptc_corpus(tmp_path / "ptc")
    assert main(["import", "ptc", str(root), "-o", str(tmp_path / "o.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "ptc: 2 documents, 6 sentences" in out and "Flag-Waving (1)" in out
