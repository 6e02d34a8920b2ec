"""analyze_table: evidence words in the table, plain text at 80 columns when piped, and no
control character of an article ever reaching the terminal."""

import io
import re
from types import SimpleNamespace

import pytest

from slant.loop.analyze import _Counter
from slant.loop.analyze_table import PLAIN_WIDTH, safe_text, write_table
from slant.model.slantmodel import Prediction
from slant.text.documents import make_document

LONG = ("The city council voted on Tuesday to cut library hours at four branches, a move critics say will gut "
        "services for families across the whole of the eastern district.")
EVIL = "A shameful \x1b]0;pwned\x07 grab \x1b[31mred\x1b[0m and \u202eevil."


def _results(text):
    doc = make_document(text, doc_id="d1", source="a.txt")
    pairs = []
    for s in doc.sentences:
        start = s.text.find("shameful")
        spans = [{"start": start, "end": start + 8, "label": "loaded_language", "text": "shameful"}] if start >= 0 else []
        crit = s.text.find("critics say")
        if crit >= 0:
            spans += [{"start": crit, "end": crit + 7, "label": "attribution_vague", "text": "critics"},
                      {"start": crit + 8, "end": crit + 11, "label": "attribution_vague", "text": "say"}]
        labels = sorted({sp["label"] for sp in spans})
        pairs.append((s, Prediction(labels, {lab: 0.91 for lab in labels}, spans, 0.1)))
    return [(doc, pairs)]


def _write(text, color):
    fh = io.StringIO()
    write_table(_results(text), SimpleNamespace(taxonomy=pytest.importorskip("slant.taxonomy.core").load_taxonomy()), fh,
                color=color, counter=_Counter())
    return fh.getvalue()


@pytest.mark.parametrize("color", [False, True], ids=["piped", "terminal"])
def test_the_table_shows_evidence_words(color):
    out = re.sub(r"\x1b\[[0-9;]*m", "", _write(f"Title\n\n{LONG} It was a shameful vote.\n", color))
    assert '"critics", "say"' in out and '"shameful"' in out
    assert "attribution_vague 0.91" in out


def test_piped_it_is_plain_text_within_80_columns():
    out = _write(f"Title\n\n{LONG}\n", color=False)
    assert max(len(line) for line in out.splitlines()) <= PLAIN_WIDTH
    assert "\x1b" not in out and "│" not in out and "┃" not in out  # no table frame
    assert " ".join(out.split()).count("eastern district.") == 1  # the whole sentence, wrapped


@pytest.mark.parametrize("color", [False, True], ids=["piped", "terminal"])
def test_control_characters_of_the_article_never_reach_the_terminal(color):
    out = _write(f"Title \x1b[2J\n\n{EVIL}\n", color)
    for bad in ("\x1b]0;pwned", "\x07", "\x1b[2J", "\x1b[31mred", "\u202e"):
        assert bad not in out
    assert "␛]0;pwned␇" in out and '"shameful"' in out


def test_safe_text_keeps_the_length_so_span_offsets_hold():
    assert safe_text("ok") == "ok"
    assert safe_text(EVIL) == EVIL.translate({0x1b: "␛", 0x07: "␇", 0x202e: "\ufffd"})
    assert len(safe_text(EVIL)) == len(EVIL)
