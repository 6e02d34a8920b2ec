"""cli.studio: what `slant studio`, `push`, `demo`, `pull` and `import` do without a Label
Studio server: argument errors, inputs checked before any server contact, and `import
ptc|brat|csv` on tiny corpora written here in the corpora's formats."""

import json
import os

import pytest
from jsonschema import Draft202012Validator

from slant._files import schema
from slant.cli.main import main

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LABEL_STUDIO_URL", CLOSED)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "k")


def _fails(capsys, argv, *needles):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("error: ") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def _usage(capsys, argv, needle):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and needle in capsys.readouterr().err


def _read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _valid(records):
    validator = Draft202012Validator(schema("reviewed"))
    for r in records:
        assert not list(validator.iter_errors(r)), r
        for span in r["spans"]:
            assert r["text"][span["start"]:span["end"]] == span["text"]


@pytest.fixture
def unwritable(monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK else real(p, mode, **kw))


# --- argument errors ------------------------------------------------------------------------

@pytest.mark.parametrize("argv, needle", [
    (["push", "a.txt"], "the following arguments are required: --project"),
    (["pull", "--project", "p"], "the following arguments are required: -o/--out"),
    (["studio", "--port", "eighty"], "argument --port: invalid int value"),
    (["demo", "--port", "x"], "argument --port: invalid int value"),
    (["import"], "the following arguments are required: corpus"),
    (["import", "conll", "d", "-o", "x"], "unknown command 'conll'; the commands are ptc, brat, csv"),
    (["import", "csv", "f.csv", "-o", "x", "--label-col", "l"], "the following arguments are required: --text-col"),
    (["pull", "--project", "p", "-o", "x", "--policy", "loudest"], "argument --policy: invalid choice"),
    (["push", "a.txt", "--project", "p", "--select", "3", "--strategy", "loudest"], "argument --strategy: invalid choice"),
], ids=["push-project", "pull-out", "studio-port", "demo-port", "import-corpus", "import-unknown", "csv-text-col",
        "pull-policy", "push-strategy"])
def test_usage_errors_exit_2(capsys, argv, needle):
    _usage(capsys, argv, needle)


def test_push_all_without_refresh(capsys, tmp_path):
    _fails(capsys, ["push", str(tmp_path / "a.txt"), "--project", "p", "--all"], "--all goes with --refresh")


# --- push and pull without a server ----------------------------------------------------------

def test_push_reports_a_missing_file_before_any_server_contact(capsys, tmp_path):
    present = tmp_path / "a.txt"
    present.write_text("The council slashed the budget.\n", encoding="utf-8")
    err = _fails(capsys, ["push", str(present), str(tmp_path / "missing.txt"), "--project", "p"],
                 "missing.txt: no such file; check the path")
    assert "Label Studio" not in err
    (tmp_path / "empty").mkdir()
    _fails(capsys, ["push", str(tmp_path / "empty"), "--project", "p"], "empty: no readable documents inside")
    assert not (tmp_path / "cache").exists()  # and no model was built


def test_push_to_an_unreachable_server(capsys, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("The council slashed the budget.\n", encoding="utf-8")
    _fails(capsys, ["push", str(article), "--project", "Harbor"], f"cannot reach Label Studio at {CLOSED}", "slant studio")


@pytest.mark.parametrize("extra", [[], ["--select", "3"]], ids=["lazy-model", "select"])
def test_push_reports_a_too_short_project_name_before_loading_a_model(capsys, tmp_path, extra):
    article = tmp_path / "a.txt"
    article.write_text("The council slashed the budget.\n", encoding="utf-8")
    err = _fails(capsys, ["push", str(article), "--project", " ab ", *extra],
                 "project name ' ab ' is too short; Label Studio needs at least 3 characters: pass a longer --project name")
    assert "Label Studio at" not in err
    assert not (tmp_path / "cache").exists()  # no model was built or read


def test_push_without_a_token(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    article = tmp_path / "a.txt"
    article.write_text("The council slashed the budget.\n", encoding="utf-8")
    _fails(capsys, ["push", str(article), "--project", "Harbor", "--data-dir", str(tmp_path / "nostudio")],
           f"no API token for Label Studio at {CLOSED}", "--api-key")


def test_pull_from_an_unreachable_server(capsys, tmp_path):
    out = tmp_path / "r.jsonl"
    _fails(capsys, ["pull", "--project", "p", "-o", str(out)], f"cannot reach Label Studio at {CLOSED}")
    assert not out.exists()


@pytest.mark.parametrize("command", [["studio"], ["demo", "--no-serve"]], ids=["studio", "demo"])
def test_studio_data_dir_that_is_a_file(capsys, tmp_path, command):
    afile = tmp_path / "data"
    afile.write_text("x")
    _fails(capsys, [*command, "--data-dir", str(afile)], "--data-dir", "is a file, not a directory")
    _fails(capsys, [*command, "--data-dir", str(afile / "below")], "is a file, not a directory")


# --- import ptc ------------------------------------------------------------------------------

PTC_TEXT = ("Mayor slams rivals\n\n"
            "The mayor called the plan a disgraceful scam.\n"
            "Only a traitor, he said, would vote for it.\n"
            "The vote is on Monday.\n")


def _span(text, phrase):
    start = text.index(phrase)
    return start, start + len(phrase)


@pytest.fixture
def ptc(tmp_path):
    root = tmp_path / "ptc"
    (root / "train-articles").mkdir(parents=True)
    (root / "train-labels-task-flc-tc").mkdir()
    (root / "train-articles" / "article7001.txt").write_text(PTC_TEXT, encoding="utf-8")
    rows = [("Loaded_Language", "disgraceful scam"), ("Name_Calling,Labeling", "traitor"), ("Flag-Waving", "slams")]
    (root / "train-labels-task-flc-tc" / "article7001.task-flc-tc.labels").write_text(
        "".join(f"7001\t{t}\t{a}\t{b}\n" for t, (a, b) in ((t, _span(PTC_TEXT, p)) for t, p in rows)), encoding="utf-8")
    return root


def test_import_ptc(capsys, tmp_path, ptc):
    out = tmp_path / "ptc.jsonl"
    assert main(["import", "ptc", str(ptc), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"ptc: 1 document, 4 sentences, 3 spans -> {out}")
    assert "loaded_language: 1 sentence" in said and "name_calling: 1 sentence" in said
    assert "not mapped to the taxonomy (kept as prefixed spans only): Flag-Waving (1)" in said
    records = _read(out)
    _valid(records)
    assert [r["text"] for r in records] == [line for line in PTC_TEXT.splitlines() if line]
    assert [r["labels"] for r in records] == [[], ["loaded_language"], ["name_calling"], []]
    assert records[0]["spans"] == [{"start": 6, "end": 11, "text": "slams", "label": "ptc:Flag-Waving"}]
    assert records[2]["spans"][0]["text"] == "traitor"  # the technique name with a comma stays whole
    assert {r["doc_id"] for r in records} == {"article7001"} and records[0]["data"]["kind"] == "title"
    assert all(PTC_TEXT[r["start"]:r["end"]] == r["text"] for r in records)


def test_imported_ptc_records_hold_no_annotations_to_compare(capsys, tmp_path, ptc):
    out = tmp_path / "ptc.jsonl"
    assert main(["import", "ptc", str(ptc), "-o", str(out)]) == 0
    capsys.readouterr()
    # `slant agreement` reads them and says why it cannot compare: PTC gives adjudicated labels only
    _fails(capsys, ["agreement", str(out), "--bootstrap", "0"], "no record has annotations")


@pytest.mark.parametrize("labels, needles", [
    ("7001\tLoaded_Language\t5\n", ["expected 4 tab-separated fields", "found 3"]),
    ("7001\tLoaded_Language\tfive\t9\n", ["start and end must be integers"]),
    ("7001\tLoaded_Language\t9\t5\n", ["empty or reversed span 9-5"]),
    ("7001\tLoaded_Language\t5\t900\n", ["span 5-900 runs past the end of the article"]),
], ids=["fields", "not-integer", "reversed", "past-the-end"])
def test_import_ptc_bad_labels(capsys, tmp_path, ptc, labels, needles):
    (ptc / "train-labels-task-flc-tc" / "article7001.task-flc-tc.labels").write_text(labels, encoding="utf-8")
    out = tmp_path / "ptc.jsonl"
    _fails(capsys, ["import", "ptc", str(ptc), "-o", str(out)], *needles)
    assert not out.exists()  # no half-written file is left behind


def test_import_ptc_failure_keeps_an_existing_output_path_usable(capsys, tmp_path, ptc):
    out = tmp_path / "ptc.jsonl"
    assert main(["import", "ptc", str(ptc), "-o", str(out)]) == 0
    _fails(capsys, ["import", "ptc", str(tmp_path / "nope"), "-o", str(out)], "no such directory")
    assert len(_read(out)) == 4  # failed before writing: the earlier import is untouched


def test_import_ptc_folder_errors(capsys, tmp_path, ptc):
    _fails(capsys, ["import", "ptc", str(tmp_path / "nope"), "-o", str(tmp_path / "o.jsonl")],
           "nope: no such directory; pass the PTC corpus folder")
    (ptc / "train-labels-task-flc-tc" / "article7001.task-flc-tc.labels").unlink()
    _fails(capsys, ["import", "ptc", str(ptc), "-o", str(tmp_path / "o.jsonl")], "no technique label files")
    empty = tmp_path / "empty"
    empty.mkdir()
    _fails(capsys, ["import", "ptc", str(empty), "-o", str(tmp_path / "o.jsonl")], "no *-articles folder")


def test_import_into_an_unwritable_directory(capsys, tmp_path, ptc, unwritable):
    _fails(capsys, ["import", "ptc", str(ptc), "-o", str(tmp_path / "o.jsonl")], "not writable by this user")
    assert not (tmp_path / "o.jsonl").exists()


# --- import brat -----------------------------------------------------------------------------

BRAT_TEXT = "Officials said the bridge will close. John Smith said it would reopen in May.\n"


def _ann(*relations):
    lines, n = [], 0
    for e, (source, cue, content) in enumerate(relations, 1):
        ids = []
        for kind, phrase, start in (("Source", source, 0), ("Cue", cue, BRAT_TEXT.index(source)), ("Content", content, 0)):
            a = BRAT_TEXT.index(phrase, start)
            n += 1
            ids.append(f"T{n}")
            lines.append(f"T{n}\t{kind} {a} {a + len(phrase)}\t{phrase}")
        lines.append(f"E{e}\tAttribution:{ids[1]} Content:{ids[2]} Cue:{ids[1]} Source:{ids[0]}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def brat(tmp_path):
    root = tmp_path / "brat"
    (root / "text").mkdir(parents=True)
    (root / "attributions").mkdir()
    (root / "text" / "bridge.txt").write_text(BRAT_TEXT, encoding="utf-8")
    vague = ("Officials", "said", "the bridge will close")
    named = ("John Smith", "said", "it would reopen in May")
    (root / "attributions" / "bridge_alice.ann").write_text(_ann(vague, named), encoding="utf-8")
    (root / "attributions" / "bridge_bob.ann").write_text(_ann(vague), encoding="utf-8")
    return root


def test_import_brat_with_two_annotators(capsys, tmp_path, brat):
    out = tmp_path / "brat.jsonl"
    assert main(["import", "brat", str(brat), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"brat: 1 document, 2 sentences, 4 spans -> {out}")
    assert "relations judged named: 1, vague: 2" in said
    records = _read(out)
    _valid(records)
    assert [(r["text"], r["labels"]) for r in records] == [("Officials said the bridge will close.", ["attribution_vague"]),
                                                           ("John Smith said it would reopen in May.", ["attribution_named"])]
    assert [[(a["annotator"], a["labels"]) for a in r["annotations"]] for r in records] == [
        [("alice", ["attribution_vague"]), ("bob", ["attribution_vague"])],
        [("alice", ["attribution_named"]), ("bob", [])]]
    # two annotators: real input for `slant agreement`
    assert main(["agreement", str(out), "--format", "json", "--bootstrap", "0"]) == 0
    report = json.loads(capsys.readouterr().out)
    cats = {c["id"]: c for c in report["categories"]}
    assert report["summary"]["annotators"] == 2
    assert cats["attribution_vague"]["observed_agreement"] == 1.0 and cats["attribution_named"]["observed_agreement"] == 0.5


def test_import_brat_errors(capsys, tmp_path, brat):
    out = tmp_path / "o.jsonl"
    _fails(capsys, ["import", "brat", str(tmp_path / "nope"), "-o", str(out)], "nope: no such directory")
    (brat / "attributions" / "bridge_bob.ann").write_text("X1 is not brat\n", encoding="utf-8")
    _fails(capsys, ["import", "brat", str(brat), "-o", str(out)], "bridge_bob.ann:1: not a brat annotation line")
    assert not out.exists()
    (brat / "attributions" / "bridge_bob.ann").write_text("T1\tSource 9 2\tx\n", encoding="utf-8")
    _fails(capsys, ["import", "brat", str(brat), "-o", str(out)], "T1 has bad offsets")
    for ann in (brat / "attributions").iterdir():
        ann.rename(ann.with_name("other_" + ann.name))
    _fails(capsys, ["import", "brat", str(brat), "-o", str(out)], "no .ann files matching the texts")


# --- import csv ------------------------------------------------------------------------------

TSV = ("sentence_id\tsentence\tlabel\tsolved_conflict\n"
       'b1\tThis "reform" is an outrageous betrayal.\tSUBJ\tFalse\n'
       "b2\tThe committee meets at noon.\tOBJ\tFalse\n"
       "b3\tIt seems the plan could fail.\tSUBJ\tTrue\n")


@pytest.fixture
def tsv(tmp_path):
    path = tmp_path / "subj.tsv"
    path.write_text(TSV, encoding="utf-8")
    return path


def test_import_csv_with_a_mapping(capsys, tmp_path, tsv):
    out = tmp_path / "subj.jsonl"
    assert main(["import", "csv", str(tsv), "--text-col", "sentence", "--label-col", "label", "--id-col", "sentence_id",
                 "--map", "SUBJ=epistemic_framing,OBJ=", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"csv: 3 documents, 3 sentences, 0 spans -> {out}") and "epistemic_framing: 2 sentences" in said
    records = _read(out)
    _valid(records)
    assert [(r["id"], r["labels"]) for r in records] == [("b1", ["epistemic_framing"]), ("b2", []), ("b3", ["epistemic_framing"])]
    assert records[0]["text"] == 'This "reform" is an outrageous betrayal.'  # tab-separated: quote marks are text
    assert records[2]["data"]["solved_conflict"] == "True" and records[2]["data"]["label_values"] == "SUBJ"


def test_import_csv_with_category_names_and_several_labels(capsys, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text('text,labels,doc\n"Critics say it, loudly, will fail.",Attribution to a vague source|doubt,a\n'
                    "The report is out.,,a\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert main(["import", "csv", str(path), "--text-col", "text", "--label-col", "labels", "--doc-col", "doc",
                 "-o", str(out)]) == 0
    records = _read(out)
    assert [(r["text"], r["labels"], r["doc_id"]) for r in records] == [
        ("Critics say it, loudly, will fail.", ["attribution_vague", "doubt"], "a"), ("The report is out.", [], "a")]


@pytest.mark.parametrize("extra, needles", [
    ([], ["label values the taxonomy does not know: 'SUBJ' (2), 'OBJ' (1)", '--map "SUBJ=,OBJ="']),
    (["--map", "SUBJ=subjectivity,OBJ="], ["--map SUBJ=subjectivity: 'subjectivity' is not a category of taxonomy rhetoric"]),
    (["--map", "SUBJ"], ["--map 'SUBJ': expected VALUE=category_id"]),
    (["--text-col", "text"], ["no column 'text' for --text-col; columns are 'sentence_id', 'sentence'"]),
], ids=["unknown-label", "unknown-category", "bad-map", "no-column"])
def test_import_csv_errors(capsys, tmp_path, tsv, extra, needles):
    out = tmp_path / "o.jsonl"
    argv = ["import", "csv", str(tsv), "--text-col", "sentence", "--label-col", "label", "-o", str(out)]
    _fails(capsys, argv + extra, *needles)
    assert not out.exists()


def test_import_csv_bad_rows_and_files(capsys, tmp_path, tsv):
    out = tmp_path / "o.jsonl"
    args = ["--text-col", "sentence", "--label-col", "label", "--map", "SUBJ=doubt,OBJ=", "-o", str(out)]
    _fails(capsys, ["import", "csv", str(tmp_path / "nope.tsv"), *args], "nope.tsv: no such file")
    tsv.write_text(TSV + "b4\tonly two\n", encoding="utf-8")
    _fails(capsys, ["import", "csv", str(tsv), *args], "subj.tsv:5: 2 fields, the header has 4")
    tsv.write_text(TSV + "b1\tAgain.\tOBJ\tFalse\n", encoding="utf-8")
    _fails(capsys, ["import", "csv", str(tsv), *args, "--id-col", "sentence_id"], "subj.tsv:5: duplicate id 'b1'")
    tsv.write_text("", encoding="utf-8")
    _fails(capsys, ["import", "csv", str(tsv), *args], "the file is empty")
    tsv.write_bytes("sentence\tlabel\ncaf\xe9\tOBJ\n".encode("latin-1"))
    _fails(capsys, ["import", "csv", str(tsv), *args], "not UTF-8")
    assert not out.exists()
