"""The HTML page of `slant analyze` (slant.loop.analyze_html), with a stand-in model."""

import io
from types import SimpleNamespace

from slant.loop.analyze_html import label_colors, render_document_html, render_html_page, write_html
from slant.model.slantmodel import Prediction
from slant.taxonomy.config import PALETTE
from slant.taxonomy.core import load_taxonomy
from slant.text.documents import make_document

TAX = load_taxonomy()
MODEL = SimpleNamespace(taxonomy=TAX, model_version="test-1")


def _pairs(doc, labels=()):
    return [(s, Prediction(labels=list(labels), scores={}, spans=[], uncertainty=0.0)) for s in doc.sentences]


def test_label_colors_use_own_colour_else_palette():
    colors = label_colors(TAX)
    assert list(colors) == list(TAX.ids)
    for i, c in enumerate(TAX.categories):
        assert colors[c.id] == (c.color or PALETTE[i % len(PALETTE)])


def test_write_html_streams_the_same_page_as_render():
    doc = make_document("Headline\n\nOne thing. Another.", doc_id="d1")
    buf = io.StringIO()
    write_html(iter([(doc, _pairs(doc))]), MODEL, buf, title="T")
    page = buf.getvalue()
    assert page == render_html_page([(doc, _pairs(doc))], MODEL, title="T")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</main></body></html>\n")
    assert "model test-1" in page and f"taxonomy {TAX.id} {TAX.version}" in page


def test_document_html_escapes_and_lists_every_sentence():
    doc = make_document("A <b>bold</b> & plain claim. Second one.", doc_id='x"y', source="<src>")
    part = render_document_html(doc, _pairs(doc, labels=[TAX.ids[0]]), TAX)
    assert part.startswith('<article class="doc" data-doc-id="x&quot;y">')
    assert "&lt;src&gt;" in part and "<b>" not in part and "&amp; plain" in part
    assert part.count('class="sent') == len(doc.sentences)


def test_empty_results_make_an_empty_page():
    page = render_html_page([], MODEL)
    assert "<article" not in page and page.endswith("</main></body></html>\n")


def _thresholded_model():
    ids = list(TAX.ids)
    cuts = [0.5] * len(ids)
    cuts[ids.index("unattributed_claim")] = 0.14
    est = SimpleNamespace(classes_=ids, thresholds_=cuts)
    return SimpleNamespace(taxonomy=TAX, model_version="test-1", estimator=est)


def test_the_page_explains_per_category_thresholds():
    # a labelled 0.17 beside an unlabelled 0.39 is explained, not left to puzzle over
    doc = make_document("Work on the new span continued this week.", doc_id="d1")
    pred = Prediction(["unattributed_claim"], {"unattributed_claim": 0.17, "doubt": 0.39}, [], 0.9)
    page = render_html_page([(doc, [(doc.sentences[0], pred)])], _thresholded_model(), title="T")
    assert "Each category has its own threshold" in page and "a 0.17 can be labelled while a 0.39" in page
    assert '<li data-label="unattributed_claim">' in page and "≥ 0.14</span></li>" in page
    row = page[page.index('<tr data-index="0">'):]
    assert 'class="p-yes">Unattributed claim 0.17<span class="cut"> ≥ 0.14' in row
    assert 'class="p-no">Casting doubt 0.39<span class="cut"> &lt; 0.50' in row


def test_a_probability_at_its_threshold_shows_three_decimals():
    doc = make_document("A sentence.", doc_id="d1")
    pred = Prediction([], {"unattributed_claim": 0.138}, [], 0.9)
    page = render_html_page([(doc, [(doc.sentences[0], pred)])], _thresholded_model(), title="T")
    assert "Unattributed claim 0.138<span class=\"cut\"> &lt; 0.140" in page


def test_the_table_shows_the_whole_sentence_and_the_text_keeps_its_paragraphs():
    long = "The council " + "really " * 40 + "voted <late> & left."
    doc = make_document(f"Headline\n\nFirst paragraph one. {long}\n\nSecond paragraph here.", doc_id="d1")
    part = render_document_html(doc, _pairs(doc), TAX)
    body = part[:part.index('<table class="scores">')]
    table = part[part.index('<table class="scores">'):]
    assert body.count("<p>") == 2 and "…" not in table
    assert "really " * 40 + "voted &lt;late&gt; &amp; left." in table and "<late>" not in part
