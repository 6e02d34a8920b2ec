"""Word tokens and their character spans."""

from hypothesis import given, settings
from hypothesis import strategies as st

from slant.text.tokens import word_tokens


def test_word_tokens_keep_inner_apostrophes_and_hyphens():
    assert word_tokens("the so-called \u201creform\u201d, they said \u2014 it's 40%.") == [
        "the", "so-called", "reform", "they", "said", "it's", "40"]


def _reference_spans(text):
    """Each whitespace token's span with leading and trailing punctuation trimmed (the whole
    token if it is only punctuation); em dashes separate tokens."""
    import re

    from slant.text.tokens import PUNCT as _PUNCT

    out = []
    for m in re.finditer(r"\S+", text.replace("\u2014", " ")):
        core = m.group().strip(_PUNCT)
        if core:
            s = m.start() + len(m.group()) - len(m.group().lstrip(_PUNCT))
            out.append((s, s + len(core)))
        else:
            out.append(m.span())
    return out


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab,.'\"()\u201c\u201d\u2014- \t\n", max_size=40))
def test_word_spans_match_the_reference(text):
    from slant.text.tokens import tokens, word_spans

    spans = word_spans(text)
    assert list(spans) == _reference_spans(text)
    assert [spans[k] for k in range(len(spans))] == _reference_spans(text)
    assert list(word_spans(text, tokens(text)[1])) == _reference_spans(text)
    words = tokens(text)[1]
    assert len(spans) == len(words)
    for (s, e), w in zip(spans, words):
        if w:
            assert text[s:e].lower() == w
