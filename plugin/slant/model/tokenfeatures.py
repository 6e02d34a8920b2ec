"""Token features of the span model (`slant.model.spantagger`): per word token, the hashed
columns of its features (the word, its shape and affixes, capitals, quotation context, the
words and lexicon families around it, bigrams, position).

Each feature string is hashed once per process (the same murmurhash and column as
scikit-learn's `FeatureHasher`, so models trained either way read the same matrix), and
a token's own and context columns are memoised per distinct token: building and hashing
~20 strings for every token was half of `slant analyze`'s time with the span model.
"""

import re
from functools import lru_cache
from itertools import accumulate, chain

import numpy as np
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

from slant.model.lexicons import load_lexicons
from slant.text.tokens import tokens, word_spans

__all__ = ["N_FEATURES", "lexicon_families", "token_matrix", "token_table"]

N_FEATURES = 1 << 18
_QUOTES = "\"“”‘’«»'"


_SHAPE = str.maketrans({**dict.fromkeys(map(chr, range(65, 91)), "X"), **dict.fromkeys(map(chr, range(97, 123)), "x"),
                        **dict.fromkeys("0123456789", "d")})
_REPEAT = re.compile(r"(.)\1+")
_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=1 << 17)
def _shape(word):
    """Capitals as X, small letters as x, digits as d, runs cut to two ("Xxx", "dd")."""
    s = word.translate(_SHAPE)
    if not s.isascii():
        s = _DIGIT.sub("d", s)  # digits of other scripts, as `\d` reads them
    return _REPEAT.sub(r"\1\1", s)


class _Lex:
    """Lexicon families by word and by phrase (up to three words)."""

    def __init__(self):
        self.words, self.phrases = {}, {}
        for family, entries in load_lexicons().items():
            for e in entries:
                parts = tuple(e.split())
                table = self.words if len(parts) == 1 else self.phrases
                table.setdefault(parts[0] if len(parts) == 1 else parts, set()).add(family)
        # what `sorted_families` reads: a word's families as a sorted tuple, and the
        # phrase lengths (2 or 3) starting with each word
        self.word_tuples = {w: tuple(sorted(f)) for w, f in self.words.items()}
        self.starts = {}
        for parts in self.phrases:
            if len(parts) <= 3:
                self.starts.setdefault(parts[0], set()).add(len(parts))

    def sorted_families(self, words):
        """Per word, its families as a sorted tuple, alone or in a phrase of up to three
        words (looking up only the phrases that can start at each word)."""
        get = self.word_tuples.get
        out = [get(w, ()) for w in words]
        starts = self.starts
        if starts.keys().isdisjoint(words):
            return out
        extra = {}
        m = len(words)
        for i, w in enumerate(words):
            for n in starts.get(w, ()):
                if i + n <= m:
                    fam = self.phrases.get(tuple(words[i:i + n]))
                    if fam:
                        for k in range(i, i + n):
                            extra.setdefault(k, set()).update(fam)
        for k, fam in extra.items():
            out[k] = tuple(sorted(fam.union(out[k])))
        return out


_LEX = None


def _sorted_families(words):
    global _LEX
    if _LEX is None:
        _LEX = _Lex()
    return _LEX.sorted_families(words)


def lexicon_families(words):
    """Per word, the lexicon families it belongs to, alone or in a phrase of up to three words."""
    return [set(f) for f in _sorted_families(words)]


_COLS = {}  # (feature kind, value) -> hashed column: each feature string is hashed once per process


def _col(kind, value):
    """The `FeatureHasher` column of the feature ``kind + value`` (same murmurhash, same
    column), memoised: per-token feature strings built and hashed anew for every token cost
    half of `slant analyze`'s time with the span model."""
    key = (kind, value)
    j = _COLS.get(key)
    if j is None:
        if len(_COLS) > 1 << 21:
            _COLS.clear()
        j = _COLS[key] = _hash(kind + value)
    return j


def _hash(feature):
    """The `FeatureHasher` column of one feature string, not memoised: for the strings of
    one word or one bigram, which `_token_cols` and `_pair` memoise whole."""
    return abs(murmurhash3_32(feature, seed=0)) % N_FEATURES


_TOKEN = {}  # (original form, word, first?, families) -> (own columns, columns seen from each neighbour)


def _token_cols(orig, w, first, fams):
    """A token's own feature columns and the columns its neighbours get from it: a
    tuple per context offset (in `_CTX` order: what the token 2 after it sees, then the
    token 1 after, 1 before, 2 before); memoised per distinct token (tokens repeat)."""
    key = (orig, w, first, fams)
    got = _TOKEN.get(key)
    if got is None:
        if len(_TOKEN) > 1 << 20:
            _TOKEN.clear()
        own = [_hash("w=" + w), _col("sh=", _shape(orig)), _col("p3=", w[:3]), _col("x3=", w[-3:]), _col("x2=", w[-2:])]
        if orig[:1].isupper():
            own.append(_col("cap0" if first else "cap", ""))
        if orig.isupper() and len(orig) > 1:
            own.append(_col("allcap", ""))
        own.extend(_col("fam=", fam) for fam in fams)
        ctx = []
        for _, wk, fk, ck in _CTX:
            c = [_hash(wk + w), *(_col(fk, fam) for fam in fams)]
            if orig[:1].isupper():
                c.append(_col(ck, ""))
            ctx.append(tuple(c))  # what the token k = j - d, d away from this one, sees
        got = _TOKEN[key] = (tuple(own), *ctx)
    return got


def _quoted(text, spans):
    """Per token: is it inside quotation marks? For a text holding a quotation mark (the
    caller checks). Gaps of one space, the usual case, are skipped: they hold no mark."""
    n = len(spans)
    quoted, inside, prev = [], False, 0
    for k, (s, e) in enumerate(spans):
        before = text[prev:s]
        if before != " " and not _MARKS.isdisjoint(before):
            inside = not inside if not _STRAIGHT.isdisjoint(before) else not _OPENING.isdisjoint(before)
        quoted.append(inside)
        after = text[e:spans[k + 1][0]] if k + 1 < n else text[e:]
        if after != " " and (not _CLOSING.isdisjoint(after) or (inside and not _STRAIGHT.isdisjoint(after))):
            inside = False
        prev = e
    return quoted


_MARKS, _STRAIGHT, _OPENING, _CLOSING = frozenset(_QUOTES), frozenset("\"'"), frozenset("“‘«"), frozenset("”’»")


# Context offsets with their feature kinds; the columns of the position features (the
# first six tokens, then "mid" and "end") and of a missing neighbour ("<s>", "</s>").
_CTX = ((-2, "w-2=", "f-2=", "cap-2"), (-1, "w-1=", "f-1=", "cap-1"), (1, "w+1=", "f+1=", "cap+1"), (2, "w+2=", "f+2=", "cap+2"))
_POS = [*(_col("pos=", str(k)) for k in range(6)), _col("pos=", "mid"), _col("pos=", "end")]
_EDGE = {d: (_col(wk, "<s>" if d < 0 else "</s>"),) for d, wk, _, _ in _CTX}
# What a missing neighbour before or after the sentence gives a token, as `_token_cols` lays it out.
_BEFORE = ((), _EDGE[-2], _EDGE[-1], (), ())
_AFTER = ((), (), (), _EDGE[1], _EDGE[2])


@lru_cache(maxsize=256)
def _positions(n):
    """The position column of each token of an n-token sentence."""
    return tuple(_POS[k] if k < 6 else _POS[-1 if k >= n - 2 else -2] for k in range(n))


def token_table(text):
    """``(spans, words, rows)`` of a sentence's word tokens (punctuation-only tokens
    dropped): per token, the hashed columns of its features (the word, its shape and
    affixes, capitals, quotation context, the words and lexicon families around it,
    bigrams, position); `token_matrix` stacks rows into the tagger's input."""
    _, words = tokens(text)
    spans, words = word_spans(text, words).words_only()
    n = len(words)
    if not n:
        return [], [], []
    fams = _sorted_families(words)
    info = [_token_cols(text[s:e], w, k == 0, f) for k, ((s, e), w, f) in enumerate(zip(spans, words, fams))]
    # One tuple per token: its own columns, its bigrams ("b-" with the word before, "b+"
    # with the word after), its position, and what its neighbours two and one before
    # and one and two after give it (`_token_cols` order; `_EDGE` past the ends).
    pad = (_BEFORE, _BEFORE, *info, _AFTER, _AFTER)  # info[k] is pad[k + 2]
    pairs = [_pair(a, b) for a, b in zip(["<s>", *words], [*words, "</s>"])]
    pos = _positions(n)
    rows = [pad[k + 2][0] + (pairs[k][1], pairs[k + 1][0], pos[k])
            + pad[k][1] + pad[k + 1][2] + pad[k + 3][3] + pad[k + 4][4] for k in range(n)]
    if not _MARKS.isdisjoint(text):
        inq = _col("inq", "")
        rows = [row + (inq,) if q else row for row, q in zip(rows, _quoted(text, spans))]
    return spans, words, rows


_PAIRS = {}


def _pair(a, b):
    """The columns of the bigram ``a|b`` as the left word's "b+" and the right word's "b-"."""
    got = _PAIRS.get((a, b))
    if got is None:
        if len(_PAIRS) > 1 << 21:
            _PAIRS.clear()
        ab = f"{a}|{b}"
        got = _PAIRS[(a, b)] = (_hash("b+=" + ab), _hash("b-=" + ab))
    return got


def token_matrix(rows):
    """The sparse matrix (one row per token, counts per hashed column) of `token_table` rows:
    what `FeatureHasher` gives for the same feature strings."""
    indptr = np.fromiter(accumulate(map(len, rows), initial=0), dtype=np.int64, count=len(rows) + 1)
    indices = np.fromiter(chain.from_iterable(rows), dtype=np.int32, count=int(indptr[-1]))
    X = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows), N_FEATURES))
    X.sum_duplicates()
    return X
