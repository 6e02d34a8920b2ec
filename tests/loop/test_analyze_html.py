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
