import copy
import json
import logging

import pytest

from slant.cli.main import main
from slant.errors import DataError, InputError
from slant.records.importers import import_brat, import_csv, import_ptc, parse_mapping, source_is_named
from slant.records.reviewed import iter_reviewed, load_reviewed, write_jsonl
from slant.taxonomy.core import load_taxonomy


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_lines(path, rows):
    return write(path, "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


# --- reviewed records -------------------------------------------------------------------

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


@pytest.mark.parametrize(
    "source,kwargs,named",
    [
        ("Mayor Ana Ruiz", {}, True),
        ("the Labor Department", {}, True),
        ("a Pfizer spokesperson", {}, True),
        ("FBI", {}, True),
        ("he", {}, True),
        ("They", {"sentence_initial": True}, True),
        ("the senator", {}, True),
        ("Sanders’s", {}, True),
        ("he and Mr. Allen", {}, True),
        ("officials", {}, False),
        ("Officials", {"sentence_initial": True, "lower_words": {"officials"}}, False),
        ("White House officials", {}, False),
        ("people familiar with the negotiations", {}, False),
        ("critics", {}, False),
        ("Some analysts", {}, False),
        ("one senior administration official", {}, False),
        ("a source", {}, False),
        ("Democrats", {}, False),
        ("Witnesses", {"sentence_initial": True, "lower_words": {"witnesses"}}, False),
        ("Voters'", {"sentence_initial": True, "lower_words": {"voters"}}, False),
        ("Figures reported on Sunday", {"sentence_initial": True, "lower_words": {"figures"}}, False),
        ("Sanders campaign", {"sentence_initial": True}, True),
        ("Germany", {"sentence_initial": True}, True),
        ("", {}, False),
        ("who", {"antecedent": "Sen. Maria Lopez"}, True),
        ("who", {"antecedent": "many voters"}, False),
        ("which", {"antecedent": "as well as news from the Central Bank"}, True),
    ],
)
def test_source_is_named(source, kwargs, named):
    assert source_is_named(source, **kwargs) is named


# --- CSV / TSV --------------------------------------------------------------------------

def test_import_tsv_with_quotes_and_mapping(tmp_path, tax):
    path = write(tmp_path / "subj.tsv",
                 'sentence_id\tsentence\tlabel\tnote\n'
                 's1\tHe called it "a disaster."\tSUBJ\tx\n'
                 's2\tThe vote is on Monday.\tOBJ\t\n'
                 '\n'
                 's3\t"Quoted" start and a ; semicolon.\tSUBJ|OBJ\ty\n')
    out = tmp_path / "o.jsonl"
    summary = import_csv(path, text_col="sentence", label_col="label", id_col="sentence_id", taxonomy=tax, out=out,
                         mapping="SUBJ=epistemic_framing+doubt, OBJ=")
    records = read_jsonl(out)
    assert [r["text"] for r in records] == ['He called it "a disaster."', "The vote is on Monday.", '"Quoted" start and a ; semicolon.']
    assert [r["labels"] for r in records] == [["epistemic_framing", "doubt"], [], ["epistemic_framing", "doubt"]]
    assert [r["id"] for r in records] == ["s1", "s2", "s3"] and records[0]["doc_id"] == "s1"
    assert records[0]["data"] == {"note": "x", "corpus": "csv", "label_values": "SUBJ"}
    assert records[0]["policy"] == "import" and records[0]["source"] == "subj.tsv"
    assert summary.documents == 3 and summary.sentences == 3 and summary.labels == {"epistemic_framing": 2, "doubt": 2}


def test_import_csv_sniffed_names_and_multi_labels(tmp_path, tax):
    path = write(tmp_path / "data.csv",
                 'doc,text,labels\n'
                 'd1,"Thugs, all of them.",Name calling;loaded_language\n'
                 'd1,A plain sentence.,\n')
    out = tmp_path / "o.jsonl"
    import_csv(path, text_col="text", label_col="labels", doc_col="doc", taxonomy=tax, out=out)
    records = read_jsonl(out)
    assert records[0]["text"] == "Thugs, all of them." and records[0]["labels"] == ["loaded_language", "name_calling"]
    assert [r["id"] for r in records] == ["data-1", "data-2"] and {r["doc_id"] for r in records} == {"d1"}


def test_import_csv_explicit_sep_and_quoting(tmp_path, tax):
    path = write(tmp_path / "x.txt", 'text|label\n"Quoted | pipe."|doubt\n')
    import_csv(path, text_col="text", label_col="label", taxonomy=tax, out=tmp_path / "o.jsonl", sep="|", quoting="minimal")
    assert read_jsonl(tmp_path / "o.jsonl")[0]["text"] == "Quoted | pipe."


def test_parse_mapping(tax):
    assert parse_mapping("SUBJ=epistemic_framing, OBJ=", taxonomy=tax) == {"SUBJ": ["epistemic_framing"], "OBJ": []}
    assert parse_mapping({"X": ["doubt"]}, taxonomy=tax) == {"X": ["doubt"]}
    with pytest.raises(DataError, match=r"--map 'SUBJ': expected VALUE=category_id"):
        parse_mapping("SUBJ", taxonomy=tax)
    with pytest.raises(DataError, match=r"--map SUBJ=subjective: 'subjective' is not a category of taxonomy rhetoric"):
        parse_mapping("SUBJ=subjective", taxonomy=tax)


@pytest.mark.parametrize(
    "content,kwargs,match",
    [
        ("sentence\tlabel\nA.\tSUBJ\nB.\tOBJ\nC.\tOBJ\n", {},
         r"label values the taxonomy does not know: 'OBJ' \(2\), 'SUBJ' \(1\); map them with --map \"OBJ=,SUBJ=\""),
        ("sentence\tlabel\nA.\tSUBJ\n", {"text_col": "text"}, r"no column 'text' for --text-col; columns are 'sentence', 'label'"),
        ("sentence\tlabel\nA.\tSUBJ\n", {"id_col": "sid"}, r"no column 'sid' for --id-col"),
        ("sentence\tlabel\nA.\tSUBJ\textra\n", {}, r"x\.tsv:2: 3 fields, the header has 2 \(a separator inside a sentence\? try quoting='minimal'"),
        ("sentence\tlabel\n  \tdoubt\n", {}, r"x\.tsv:2: empty 'sentence'; remove the row"),
        ("id\tsentence\tlabel\na\tA.\tdoubt\na\tB.\tdoubt\n", {"id_col": "id"}, r"x\.tsv:3: duplicate id 'a' \(first on line 2\)"),
        ("", {}, r"x\.tsv: the file is empty"),
        ("sentence\tlabel\nA.\tdoubt\n", {"quoting": "weird"}, r"quoting 'weird': use 'none' or 'minimal'"),
    ],
    ids=["unknown-values", "no-text-col", "no-id-col", "field-count", "empty-text", "duplicate-id", "empty-file", "bad-quoting"],
)
def test_import_csv_errors(tmp_path, tax, content, kwargs, match):
    path = write(tmp_path / "x.tsv", content)
    args = {"text_col": "sentence", "label_col": "label", **kwargs}
    with pytest.raises((InputError, DataError), match=match):
        import_csv(path, taxonomy=tax, out=tmp_path / "o.jsonl", **args)


def test_import_csv_missing_file(tmp_path, tax):
    with pytest.raises(InputError, match=r"nope\.csv: no such file; pass the CSV/TSV file"):
        import_csv(tmp_path / "nope.csv", text_col="t", label_col="l", taxonomy=tax, out=tmp_path / "o.jsonl")
    with pytest.raises(InputError, match=r"is a directory; pass the CSV/TSV file"):
        import_csv(tmp_path, text_col="t", label_col="l", taxonomy=tax, out=tmp_path / "o.jsonl")


def test_import_csv_bad_quotes_hint(tmp_path, tax):
    path = write(tmp_path / "x.csv", 'text,label\nHe said "no, never", twice.,doubt\n')
    with pytest.raises(DataError, match=r"x\.csv:2: 4 fields, the header has 2 \(a quote mark inside a cell\? try quoting='none', --quoting none\)"):
        import_csv(path, text_col="text", label_col="label", taxonomy=tax, out=tmp_path / "o.jsonl", sep=",")


# --- CLI --------------------------------------------------------------------------------

def test_cli_import_ptc(tmp_path, capsys):
    root = _ptc_corpus(tmp_path / "ptc")
    assert main(["import", "ptc", str(root), "-o", str(tmp_path / "o.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "ptc: 2 documents, 6 sentences" in out and "Flag-Waving (1)" in out


def test_cli_import_brat(tmp_path, capsys):
    root = _brat_corpus(tmp_path / "pn")
    assert main(["import", "brat", str(root), "-o", str(tmp_path / "o.jsonl")]) == 0
    assert "attribution_vague: 3 sentences" in capsys.readouterr().out


def test_cli_import_csv(tmp_path, capsys):
    path = write(tmp_path / "x.tsv", "sentence\tlabel\nA.\tSUBJ\nB.\tOBJ\n")
    args = ["import", "csv", str(path), "-o", str(tmp_path / "o.jsonl"), "--text-col", "sentence", "--label-col", "label"]
    assert main(args) == 1
    assert "map them with --map" in capsys.readouterr().err
    assert main(args + ["--map", "SUBJ=epistemic_framing,OBJ="]) == 0
    assert "epistemic_framing: 1 sentences" in capsys.readouterr().out
    assert len(read_jsonl(tmp_path / "o.jsonl")) == 2
