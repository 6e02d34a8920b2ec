"""cli.model: `slant model build`, `analyze`, `train` and `evaluate` end to end on tiny data
written here, and their error paths (one message on stderr, exit 1, no traceback).

The default model is built once for the module, on a two-category taxonomy (seconds, not
the full taxonomy's ~15 s), into a module cache that every test points SLANT_CACHE_DIR at.
"""

import contextlib
import io
import json
import os

import pytest
from jsonschema import Draft202012Validator

from slant._files import schema
from slant.cli.main import main

IDS = ["loaded_language", "attribution_vague"]
TOPICS = ["library", "transit", "water", "school", "park", "housing"]
ARTICLE = ("Council slashes library budget\n\n"
           "The council slashed the library budget in a shameful late-night vote.\n"
           "Critics say the plan will fail within a year.\n"
           "The board met on Tuesday and approved the minutes.\n")


def _records():
    """Six documents of four sentences: one loaded, one vaguely attributed, two plain."""
    out = []
    for d, topic in enumerate(TOPICS):
        rows = [(f"The council slashed the {topic} budget in a shameful late-night vote.", ["loaded_language"]),
                (f"Critics say the {topic} plan will fail within a year.", ["attribution_vague"]),
                (f"The {topic} board met on Tuesday and approved the minutes.", []),
                (f"A public hearing on the {topic} project is scheduled for next month.", [])]
        out += [{"id": f"d{d}-{i}", "doc_id": f"d{d}", "text": text, "labels": labels} for i, (text, labels) in enumerate(rows)]
    return out


def _jsonl(path, records):
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tax(sub_taxonomy):
    return str(sub_taxonomy("clitiny", IDS))


@pytest.fixture(scope="module")
def built(tmp_path_factory, tax):
    """`slant model build --out DIR` once: fills the module cache; returns (cache, DIR, stdout)."""
    cache, out = tmp_path_factory.mktemp("cache"), tmp_path_factory.mktemp("built") / "model"
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout):
        mp.setenv("SLANT_CACHE_DIR", str(cache))
        code = main(["model", "build", "--taxonomy", tax, "--out", str(out)])
    return code, cache, out, stdout.getvalue()


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # no registry under the real home
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "empty-cache"))


@pytest.fixture
def cached(built, monkeypatch):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(built[1]))
    return built


@pytest.fixture
def data(tmp_path):
    return _jsonl(tmp_path / "reviewed.jsonl", _records())


@pytest.fixture
def article(tmp_path):
    path = tmp_path / "council.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def _fails(capsys, argv, *needles):
    assert main(argv) == 1
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("error: ") and err.count("error: ") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


# --- model build -------------------------------------------------------------------------

def test_model_build_reports_and_writes_a_copy(built):
    code, cache, out, stdout = built
    assert code == 0
    card = json.loads((out / "model-card.json").read_text(encoding="utf-8"))
    assert (out / "model.skops").is_file()
    version = card["model_version"]
    assert version.startswith("seed-")
    assert stdout.startswith(f"built {version} from {card['training_data']['sentences']} seed sentences into {out}; ")
    assert f"cross-validated macro F1 {card['cv']['macro']['f1']:.3f}" in stdout
    assert any((cache / "models").iterdir())  # and the cache holds it for analyze


def test_model_build_with_a_missing_taxonomy(capsys, tmp_path):
    _fails(capsys, ["model", "build", "--taxonomy", str(tmp_path / "nope.json")], "nope.json", "no such file")


# --- analyze -------------------------------------------------------------------------------

def test_analyze_jsonl_into_a_file(cached, capsys, tmp_path, tax, article):
    out = tmp_path / "pred.jsonl"
    assert main(["analyze", str(article), "--format", "jsonl", "-o", str(out), "--taxonomy", tax, "--jobs", "1"]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in lines] == [line for line in ARTICLE.splitlines() if line]
    assert [r["sentence_index"] for r in lines] == [0, 1, 2, 3]
    assert {r["doc_id"] for r in lines} == {"council"}
    for r in lines:
        assert ARTICLE[r["start"]:r["end"]] == r["text"]
        assert set(r["scores"]) == set(IDS) and set(r["labels"]) <= set(IDS)
        for span in r["spans"]:
            assert r["text"][span["start"]:span["end"]] == span["text"] and span["label"] in r["labels"]
    assert "loaded_language" in lines[1]["labels"] and lines[3]["labels"] == []
    labelled = sum(1 for r in lines if r["labels"])
    assert captured.out == ""
    assert f"wrote {out}: 4 sentences from 1 document, {labelled} with a category" in captured.err


def test_analyze_table_to_stdout_and_html_with_a_saved_model(cached, capsys, tmp_path, tax, article):
    assert main(["analyze", str(article), "--taxonomy", tax]) == 0
    table = capsys.readouterr().out
    assert "shameful" in table and "loaded_language" in table
    page = tmp_path / "page.html"
    assert main(["analyze", str(article), "--model", str(cached[2]), "--taxonomy", tax, "--format", "html", "-o", str(page)]) == 0
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and f"wrote {page}" in capsys.readouterr().err


def test_analyze_a_missing_file_fails_before_building_the_model(capsys, tmp_path):
    # the default cache is empty: the missing file must be reported without a ~15 s model build
    _fails(capsys, ["analyze", str(tmp_path / "missing.txt")], "missing.txt: no such file; check the path")
    assert not (tmp_path / "empty-cache").exists()
    _fails(capsys, ["analyze", str(tmp_path)], "no readable documents inside")


def test_analyze_a_bad_jsonl_document(cached, capsys, tmp_path, tax):
    docs = _jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": "The council slashed it."}, "{not json\n"])
    err = _fails(capsys, ["analyze", str(docs), "--format", "jsonl", "--taxonomy", tax, "--jobs", "1"], "docs.jsonl:2")
    assert "JSON" in err


def test_analyze_errors(cached, capsys, tmp_path, tax, article):
    _fails(capsys, ["analyze", str(article), "--model", str(tmp_path / "nomodel"), "--taxonomy", tax],
           "nomodel: no such directory")
    _fails(capsys, ["analyze", str(article), "--format", "jsonl", "-o", str(tmp_path / "no" / "p.jsonl")],
           "does not exist", "mkdir -p")


def test_analyze_into_an_unwritable_directory(capsys, tmp_path, monkeypatch, article):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK else real(p, mode, **kw))
    _fails(capsys, ["analyze", str(article), "-o", str(tmp_path / "p.txt")], "not writable by this user")


def test_analyze_a_corpus_to_parquet_and_resume(cached, capsys, tmp_path, tax):
    import pyarrow.dataset as ds

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _jsonl(corpus / "feed.jsonl", [{"id": f"d{i}", "text": ARTICLE, "outlet": f"o{i % 2}"} for i in range(6)])
    (corpus / "more.csv").write_text("id,text,section\nc1,The council slashed it.,local\n", encoding="utf-8")
    out = tmp_path / "preds"
    argv = ["analyze", str(corpus), "--out", str(out), "--taxonomy", tax, "--jobs", "1", "--partition-size", "8"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}: 25 sentences from 7 documents in 4 partitions (4 analysed now, 0 already done)" in err
    table = ds.dataset(str(out)).to_table()
    assert table.num_rows == 25 and {"outlet", "section"} <= set(table.schema.names)
    assert main(argv) == 0 and "(0 analysed now, 4 already done)" in capsys.readouterr().err


def test_a_bad_document_in_a_parquet_run(cached, capsys, tmp_path, tax):
    docs = _jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": ARTICLE}, {"id": "b", "text": ARTICLE}, "{not json\n"])
    out = tmp_path / "preds"
    argv = ["analyze", str(docs), "--out", str(out), "--taxonomy", tax, "--jobs", "1", "--partition-size", "4"]
    _fails(capsys, argv, "docs.jsonl:3: not valid JSON")
    written = sorted(p.name for p in out.glob("part-*.parquet"))
    assert len(written) == 2  # the good partitions are kept
    _jsonl(docs, [{"id": "a", "text": ARTICLE}, {"id": "b", "text": ARTICLE}, {"id": "c", "text": "Critics say so."}])
    assert main(argv) == 0 and "(1 analysed now, 2 already done)" in capsys.readouterr().err


@pytest.mark.parametrize("extra, needle", [
    (["--format", "jsonl", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler and --partition-size go with a Parquet dataset"),
    (["--format", "parquet"], "--format parquet writes a dataset directory: add --out DIR"),
], ids=["scheduler-without-out", "parquet-to-stdout"])
def test_parquet_option_errors(capsys, article, extra, needle):
    _fails(capsys, ["analyze", str(article), *extra], needle)


def test_parquet_without_the_corpus_extra(capsys, tmp_path, article, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    _fails(capsys, ["analyze", str(article), "--out", str(tmp_path / "preds")], "pip install 'slant[corpus]'")
    assert not (tmp_path / "preds").exists()


def test_an_unreachable_scheduler_is_reported_before_the_model_is_built(capsys, tmp_path, article):
    _fails(capsys, ["analyze", str(article), "--out", str(tmp_path / "preds"), "--scheduler", "tcp://127.0.0.1:9"],
           "--scheduler tcp://127.0.0.1:9: cannot reach a Dask scheduler there", "dask scheduler")
    assert not (tmp_path / "empty-cache").exists() and not (tmp_path / "preds").exists()


# --- train ---------------------------------------------------------------------------------

def test_train_a_standalone_model(capsys, tmp_path, tax, data):
    out = tmp_path / "new" / "deeper" / "model"  # missing parents are created
    assert main(["train", str(data), "--base", "none", "--cv", "2", "--out", str(out), "--taxonomy", tax]) == 0
    said = capsys.readouterr().out
    card = json.loads((out / "model-card.json").read_text(encoding="utf-8"))
    assert (out / "model.skops").is_file()
    assert said.startswith(f"trained {card['model_version']} on 24 sentences (24 reviewed, base none)")
    assert "cross-validated (2 folds by document)" in said
    assert f"wrote {out} (not registered" in said
    assert not (tmp_path / "xdg").exists()  # standalone: nothing registered
    assert card["training_data"]["files"][0]["path"] == str(data)


def test_train_leaves_out_records_with_unknown_labels(capsys, tmp_path, tax):
    records = _records()
    records[3] = {**records[3], "labels": ["no_such_label"]}
    data = _jsonl(tmp_path / "r.jsonl", records)
    assert main(["train", str(data), "--base", "none", "--cv", "2", "--out", str(tmp_path / "m"), "--taxonomy", tax]) == 0
    said = capsys.readouterr().out
    assert "on 23 sentences" in said and "labels the taxonomy does not know: no_such_label (1)" in said


def test_train_with_only_unknown_labels(capsys, tmp_path, tax):
    data = _jsonl(tmp_path / "r.jsonl", [{"id": "a", "doc_id": "d", "text": "A sentence.", "labels": ["no_such_label"]}])
    _fails(capsys, ["train", str(data), "--base", "none", "--cv", "2", "--out", str(tmp_path / "m"), "--taxonomy", tax],
           "no adjudicated reviewed sentences to train on", "unknown labels")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("lines, needles", [
    (None, ["missing.jsonl: no such file; check the path"]),
    (["{not json\n"], ["r.jsonl:2: not valid JSON", "fix or remove the line"]),
    (['{"id": "x", "doc_id": "d", "text": "Hi."}\n'], ["r.jsonl:2: 'labels' is a required property", "add the missing field"]),
    (['["a list"]\n'], ["r.jsonl:2: expected a JSON object, got list"]),
], ids=["missing-file", "bad-json", "no-labels", "not-an-object"])
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_train_and_evaluate_bad_input(capsys, tmp_path, tax, command, lines, needles):
    path = tmp_path / "missing.jsonl" if lines is None else _jsonl(tmp_path / "r.jsonl", [_records()[0], *lines])
    argv = [command, str(path), "--cv", "2", "--taxonomy", tax] + (["--base", "none", "--out", str(tmp_path / "m")]
                                                                   if command == "train" else [])
    _fails(capsys, argv, *needles)
    assert not (tmp_path / "m").exists()


def test_train_into_an_unwritable_directory(capsys, tmp_path, monkeypatch, tax, data):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK else real(p, mode, **kw))
    _fails(capsys, ["train", str(data), "--base", "none", "--cv", "2", "--out", str(tmp_path / "m"), "--taxonomy", tax],
           "not writable by this user")


# --- evaluate ------------------------------------------------------------------------------

def test_evaluate_cross_validation_into_a_file(capsys, tmp_path, tax, data):
    out = tmp_path / "report.json"
    assert main(["evaluate", str(data), "--cv", "2", "--taxonomy", tax, "--format", "json", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    report = json.loads(out.read_text(encoding="utf-8"))
    assert not list(Draft202012Validator(schema("evaluation")).iter_errors(report))
    assert report["method"] == "cross-validation" and report["folds"] == 2
    assert report["data"]["sentences"] == 24 and report["data"]["documents"] == 6
    assert set(report["categories"]) == set(IDS)
    assert report["categories"]["loaded_language"]["support"] == 6
    assert captured.out == "" and f"wrote {out}" in captured.err
    assert captured.err.count("held-out sentences in") == 2


def test_evaluate_a_trained_model_as_a_table(capsys, tmp_path, tax, data):
    model = tmp_path / "m"
    assert main(["train", str(data), "--base", "none", "--cv", "2", "--out", str(model), "--taxonomy", tax]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(data), "--model", str(model), "--taxonomy", tax]) == 0
    table = capsys.readouterr().out
    assert "loaded_language" in table and "attribution_vague" in table and "macro average" in table


def test_evaluate_errors(capsys, tmp_path, tax, data):
    _fails(capsys, ["evaluate", str(data), "--cv", "2", "--taxonomy", tax, "--combine", "loaded_language+nope"],
           "'nope' is not a category id")
    _fails(capsys, ["evaluate", str(data), "--cv", "2", "--taxonomy", tax, "-o", str(tmp_path / "no" / "r.json")],
           "does not exist")
    _fails(capsys, ["evaluate", str(data), "--encoder", "minilm", "--taxonomy", tax], "--encoder goes with --cv K")
    _fails(capsys, ["evaluate", str(data), "--model", str(tmp_path / "none"), "--taxonomy", tax], "no such directory")


@pytest.mark.parametrize("argv", [
    ["train", "{missing}", "--models", "{file}"],                      # a registry path that is a file
    ["train", "{missing}", "--encoder", "minilm", "--models", "{dir}"],  # an encoder model in the registry
    ["evaluate", "{missing}", "--encoder", "minilm"],                  # --encoder without --cv
    ["evaluate", "{missing}", "--model", "{dir}/nomodel"],             # a model that does not exist
    ["analyze", "{missing}", "--model", "{dir}/nomodel"],
], ids=["train-registry-file", "train-encoder", "evaluate-encoder", "evaluate-model", "analyze-model"])
def test_a_missing_input_file_is_reported_before_anything_else(capsys, tmp_path, argv):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    values = {"missing": str(tmp_path / "missing.jsonl"), "file": str(tmp_path / "afile"), "dir": str(tmp_path)}
    _fails(capsys, [a.format(**values) for a in argv], "missing.jsonl: no such file; check the path")
