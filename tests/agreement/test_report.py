import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from slant._files import schema
from slant.agreement.core import compute_agreement
from slant.agreement.report import render, render_table, save_plots, to_csv, to_html, to_json, to_markdown
from slant.cli.main import main
from slant.errors import InputError
from slant.taxonomy.core import load_taxonomy

TAX = load_taxonomy()
EVIL = '<script>window.__pwned = 1</script>"&'
PNG = b"\x89PNG\r\n\x1a\n"


def _records():
    """Three annotators (one with a hostile name), two outlets, spans and two model versions."""
    ids = ["loaded_language", "doubt", "attribution_vague"]
    patterns = [([0], [0], [0, 1]), ([], [], []), ([1], [1], []), ([0, 2], [2], [0, 2]), ([], [1], []),
                ([2], [2], [2]), ([0], [], [0]), ([1, 2], [1, 2], [1])]
    out = []
    for i in range(40):
        p = patterns[i % len(patterns)]
        anns = [{"annotator": who, "labels": [ids[k] for k in labs],
                 "spans": [{"start": 0, "end": 4 + (who == EVIL), "label": "loaded_language"}] if 0 in labs else []}
                for who, labs in zip(["ana@example.org", "ben@example.org", EVIL], p) if not (i % 5 == 0 and who == EVIL)]
        out.append({"id": f"s{i}", "doc_id": f"d{i // 10}", "text": "A sentence.", "labels": [ids[k] for k in p[0]],
                    "annotations": anns, "data": {"outlet": "north" if i % 2 else "south <b>"},
                    "prediction": {"labels": [ids[k] for k in p[1]], "scores": {}, "model_version": f"v{i % 2}"}})
    return out


@pytest.fixture(scope="module")
def report():
    return compute_agreement(_records(), TAX, by="outlet", bootstrap=200, seed=3, source="fixture.jsonl")


def test_json_follows_schema(report):
    Draft202012Validator.check_schema(schema("agreement"))
    data = json.loads(to_json(report))
    errors = list(Draft202012Validator(schema("agreement")).iter_errors(data))
    assert not errors, [e.message for e in errors]
    assert data["settings"] == {"bootstrap": 200, "seed": 3, "confidence": 0.95, "by": "outlet"}


def test_csv_has_one_row_per_category_and_group(report):
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    n = len(report["categories"]) + 1
    assert len(rows) == n * 3  # overall + two outlets, each with a (mean) row
    first = rows[0]
    assert first["category"] == "loaded_language" and float(first["alpha"]) == pytest.approx(report["categories"][0]["alpha"])
    assert float(first["alpha_low"]) == pytest.approx(report["categories"][0]["alpha_ci"][0])
    assert {r["group_value"] for r in rows} == {"", "north", "south <b>"}


def test_markdown_and_table_show_every_section(report):
    md = to_markdown(report)
    for title in ("## Agreement per category", "## Cohen's κ per annotator pair", "## Annotators",
                  "## Span agreement", "## Model as annotator", "## outlet = north"):
        assert title in md
    assert "| loaded_language |" in md
    text = render_table(report)
    assert "loaded_language" in text and "Krippendorff" not in text and "\x1b[" not in text
    assert "\x1b[" in render_table(report, color=True)


def test_html_escapes_everything(report):
    page = to_html(report)
    assert "<script>" not in page and "&lt;script&gt;window.__pwned" in page
    assert "south &lt;b&gt;" in page
    assert page.count("data:image/png;base64,") == 2


def test_plots_are_png(tmp_path, report):
    written = save_plots(report, tmp_path / "plots")
    assert [p.name for p in written] == ["alpha.png", "kappa.png"]
    assert all(p.read_bytes().startswith(PNG) for p in written)


def test_unknown_format(report):
    with pytest.raises(InputError, match=r"unknown report format 'xlsx'; use one of table, json, csv, md, html"):
        render(report, "xlsx")


# --- CLI ---------------------------------------------------------------------------------

@pytest.fixture
def reviewed(tmp_path):
    path = tmp_path / "reviewed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt, check", [
    ("json", lambda t: json.loads(t)["summary"]["annotators"] == 3),
    ("csv", lambda t: t.startswith("group_field,group_value,category")),
    ("md", lambda t: t.startswith("# Agreement report")),
    ("html", lambda t: t.startswith("<!doctype html>")),
    ("table", lambda t: "Agreement per category" in t),
], ids=["json", "csv", "md", "html", "table"])
def test_cli_formats(tmp_path, reviewed, fmt, check):
    out = tmp_path / f"report.{fmt}"
    assert main(["agreement", str(reviewed), "--format", fmt, "-o", str(out), "--bootstrap", "50",
                 "--by", "outlet", "--plots", str(tmp_path / "plots")]) == 0
    assert check(out.read_text(encoding="utf-8"))
    assert (tmp_path / "plots" / "alpha.png").read_bytes().startswith(PNG)


def test_cli_stdout_and_seed(reviewed, capsys):
    assert main(["agreement", str(reviewed), "--format", "json", "--bootstrap", "30", "--seed", "7"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["agreement", str(reviewed), "--format", "json", "--bootstrap", "30", "--seed", "7"]) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert first["settings"]["seed"] == 7


@pytest.mark.parametrize("argv, message", [
    (["agreement"], "pass a reviewed-label FILE.jsonl"),
    (["agreement", "{missing}"], "no such file"),
    (["agreement", "{one}"], "agreement needs at least two annotators per unit"),
    (["agreement", "{reviewed}", "--taxonomy", "{missing}"], "taxonomy .*no such file"),
    (["agreement", "{reviewed}", "--bootstrap", "-5"], "bootstrap=-5"),
], ids=["no-file", "missing-file", "one-annotator", "missing-taxonomy", "negative-bootstrap"])
def test_cli_errors_exit_1_without_traceback(tmp_path, reviewed, capsys, argv, message):
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"id": 1, "doc_id": "d", "text": "t", "labels": [],
                               "annotations": [{"annotator": "solo", "labels": []}]}) + "\n")
    paths = {"missing": tmp_path / "missing.jsonl", "one": one, "reviewed": reviewed}
    assert main([a.format(**paths) for a in argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert __import__("re").search(message, err)


# --- a real browser ------------------------------------------------------------------------

@pytest.mark.browser
def test_html_report_in_chromium(tmp_path, report):
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not chromium:
        pytest.skip("Debian's Chromium is not installed (/usr/bin/chromium); `apt-get install -y chromium` as root")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    page_file = tmp_path / "report.html"
    page_file.write_text(to_html(report), encoding="utf-8")
    shots = Path(__file__).resolve().parent.parent / "test-output"
    shots.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(page_file.as_uri())
            assert page.title() == "Agreement report: fixture.jsonl"
            rows = page.locator("#categories tbody tr")
            assert rows.count() == len(report["categories"]) + 1
            assert rows.first.locator("td").first.inner_text() == "loaded_language"
            assert page.locator("#annotators").inner_text().count(EVIL) == 1  # shown as text ...
            assert page.evaluate("window.__pwned") is None  # ... never run
            for pid in ("alpha", "kappa"):
                img = page.locator(f"#plot-{pid} img")
                img.scroll_into_view_if_needed()
                assert page.evaluate("(el) => el.complete && el.naturalWidth > 100", img.element_handle())
            assert page.locator("section[id^='group-']").count() == 2
            page.screenshot(path=str(shots / "agreement_report.png"), full_page=True)
        finally:
            browser.close()
    assert (shots / "agreement_report.png").read_bytes().startswith(PNG)
