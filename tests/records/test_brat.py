"""The brat / PolNeAR importer (slant.records.brat)."""


import pytest

from helpers.files import read_jsonl, write
from slant.cli.main import main
from slant.errors import DataError, InputError
from slant.records.brat import import_brat
from slant.records.reviewed import load_reviewed

# --- brat -------------------------------------------------------------------------------

STORY = (
    "Council Delays Bridge Vote\n\n"
    "Mayor Ana Ruiz said the vote would wait until March. Officials warned that costs could rise.\n\n"
    "The plan, critics argue, was rushed.\n"
    "It is believed that the contractor will sue.\n"
)


def _o(text, phrase, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return start, start + len(phrase)


def _t(ident, kind, frags, text):
    offsets = ";".join(f"{a} {b}" for a, b in frags)
    return f"T{ident}\t{kind} {offsets}\t{' '.join(text[a:b] for a, b in frags)}"


def _ann_first(text):
    ruiz, said, vote = _o(text, "Mayor Ana Ruiz"), _o(text, "said"), _o(text, "the vote would wait until March")
    off, warned = _o(text, "Officials"), _o(text, "warned")
    content2 = (_o(text, "costs could rise")[0], _o(text, "was rushed")[1])  # runs over a line break
    critics, argue = _o(text, "critics"), _o(text, "argue")
    believed = _o(text, "is believed")
    lines = [
        _t(1, "Source", [ruiz], text), _t(2, "Cue", [said], text), _t(3, "Content", [vote], text),
        _t(4, "Attribution", [said], text), "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1",
        _t(5, "Source", [off], text), _t(6, "Cue", [warned], text),
        # The text column of a span over a paragraph break continues on the next lines.
        _t(7, "Content", [content2], text), _t(8, "Attribution", [warned], text),
        "E2\tAttribution:T8 Content:T7 Cue:T6 Source:T5",
        # A discontinuous cue and a content in two pieces.
        _t(9, "Source", [critics], text), _t(10, "Cue", [argue, _o(text, ",", 1)], text),
        _t(11, "Content", [_o(text, "The plan"), _o(text, "was rushed")], text), _t(12, "Attribution", [argue], text),
        "E3\tAttribution:T12 Content:T11 Cue:T10 Source:T9",
        _t(13, "Cue", [believed], text), _t(14, "Attribution-no-source", [believed], text),
        "E4\tAttribution-no-source:T14 Cue:T13",
        "#1\tAnnotatorNotes T13\tno source here",
    ]
    return "\n".join(lines) + "\n"


def _ann_second(text):
    return "\n".join([
        _t(1, "Source", [_o(text, "Mayor Ana Ruiz")], text), _t(2, "Cue", [_o(text, "said")], text),
        _t(3, "Attribution", [_o(text, "said")], text), "E1\tAttribution:T3 Cue:T2 Source:T1",
    ]) + "\n"


def _brat_corpus(root):
    write(root / "text" / "story.txt", STORY)
    write(root / "text" / "unannotated.txt", "Nothing here.\n")
    write(root / "attributions" / "story_b2.ann", _ann_second(STORY))
    write(root / "attributions" / "story_a1.ann", _ann_first(STORY))
    write(root / "attributions" / "other_zz.ann", "")
    write(root / "metadata.tsv", "compartment\tfilename\tpublisher\tpublication_date\ntrain\tstory\tgazette\t2016-01-02\n")
    return root


def test_ann_fixture_has_a_multiline_text_column():
    assert "could rise.\n\nThe plan" in _ann_first(STORY)


def test_import_brat(tmp_path, tax):
    out = tmp_path / "brat.jsonl"
    summary = import_brat(_brat_corpus(tmp_path / "pn"), taxonomy=tax, out=out)
    records = read_jsonl(out)
    texts = [r["text"] for r in records]
    assert texts == ["Council Delays Bridge Vote", "Mayor Ana Ruiz said the vote would wait until March.",
                     "Officials warned that costs could rise.", "The plan, critics argue, was rushed.",
                     "It is believed that the contractor will sue."]
    labels = [r["labels"] for r in records]
    assert labels == [[], ["attribution_named"], ["attribution_vague"], ["attribution_vague"], ["attribution_vague"]]
    ruiz = records[1]
    assert ruiz["spans"] == [
        {"start": 0, "end": 14, "text": "Mayor Ana Ruiz", "label": "attribution_named"},
        {"start": 15, "end": 19, "text": "said", "label": "attribution_named"},
    ]
    assert [a["annotator"] for a in ruiz["annotations"]] == ["a1", "b2"]
    assert ruiz["annotations"][1]["labels"] == ["attribution_named"]
    assert records[2]["annotations"][1] == {"annotator": "b2", "labels": [], "spans": []}
    critics = records[3]
    assert {s["text"] for s in critics["spans"]} == {"critics", "argue", ","}
    for r in records:
        assert STORY[r["start"]:r["end"]] == r["text"]
        for s in r["spans"]:
            assert r["text"][s["start"]:s["end"]] == s["text"]
    assert ruiz["data"]["publisher"] == "gazette" and ruiz["data"]["annotator"] == "a1"
    assert summary.documents == 1 and summary.sentences == 5
    assert summary.labels == {"attribution_named": 1, "attribution_vague": 3}
    assert any("1 .ann files match no text (e.g. other_zz.ann)" in n for n in summary.notes)
    assert any("1 texts have no .ann file" in n for n in summary.notes)
    assert len(load_reviewed(out, taxonomy=tax)) == 5


def test_import_brat_flat_layout(tmp_path, tax):
    root = tmp_path / "flat"
    write(root / "story.txt", STORY)
    write(root / "story.ann", _ann_second(STORY))
    import_brat(root, taxonomy=tax, out=tmp_path / "o.jsonl")
    records = read_jsonl(tmp_path / "o.jsonl")
    assert records[1]["labels"] == ["attribution_named"] and records[1]["annotations"][0]["annotator"] == "annotator"


@pytest.mark.parametrize(
    "setup,match",
    [
        (lambda r: None, r"no such directory; pass the folder with text/ and attributions/"),
        (lambda r: r.mkdir(parents=True), r"no \.txt files"),
        (lambda r: (write(r / "a.txt", "Hi."), write(r / "b.ann", "")), r"no \.ann files matching the texts"),
        (lambda r: (write(r / "a.txt", "Hi."), write(r / "a.ann", "garbage line\n")), r"a\.ann:1: not a brat annotation line"),
        (lambda r: (write(r / "a.txt", "Hi."), write(r / "a.ann", "T1\tCue\tsaid\n")), r"a\.ann:1: T1 needs '<type> <start> <end>'"),
        (lambda r: (write(r / "a.txt", "Hi."), write(r / "a.ann", "T1\tCue x y\tsaid\n")), r"a\.ann:1: T1 has bad offsets 'x y'"),
    ],
    ids=["missing", "no-text", "no-matching-ann", "garbage", "no-offsets", "bad-offsets"],
)
def test_import_brat_errors(tmp_path, tax, setup, match):
    root = tmp_path / "b"
    setup(root)
    with pytest.raises((InputError, DataError), match=match):
        import_brat(root, taxonomy=tax, out=tmp_path / "o.jsonl")


# --- CLI --------------------------------------------------------------------------------

def test_cli_import_brat(tmp_path, capsys):
    root = _brat_corpus(tmp_path / "pn")
    assert main(["import", "brat", str(root), "-o", str(tmp_path / "o.jsonl")]) == 0
    assert "attribution_vague: 3 sentences" in capsys.readouterr().out
