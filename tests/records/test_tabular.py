"""The CSV/TSV importer and --map parsing (slant.records.tabular)."""


import pytest

from helpers.files import read_jsonl, write
from slant.cli.main import main
from slant.errors import DataError, InputError
from slant.records.tabular import import_csv, parse_mapping

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

def test_cli_import_csv(tmp_path, capsys):
    path = write(tmp_path / "x.tsv", "sentence\tlabel\nA.\tSUBJ\nB.\tOBJ\n")
    args = ["import", "csv", str(path), "-o", str(tmp_path / "o.jsonl"), "--text-col", "sentence", "--label-col", "label"]
    assert main(args) == 1
    assert "map them with --map" in capsys.readouterr().err
    assert main(args + ["--map", "SUBJ=epistemic_framing,OBJ="]) == 0
    assert "epistemic_framing: 1 sentence" in capsys.readouterr().out
    assert len(read_jsonl(tmp_path / "o.jsonl")) == 2
