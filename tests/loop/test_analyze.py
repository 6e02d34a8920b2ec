"""analyze: streaming predictions, JSONL records, the table, the standalone HTML page (and a
real-browser check of it), and the CLI."""

import json
import os
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from slant._files import sample_article_path, schema
from slant.cli.main import main
from slant.errors import InputError
from slant.loop.analyze import analyze, continues, iter_predictions
from slant.loop.analyze_html import render_html_page
from slant.model.slantmodel import Prediction
from slant.text.documents import make_document

ARTICLE = """Council Slashes Library Hours

By Dana Whitcombe

The city council voted 6-3 on Tuesday to cut library hours at four branches, a move critics say will gut services for families.

“This is a shameful power grab,” said council member Rosa Delgado. The so-called “savings” amount to 2 percent of the budget, officials said.

Can residents really trust a council that hides <script>alert("x")</script> & other tricks?
"""


@pytest.fixture
def article(tmp_path):
    path = tmp_path / "library.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "docs.jsonl"
    docs = [
        {"id": "a1", "text": "Critics say the scheme is a disaster. The board met on Monday.", "title": "One"},
        {"id": "a2", "text": "Senator Ana Ruiz said the plan would fail. Rents rose 40 percent."},
    ]
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


class CountingModel:
    """A fake model that records batch sizes (for the streaming test)."""

    model_version = "fake-1"

    def __init__(self):
        self.calls = []

    def predict(self, texts, *, explain=True):
        self.calls.append(len(texts))
        return [Prediction(labels=[], scores={"x": 0.0}, spans=[], uncertainty=0.0) for _ in texts]


def test_iter_predictions_batches_across_documents_in_order():
    docs = [make_document(" ".join(f"Sentence {d} {i} is here." for i in range(n)), doc_id=f"d{d}") for d, n in enumerate([3, 4, 2, 9, 1])]
    model = CountingModel()
    out = list(iter_predictions(docs, model, batch_size=5))
    assert [doc.id for doc, _ in out] == ["d0", "d1", "d2", "d3", "d4"]
    assert [len(pairs) for _, pairs in out] == [3, 4, 2, 9, 1]
    assert all(s.text == doc.sentences[k].text for doc, pairs in out for k, (s, _) in enumerate(pairs))
    # 3+4 fill a batch; 2 waits; the 9-sentence document goes alone, in runs that end with a
    # paragraph (its one paragraph is under 2 batches, so one run).
    assert model.calls == [7, 2, 9, 1]
    assert max(model.calls) <= 2 * 5
    # a longer document comes in several runs of whole paragraphs: the same document each
    # time, later runs starting past sentence 0 (`continues`)
    long = make_document("\n\n".join(f"Part {p} one is here. Part {p} two is here." for p in range(6)), doc_id="long")
    runs = list(iter_predictions([long], CountingModel(), batch_size=3))
    assert [len(pairs) for _, pairs in runs] == [4, 4, 4] and all(doc is long for doc, _ in runs)
    assert [continues(pairs) for _, pairs in runs] == [False, True, True]


def test_jsonl_records_follow_schema(default_model, article, corpus, tmp_path):
    out = tmp_path / "pred.jsonl"
    counts = analyze([article, corpus], model=default_model, fmt="jsonl", out=out)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert counts == {"documents": 3, "sentences": len(lines), "labelled": sum(1 for r in lines if r["labels"])}
    validator = Draft202012Validator(schema("prediction"))
    texts = {"library": ARTICLE}
    for r in lines:
        assert not list(validator.iter_errors(r)), r
        assert r["model_version"] == default_model.model_version
        assert set(r) >= {"doc_id", "sentence_index", "start", "end", "text", "labels", "scores", "spans",
                          "model_version", "uncertainty", "doc_title", "source", "paragraph", "kind"}
        if r["doc_id"] in texts:
            assert texts[r["doc_id"]][r["start"]:r["end"]] == r["text"]
        for s in r["spans"]:
            assert r["text"][s["start"]:s["end"]] == s["text"]
            assert s["label"] in r["labels"]
    assert [r["doc_id"] for r in lines if r["source"] == "docs.jsonl"][:1] == ["a1"]
    assert lines[0]["kind"] == "title" and lines[1]["kind"] == "byline"
    flagged = {r["text"]: r["labels"] for r in lines}
    assert "attribution_vague" in flagged["Critics say the scheme is a disaster."]


def test_jsonl_records_carry_the_document_metadata(default_model, tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "m1", "text": "Critics say it failed. Rents rose.", "outlet": "Harbor Herald",
                                "date": "2024-02-03", "url": "https://news.example/m1", "labels": "x"}) + "\n",
                    encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    analyze([docs], model=default_model, fmt="jsonl", out=out)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    for r in lines:
        assert (r["outlet"], r["date"], r["url"], r["source"]) == ("Harbor Herald", "2024-02-03", "https://news.example/m1",
                                                                   "https://news.example/m1")
        assert isinstance(r["labels"], list)  # a metadata field never overrides a prediction field


def test_parallel_jsonl_equals_serial(default_model, article, corpus, tmp_path):
    serial, parallel = tmp_path / "serial.jsonl", tmp_path / "parallel.jsonl"
    a = analyze([article, corpus, article], model=default_model, fmt="jsonl", out=serial, batch_size=3)
    b = analyze([article, corpus, article], model=default_model, fmt="jsonl", out=parallel, batch_size=3, jobs=2)
    assert a == b
    assert serial.read_bytes() == parallel.read_bytes()
    with pytest.raises(InputError, match=r"jobs=0: use 1 or more worker processes"):
        analyze([article], model=default_model, fmt="jsonl", jobs=0)


def test_parallel_reports_a_bad_line_from_a_worker(default_model, tmp_path):
    """Workers parse and split the lines, so a bad line's error comes back from one of
    them: the same message, and no output file left behind."""
    path = tmp_path / "docs.jsonl"
    good = [json.dumps({"id": f"d{i}", "text": "Critics say the plan failed. Officials disagree."}) for i in range(6)]
    path.write_text("\n".join(good + ['{"id": "bad", "text": ""}']) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match=r"docs\.jsonl:7: \"text\" of document 'bad' is empty or not a string"):
        analyze([path], model=default_model, fmt="jsonl", out=out, batch_size=3, jobs=2)
    assert not out.exists() and not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".out.jsonl*"))


def test_analyze_restores_blas_threads(default_model, article, tmp_path):
    from threadpoolctl import threadpool_info

    before = [p["num_threads"] for p in threadpool_info()]
    analyze([article], model=default_model, fmt="jsonl", out=tmp_path / "out.jsonl")
    assert [p["num_threads"] for p in threadpool_info()] == before


def test_default_jobs_start_workers_only_for_more_than_one_batch(default_model, article, corpus, tmp_path, monkeypatch):
    import multiprocessing.pool

    from slant.loop import analyze as analyze_module

    started = []
    real = multiprocessing.pool.Pool.__init__

    def spy(self, *args, **kwargs):
        started.append(args[0] if args else kwargs.get("processes"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(multiprocessing.pool.Pool, "__init__", spy)
    real_default = analyze_module.default_jobs
    assert 1 <= real_default() <= min(4, os.cpu_count())
    monkeypatch.setattr(analyze_module, "default_jobs", lambda: 2)
    serial, small, large = (tmp_path / f"{n}.jsonl" for n in ("serial", "small", "large"))
    analyze([article, corpus], model=default_model, fmt="jsonl", out=serial, batch_size=3)
    analyze([article, corpus], model=default_model, fmt="jsonl", out=small, batch_size=100_000, jobs=None)
    assert started == [] and small.read_bytes() == serial.read_bytes()
    analyze([article, corpus], model=default_model, fmt="jsonl", out=large, batch_size=3, jobs=None)
    assert started == [2] and large.read_bytes() == serial.read_bytes()


def test_table_output(default_model, article, tmp_path):
    out = tmp_path / "table.txt"
    analyze([article], model=default_model, fmt="table", out=out)
    text = out.read_text(encoding="utf-8")
    assert "Council Slashes Library Hours" in text and "- loaded_language " in text and '"shameful' in text
    assert "\x1b[" not in text  # no colour codes in files
    assert max(len(line) for line in text.splitlines()) <= 80


def test_html_page_is_standalone_and_escaped(default_model, article):
    doc = next(iter(__import__("slant.text.documents", fromlist=["read_documents"]).read_documents([article])))
    pairs = list(zip(doc.sentences, default_model.predict([s.text for s in doc.sentences])))
    page = render_html_page([(doc, pairs)], default_model, title='Report <"&">')
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "&amp; other tricks" in page and "<title>Report &lt;&quot;&amp;&quot;&gt;</title>" in page
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page) and "<link" not in page and "url(" not in page
    for c in default_model.taxonomy.categories:
        assert f'data-label="{c.id}"' in page and c.color in page
    assert page.count('class="sent') == len(doc.sentences)
    assert '<mark class="hl"' in page


def test_html_overlapping_spans_render_once(default_model):
    doc = make_document("Critics say the scheme failed.", doc_id="x")
    spans = [
        {"start": 0, "end": 11, "label": "attribution_vague", "text": "Critics say", "weight": 1.0, "cue": "vague_sources"},
        {"start": 8, "end": 22, "label": "loaded_language", "text": "say the scheme", "weight": 1.0, "cue": None},
    ]
    pred = Prediction(labels=["attribution_vague", "loaded_language"], scores={}, spans=spans, uncertainty=0.1)
    page = render_html_page([(doc, [(doc.sentences[0], pred)])], default_model)
    body = re.sub(r"<[^>]+>", "", page.split('<span class="sent', 1)[1].split("</span>", 1)[0].split(">", 1)[1])
    assert body == "Critics say the scheme failed."
    assert 'data-labels="attribution_vague loaded_language"' in page


def test_analyze_errors(default_model, article, tmp_path):
    with pytest.raises(InputError, match=r"format 'pdf' is not supported; use one of table, jsonl, html"):
        analyze([article], model=default_model, fmt="pdf")
    with pytest.raises(InputError, match=r"no input files; pass one or more \.txt, \.md, \.html or \.jsonl files"):
        analyze([], model=default_model, fmt="jsonl")
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match=r"missing\.txt: no such file; check the path"):
        analyze([article, tmp_path / "missing.txt"], model=default_model, fmt="jsonl", out=out)
    assert not out.exists() and not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".out.jsonl*"))


def test_cli_analyze(default_model_cache, article, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(default_model_cache))
    out = tmp_path / "page.html"
    assert main(["analyze", str(article), "--format", "html", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["analyze", str(article), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 6 and json.loads(lines[0])["doc_id"] == "library"
    assert main(["analyze", str(tmp_path / "nope.txt")]) == 1
    assert "nope.txt: no such file" in capsys.readouterr().err


def test_cli_analyze_refuses_model_for_other_taxonomy(default_model_cache, article, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(default_model_cache))
    model_dir = next((default_model_cache / "models").iterdir())
    tax = json.loads(Path(__import__("slant._files", fromlist=["x"]).default_taxonomy_path()).read_text())
    tax["id"] = "other"
    (tmp_path / "other.json").write_text(json.dumps(tax))
    assert main(["analyze", str(article), "--model", str(model_dir), "--taxonomy", str(tmp_path / "other.json")]) == 1
    assert "was built for taxonomy rhetoric" in capsys.readouterr().err


@pytest.mark.browser
def test_html_in_chromium(default_model, tmp_path):
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install 'slant[dev]')")
    page_path = tmp_path / "sample.html"
    analyze([sample_article_path()], model=default_model, fmt="html", out=page_path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            legend = page.locator(".legend li")
            assert legend.count() == len(default_model.taxonomy.categories)
            name, cut = legend.first.inner_text().split("\n")
            assert name == default_model.taxonomy.categories[0].name and cut.startswith("≥ 0.")
            sentences = page.locator("span.sent")
            assert sentences.count() >= 10
            marks = page.locator("mark.hl")
            assert marks.count() >= 3
            first = marks.first
            assert first.get_attribute("data-labels")
            assert "rgba" in first.evaluate("m => getComputedStyle(m).backgroundColor")
            assert page.locator("table.scores tbody tr").count() == sentences.count()
            assert page.locator("article h2").first.inner_text().startswith("Harbor Bridge")
            assert [u for u in requests if not u.startswith("file://")] == []
            shot = tmp_path / "analyze.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()


def test_output_file_is_replaced_whole_or_not_at_all(default_model, article, tmp_path):
    out = tmp_path / "page.html"
    out.write_text("old", encoding="utf-8")
    with pytest.raises(InputError):
        analyze([article, tmp_path / "missing.txt"], model=default_model, fmt="html", out=out, title="T")
    assert out.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([Path(article).name, "page.html"])
    counts = analyze([article], model=default_model, fmt="html", out=out, title="T")
    doc = next(iter(__import__("slant.text.documents", fromlist=["read_documents"]).read_documents([article])))
    pairs = list(zip(doc.sentences, default_model.predict([s.text for s in doc.sentences])))
    assert out.read_bytes() == render_html_page([(doc, pairs)], default_model, title="T").encode("utf-8")
    assert counts == {"documents": 1, "sentences": len(doc.sentences), "labelled": sum(1 for _, p in pairs if p.labels)}


class _BigFakeModel:
    """Thirteen scores and a span per sentence, like the real model; keeps nothing."""

    model_version = "fake-big"
    estimator = None
    categories = [f"category_{i}" for i in range(13)]

    def predict(self, texts, *, explain=True):
        c = self.categories
        return [Prediction(labels=c[:2], scores=dict.fromkeys(c, 0.5),
                           spans=[{"start": 0, "end": 3, "label": c[0], "text": t[:3]}], uncertainty=0.5) for t in texts]


def _one_long_document(path, paragraphs):
    para = "The council voted on Tuesday to cut library hours at four branches. Critics say it will gut services. " * 3
    path.write_text("Big Document\n\n" + "\n\n".join(f"{para}Item {i} ends it." for i in range(paragraphs)), encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_long_single_document_streams_in_flat_memory(tmp_path, jobs):
    """Peak memory grows far slower than the document: predictions and output are held
    one run of paragraphs at a time (it was ~140 bytes per input byte, all held)."""
    import tracemalloc

    from slant.text.segment import load_splitter

    load_splitter()
    peaks, sizes = [], []
    for n in (600, 2400):
        path = _one_long_document(tmp_path / f"big{n}.txt", n)
        tracemalloc.start()
        counts = analyze([path], model=_BigFakeModel(), fmt="jsonl", out=tmp_path / f"o{n}.jsonl", batch_size=500, jobs=jobs)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        sizes.append(path.stat().st_size)
        assert counts == {"documents": 1, "sentences": 7 * n + 1, "labelled": 7 * n + 1}
        lines = (tmp_path / f"o{n}.jsonl").read_bytes().splitlines()
        assert [json.loads(x)["sentence_index"] for x in lines[:: 997]] == list(range(0, 7 * n + 1, 997))
    per_byte = (peaks[1] - peaks[0]) / (sizes[1] - sizes[0])
    assert per_byte < 20, f"{per_byte:.0f} bytes of peak memory per input byte"
    assert peaks[1] < 3 * peaks[0]
