"""cli.agreement: `slant agreement` on a reviewed-label file with two annotators' annotations
(every format, to stdout and to a file, --by, --plots) and its error paths."""

import json
import os

import pytest

from slant.cli.main import main

A, B = "ann1@example.org", "ann2@example.org"


def _records():
    """Eight sentences: the annotators agree on loaded_language everywhere and on doubt in
    six of eight (observed 0.75, Cohen's kappa 1/3 by hand: p_e = .25*.25 + .75*.75)."""
    out = []
    for i in range(8):
        loaded = ["loaded_language"] if i % 2 == 0 else []
        out.append({"id": f"s{i}", "doc_id": f"d{i // 4}", "text": f"Sentence number {i}.", "labels": loaded,
                    "annotations": [{"annotator": A, "labels": loaded + (["doubt"] if i in (0, 1) else [])},
                                    {"annotator": B, "labels": loaded + (["doubt"] if i in (0, 2) else [])}],
                    "data": {"outlet": "Daily" if i < 4 else "Weekly"}})
    return out


def _jsonl(path, lines):
    path.write_text("".join(x if isinstance(x, str) else json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


@pytest.fixture
def reviewed(tmp_path):
    return _jsonl(tmp_path / "reviewed.jsonl", _records())


def _fails(capsys, argv, *needles):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("error: ") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def test_json_report_into_a_file(capsys, tmp_path, reviewed):
    out = tmp_path / "agreement.json"
    assert main(["agreement", str(reviewed), "--format", "json", "--bootstrap", "0", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and f"wrote {out}" in captured.err
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["source"] == str(reviewed) and report["taxonomy"]["id"] == "rhetoric"
    assert report["summary"]["records"] == 8 and report["summary"]["annotators"] == 2
    assert report["summary"]["annotations"] == 16 and report["summary"]["units_multi"] == 8
    cats = {c["id"]: c for c in report["categories"]}
    assert cats["loaded_language"]["observed_agreement"] == 1.0 and cats["loaded_language"]["cohen_kappa"] == 1.0
    assert cats["doubt"]["observed_agreement"] == 0.75
    assert cats["doubt"]["cohen_kappa"] == pytest.approx(1 / 3)
    assert cats["doubt"]["alpha_ci"] is None  # --bootstrap 0: no intervals


def test_bootstrap_gives_intervals(capsys, reviewed):
    assert main(["agreement", str(reviewed), "--format", "json", "--bootstrap", "50", "--seed", "3"]) == 0
    doubt = next(c for c in json.loads(capsys.readouterr().out)["categories"] if c["id"] == "doubt")
    low, high = doubt["alpha_ci"]
    assert low <= doubt["alpha"] <= high and low < high


@pytest.mark.parametrize("fmt, marker", [("table", "Agreement per category"), ("csv", "group_field,group_value,category"),
                                         ("md", "# Agreement report"), ("html", "<")])
def test_formats_to_stdout(capsys, reviewed, fmt, marker):
    assert main(["agreement", str(reviewed), "--format", fmt, "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert marker in out and "loaded_language" in out


def test_csv_rows_hold_the_numbers(capsys, reviewed):
    import csv

    assert main(["agreement", str(reviewed), "--format", "csv", "--bootstrap", "0"]) == 0
    rows = {r["category"]: r for r in csv.DictReader(capsys.readouterr().out.splitlines())}
    assert float(rows["doubt"]["observed_agreement"]) == 0.75 and float(rows["loaded_language"]["cohen_kappa"]) == 1.0


def test_by_a_task_data_field(capsys, reviewed):
    assert main(["agreement", str(reviewed), "--by", "outlet", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "outlet = Daily (4 records" in out and "outlet = Weekly (4 records" in out
    _fails(capsys, ["agreement", str(reviewed), "--by", "region", "--bootstrap", "0"],
           "--by region: no record has a data field 'region'", "outlet")


def test_plots_into_a_new_directory(capsys, tmp_path, reviewed):
    plots = tmp_path / "new" / "plots"
    assert main(["agreement", str(reviewed), "--bootstrap", "0", "--plots", str(plots), "-o", str(tmp_path / "r.md"),
                 "--format", "md"]) == 0
    err = capsys.readouterr().err
    assert (plots / "alpha.png").read_bytes()[:4] == b"\x89PNG" and (plots / "kappa.png").is_file()
    assert f"wrote {plots / 'alpha.png'}" in err and (tmp_path / "r.md").read_text().startswith("# Agreement report")


# --- errors ------------------------------------------------------------------------------

def test_missing_file(capsys, tmp_path):
    _fails(capsys, ["agreement", str(tmp_path / "nope.jsonl")], "nope.jsonl: no such file")


def test_a_directory_for_the_file(capsys, tmp_path):
    _fails(capsys, ["agreement", str(tmp_path)], "is a directory")


def test_bad_json_line(capsys, tmp_path):
    path = _jsonl(tmp_path / "r.jsonl", [_records()[0], "{not json\n"])
    _fails(capsys, ["agreement", str(path)], "r.jsonl:2: not valid JSON", "fix or remove the line")


def test_unknown_labels(capsys, tmp_path):
    records = _records()
    records[1]["annotations"][0]["labels"] = ["Propaganda"]
    _fails(capsys, ["agreement", str(_jsonl(tmp_path / "r.jsonl", records)), "--bootstrap", "0"],
           "labels unknown to taxonomy rhetoric 1.0.0: 'Propaganda' (1)", "--taxonomy")


def test_record_without_an_annotator(capsys, tmp_path):
    records = _records()
    del records[2]["annotations"][1]["annotator"]
    _fails(capsys, ["agreement", str(_jsonl(tmp_path / "r.jsonl", records))],
           "r.jsonl:3: annotations[1]: 'annotator' is a required property")


def test_a_single_annotator(capsys, tmp_path):
    records = [{**r, "annotations": r["annotations"][:1]} for r in _records()]
    _fails(capsys, ["agreement", str(_jsonl(tmp_path / "r.jsonl", records)), "--bootstrap", "0"],
           "agreement needs at least two annotators per unit", A)


def test_negative_bootstrap(capsys, reviewed):
    _fails(capsys, ["agreement", str(reviewed), "--bootstrap", "-1"], "bootstrap=-1")


def test_file_and_project_together(capsys, reviewed):
    _fails(capsys, ["agreement", str(reviewed), "--project", "p"], "not both")


def test_project_on_an_unreachable_server(capsys, tmp_path):
    _fails(capsys, ["agreement", "--project", "p", "--url", "http://127.0.0.1:9", "--api-key", "k",
                    "--data-dir", str(tmp_path / "studio")], "cannot reach Label Studio at http://127.0.0.1:9")


def test_output_checked_before_reading(capsys, tmp_path, reviewed):
    _fails(capsys, ["agreement", str(reviewed), "-o", str(tmp_path / "no" / "a.txt")], "does not exist", "mkdir -p")
    (tmp_path / "f").write_text("x")
    _fails(capsys, ["agreement", str(reviewed), "--plots", str(tmp_path / "f" / "plots")], "--plots", "is a file")


def test_unwritable_output(capsys, tmp_path, monkeypatch, reviewed):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK else real(p, mode, **kw))
    _fails(capsys, ["agreement", str(reviewed), "-o", str(tmp_path / "a.txt")], "not writable by this user")
    assert not (tmp_path / "a.txt").exists()
