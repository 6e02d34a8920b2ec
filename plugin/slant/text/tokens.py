"""Word tokens: the lower-cased sentence, its word tokens and their character spans.

One tokenizer for the cue matcher, the n-gram features and the explanation spans, so
that a cue, a feature and a span always mean the same words.

>>> word_tokens("the so-called \u201creform\u201d, they said.")
['the', 'so-called', 'reform', 'they', 'said']
"""

import re
from itertools import accumulate

__all__ = ["PUNCT", "WordSpans", "lower", "tokens", "word_spans", "word_tokens"]

# Punctuation trimmed from both ends of whitespace-separated tokens; apostrophes and
# hyphens inside words stay ("so-called", "company's"). Splitting on whitespace and
# stripping is several times faster than a regex tokenizer.
PUNCT = ".,;:!?()[]{}\"'\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb\u2026\u2014\u2013-/\\*|<>@#+=~^$%\u00a3\u20ac\u2022\u00b7&_"
_SPAN = re.compile(r"\S+")
_PLUS1 = (1).__add__


def lower(text):
    """`text` lower-cased character by character, so offsets stay those of `text`."""
    low = text.lower()
    if len(low) != len(text):  # a few characters grow when lower-cased ("İ")
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return low


def tokens(text):
    """``(low, words)``: the lower-cased sentence and its word tokens.

    `words` has one entry per whitespace token (em dashes count as spaces), ``''`` for
    tokens that are only punctuation, so `word_spans` lines up with it.
    """
    low = lower(text)
    return low, [w.strip(PUNCT) for w in (low.replace("\u2014", " ") if "\u2014" in low else low).split()]


def word_tokens(text):
    """The word tokens of an already lower-cased sentence (the word TF-IDF tokenizer).

    >>> word_tokens("the so-called \u201creform\u201d, they said.")
    ['the', 'so-called', 'reform', 'they', 'said']
    """
    return [w for w in tokens(text)[1] if w]


class WordSpans:
    """Character ``(start, end)`` of each entry of ``tokens(text)[1]``, punctuation trimmed.

    A sequence computed on demand: token starts come from running sums of lengths, and
    a token's punctuation is trimmed only when its span is asked for. Cue patterns and
    explanations look at a few tokens of a sentence, not all of them.
    """

    __slots__ = ("_raw", "_words", "_starts")

    def __init__(self, text, words=None):
        t = text.replace("\u2014", " ") if "\u2014" in text else text
        raw = self._raw = t.split()
        self._words = [w.strip(PUNCT) for w in raw] if words is None else words
        if len(raw) == t.count(" ") + 1 and len(t) == sum(map(len, raw)) + len(raw) - 1:
            # Single spaces only (the usual case): starts are running sums of lengths.
            self._starts = [0, *accumulate(map(_PLUS1, map(len, raw[:-1])))]
        else:
            self._starts = [m.start() for m in _SPAN.finditer(t)]

    def __len__(self):
        return len(self._raw)

    def __getitem__(self, k):
        w, core, s = self._raw[k], self._words[k], self._starts[k]
        if core and len(core) != len(w):
            s += len(w) - len(w.lstrip(PUNCT))
            return (s, s + len(core))
        return (s, s + len(w))

    def __iter__(self):
        return map(self.__getitem__, range(len(self._raw)))

    def words_only(self):
        """``(spans, words)`` of the tokens that are not punctuation only, in one pass
        (the span model reads every token: indexing one at a time cost a tenth of it)."""
        spans, kept = [], []
        for w, core, s in zip(self._raw, self._words, self._starts):
            if not core:
                continue
            if len(core) != len(w):
                s += len(w) - len(w.lstrip(PUNCT))
            spans.append((s, s + len(core)))
            kept.append(core)
        return spans, kept


def word_spans(text, words=None):
    """`WordSpans` of `text`; `words` (``tokens(text)[1]``, if already made) saves
    stripping the tokens again.

    >>> list(word_spans("\u201cSo-called\u201d reform, they said."))
    [(1, 10), (12, 18), (20, 24), (25, 29)]
    """
    return WordSpans(text, words)
