"""Lexicon and pattern cues: charged words, reporting verbs, vague sources, scare quotes...

Cues serve twice: as features (`slant.model.cuefeatures.CueFeatures`, one column per cue
family) and as explanation spans (`CueMatcher.find` gives character offsets and
`CUE_CATEGORY` says which category a family speaks for).

>>> m = CueMatcher(load_lexicons())
>>> [(c.family, c.text) for c in m.find("Critics say the scheme is a disaster.")][:2]
[('vague_sources', 'Critics say'), ('reporting_verbs', 'say')]
"""

import re
from collections import namedtuple
from functools import lru_cache
from itertools import compress

import numpy as np

from slant.text.tokens import lower, tokens, word_spans, word_tokens

__all__ = ["CUE_CATEGORY", "Cue", "CueMatcher", "NOT_NAMES", "PATTERN_FAMILIES", "PRONOUNS", "RHETORICAL", "matcher"]

Cue = namedtuple("Cue", "start end family text")

# Families found by hand-written patterns rather than word lists.
PATTERN_FAMILIES = (
    "scare_quote", "attribution_named", "attribution_pronoun", "according_to", "number",
    "percent", "comparison", "bare_number", "change_word", "question", "rhetorical_question",
    "exclamation", "superlative", "conditional", "quote", "first_person",
)

# Which taxonomy category a cue family is evidence for (explanation spans). Families
# not listed here are features only: a reporting verb alone is not attribution.
CUE_CATEGORY = {
    "charged": "loaded_language",
    "derogatory": "name_calling",
    "intensifiers": "exaggeration",
    "superlative": "exaggeration",
    "scare_quote": "scare_quotes",
    "attribution_named": "attribution_named",
    "vague_sources": "attribution_vague",
    "factive": "epistemic_framing",
    "hedges": "epistemic_framing",
    "doubt": "doubt",
    "rhetorical_question": "doubt",
    "fear": "appeal_to_fear",
    "authority": "appeal_to_authority",
    "bare_number": "omission",
    "change_word": "omission",
}


# --- patterns -------------------------------------------------------------------------

_DIGIT = re.compile(r"\d")
_SCARE = re.compile(
    r"(?:"
    r"\"(?P<a>[^\s\"\u201c\u201d][^\"\u201c\u201d\n]{0,40}?)\""
    r"|\u201c(?P<b>[^\s\u201c\u201d\"][^\u201c\u201d\"\n]{0,40}?)\u201d"
    r"|(?<!\w)[\u2018'](?P<c>[^\s\u2018\u2019'\"][^\u2018\u2019\"\n]{0,40}?)[\u2019'](?!\w))"
)
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_QUESTION = re.compile(r"\?[\"\u201d\u2019')\]]*\s*$")
RHETORICAL = frozenset(
    "can could should would will is isn't are aren't does doesn't did didn't do don't why how who what "
    "where has hasn't have haven't was wasn't shouldn't wouldn't".split()
)
_SUPERLATIVES = frozenset(
    "biggest largest greatest worst best highest lowest deadliest fastest strongest weakest smallest "
    "longest toughest harshest hardest richest poorest oldest cheapest safest sharpest steepest "
    "gravest boldest darkest loudest grandest heaviest costliest bloodiest angriest".split()
)
_ADJ_ENDINGS = ("ive", "ous", "ful", "ic", "al", "ble", "ant", "ent", "ing", "ed", "ly", "ary")
_CHANGE_WORDS = frozenset("doubled tripled quadrupled halved twofold threefold tenfold".split())
_CONDITIONS = frozenset("if unless without".split())
_MODALS = frozenset("will would could may might".split())
_FIRST_PERSON = frozenset("we our us ours".split())
PRONOUNS = frozenset("he she they we i".split())
_AUX = frozenset("also has had have later previously then further recently once who".split())
_ROLES = frozenset(
    "spokesman spokeswoman spokesperson spokespeople official officials representative aide aides "
    "lawyer lawyers attorney statement report".split()
)
_UNITS = frozenset("percent % million billion trillion thousand per".split())
# Words that give a figure its context: a baseline, period, denominator or comparison.
_COMPARE = frozenset(
    "than compared versus vs per since average baseline year-on-year year-over-year earlier from".split()
)
# Capitalised words that start sentences or name no one: "Officials said" is vague.
NOT_NAMES = frozenset(
    "the a an this that these those it he she they we i you his her their our its some many several "
    "officials critics experts sources analysts observers people residents others everyone nobody "
    "one two three few most all both neither either but and or so yet however meanwhile still "
    "when while if as in on at by for with after before during according police authorities "
    "investigators witnesses scientists researchers economists doctors there here such "
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_QUOTE_MARKS = ('"', "\u201c", "\u2018", " '")
_OPEN = {"\u201d": "\u201c", "\u2019": "\u2018", '"': '"'}
_CLOSE = frozenset(_OPEN)


class CueMatcher:
    """Finds lexicon and pattern cues in sentences.

    Built from ``{family: phrases}``. Lexicon phrases are matched over word tokens with
    dictionary look-ups (a regex alternation of ~1,500 phrases is ten times slower),
    longest phrase first; a phrase hit also reports the entries inside it ("critics say"
    is a vague source and "say" a reporting verb).
    """

    def __init__(self, lexicons):
        self.families = tuple(lexicons) + PATTERN_FAMILIES
        self.index = {f: i for i, f in enumerate(self.families)}
        phrase_families = {}
        for family, phrases in lexicons.items():
            for p in phrases:
                toks = tuple(word_tokens(lower(p)))
                if toks:
                    phrase_families.setdefault(toks, []).append(family)
        self._single = {t[0]: tuple(f) for t, f in phrase_families.items() if len(t) == 1}
        multi = {}
        for toks in phrase_families:
            if len(toks) < 2:
                continue
            inside = tuple(
                (fam, i, j)
                for i in range(len(toks))
                for j in range(i + 1, len(toks) + 1)
                for fam in phrase_families.get(toks[i:j], ())
            )
            multi.setdefault(toks[:2], []).append((len(toks), toks, inside))
        self._multi = {k: tuple(sorted(c, key=lambda t: -t[0])) for k, c in multi.items()}
        mfirst = {k[0] for k in multi}
        kinds = {}
        for kind, words in (("first_person", _FIRST_PERSON), ("superlative", _SUPERLATIVES), ("change_word", _CHANGE_WORDS),
                            ("most", ("most", "least")), ("condition", _CONDITIONS), ("modal", _MODALS)):
            kinds.update(dict.fromkeys(words, kind))
        # word -> (lexicon families of the word alone, starts a phrase?, pattern kind)
        self._winfo = {w: (self._single.get(w, ()), w in mfirst, kinds.get(w))
                       for w in set(self._single) | mfirst | set(kinds)}
        self._winfo_get = self._winfo.get

    def _scan(self, text, low=None, words=None):
        """Token-level cues: ``[(family, first token, end token)]`` over ``tokens(text)``.

        One dictionary look-up per token (`_winfo`, built in `__init__`) finds every
        word that can start a lexicon phrase or matters to a pattern; only those
        positions are examined further.
        """
        if words is None:
            low, words = tokens(text)
        infos = list(map(self._winfo_get, words))
        hits = []
        n = len(words)
        covered = 0
        cond = modal = None
        for i in compress(range(n), infos):
            fams, multi, kind = infos[i]
            if i >= covered:
                if multi and i + 1 < n:
                    cand = self._multi.get((words[i], words[i + 1]))
                    if cand:
                        for length, toks, inside in cand:
                            if length == 2 or tuple(words[i:i + length]) == toks:
                                hits.extend([(fam, i + a, i + b) for fam, a, b in inside])
                                covered = i + length
                                break
                if fams and i >= covered:
                    hits.extend([(fam, i, i + 1) for fam in fams])
            if kind:
                if kind == "first_person":
                    hits.append(("first_person", i, i + 1))
                elif kind == "superlative":
                    hits.append(("superlative", i, i + 1))
                elif kind == "change_word":
                    hits.append(("change_word", i, i + 1))
                elif kind == "most":
                    if i + 1 < n and words[i + 1].endswith(_ADJ_ENDINGS):
                        hits.append(("superlative", i, i + 2))
                elif kind == "condition":
                    if cond is None:
                        cond = i
                elif kind == "modal" and cond is not None and modal is None and i - cond <= 15:
                    modal = i
        if modal is not None:
            hits.append(("conditional", cond, modal + 1))
        if _DIGIT.search(low):
            hits.extend(_numbers(words, set(words)))
        if n and "?" in text and _QUESTION.search(text):
            hits.append(("question", n - 1, n))
            if words[0] in RHETORICAL:
                hits.append(("rhetorical_question", 0, 1))
        return low, words, hits

    def find(self, text, scanned=None, spans=None):
        """Every cue in `text` as `Cue(start, end, family, text)`, ordered by start.

        `scanned` (``(words, hits, char_cues, spans)`` kept by `counts`) and `spans`
        (from `word_spans`) skip work already done.
        """
        if scanned is None:
            _, words, hits = self._scan(text)
            chars = None
        else:
            words, hits, chars, kept = scanned
            spans = spans or kept
        if hits and spans is None:
            spans = word_spans(text, words)
        out = []
        for fam, i, j in hits:
            s, e = spans[i][0], spans[j - 1][1]
            if fam == "question":
                s = e = text.rindex("?")
                e += 1
            if text[e:e + 1] in _CLOSE and _OPEN.get(text[e]) in text[s:e]:
                e += 1  # keep a quoted word's closing mark with its opening one
            out.append(Cue(s, e, fam, text[s:e]))
        out.extend(self._char_cues(text, words, hits, spans)[0] if chars is None else chars)
        out.sort(key=lambda c: (c.start, -c.end))
        return out

    def _char_cues(self, text, words, hits, spans):
        """Cues that need the original characters: names, quotes, exclamation marks.

        Returns ``(cues, spans)``: `spans` is the `word_spans` of the sentence if they
        were needed (a reporting verb), else what was passed.
        """
        out = []
        for h in hits:
            if h[0] == "reporting_verbs":
                if spans is None:
                    spans = word_spans(text, words)
                out.extend(self._attributions(text, words, hits, spans))
                break
        for q in _QUOTE_MARKS:
            if q in text:
                out.extend(_quotes(text))
                break
        else:
            if text[:1] == "'":
                out.extend(_quotes(text))
        if "!" in text:
            i = text.index("!")
            out.append(Cue(i, i + 1, "exclamation", "!"))
        return out, spans

    def _attributions(self, text, words, hits, spans):
        """Named sources next to a reporting verb: "Ana Ruiz said", "according to NASA"."""
        out = []
        n = len(words)
        for fam, i, j in hits:
            if fam != "reporting_verbs":
                continue
            name = None
            if words[i] != "according":
                k = i - 1
                while k >= 0 and words[k] in _AUX:
                    k -= 1
                if k >= 0 and words[k] in PRONOUNS:
                    out.append(Cue(spans[k][0], spans[j - 1][1], "attribution_pronoun", text[spans[k][0]:spans[j - 1][1]]))
                    continue
                # "Helen Marsh, a spokeswoman for the company, said": jump over the apposition.
                if k >= 0 and "," in text[spans[k][1]:spans[k + 1][0]]:
                    m = k
                    while m > 0 and m > k - 15 and "," not in text[spans[m - 1][1]:spans[m][0]]:
                        m -= 1
                    if m > 0 and m > k - 15:
                        k = m - 1
                while k >= 0 and words[k] in _ROLES:
                    k -= 1
                name = _name_before(text, spans, k)
            if name is None and j < n:
                k = j
                if words[k] in ("the", "a", "an") and k + 1 < n:
                    k += 1
                name = _name_after(text, spans, k)
            if name is not None:
                s, e = min(name[0], spans[i][0]), max(name[1], spans[j - 1][1])
                out.append(Cue(s, e, "attribution_named", text[s:e]))
                if words[i] == "according":
                    out.append(Cue(s, e, "according_to", text[s:e]))
        return out

    def counts(self, texts, token_lists=None, keep=None):
        """A dense ``(len(texts), len(families))`` array of cue counts.

        `token_lists` (``[(low, words)]`` from `tokens`) saves tokenizing twice; a list
        passed as `keep` receives ``(words, hits, char_cues, spans)`` per sentence for
        `find` (`spans` None unless they were needed).
        """
        n_fam = len(self.families)
        index = self.index
        cells = []  # row * n_fam + family column, once per cue
        add = cells.extend
        for row, text in enumerate(texts):
            if token_lists is None:
                _, words, hits = self._scan(text)
            else:
                _, words, hits = self._scan(text, *token_lists[row])
            chars, spans = self._char_cues(text, words, hits, None)
            if keep is not None:
                keep.append((words, hits, chars, spans))
            if hits or chars:
                base = row * n_fam
                add([base + index[h[0]] for h in hits])
                add([base + index[c.family] for c in chars])
        flat = np.bincount(np.array(cells, dtype=np.int64), minlength=len(texts) * n_fam)
        return flat.reshape(len(texts), n_fam).astype(np.float64)


def _is_name_token(text, span):
    ch = text[span[0]:span[0] + 1]
    return ch.isupper()


def _name_before(text, spans, k):
    end = k
    while k >= 0 and _is_name_token(text, spans[k]):
        k -= 1
    k += 1
    while k <= end and text[spans[k][0]:spans[k][1]].lower() in NOT_NAMES:
        k += 1
    return (spans[k][0], spans[end][1]) if k <= end else None


def _name_after(text, spans, k):
    start = k
    while k < len(spans) and _is_name_token(text, spans[k]):
        k += 1
    while k > start and text[spans[k - 1][0]:spans[k - 1][1]].lower() in NOT_NAMES:
        k -= 1
    if k == start or text[spans[start][0]:spans[start][1]].lower() in NOT_NAMES:
        return None
    return (spans[start][0], spans[k - 1][1])


def _quotes(text):
    out = []
    for m in _SCARE.finditer(text):
        inner = m.group("a") or m.group("b") or m.group("c")
        s = m.start()
        if s > 0 and (text[s - 1].isalnum() or text[s - 1] in "\"\u201c"):
            continue  # an apostrophe inside a word, not an opening quote
        # A scare quote is a short phrase, not a quoted statement or sentence.
        if len(inner.split()) > 4 or inner[-1] in ".!?," or inner.endswith("'s"):
            continue
        if s > 0 and text[:s].rstrip().endswith((":", ",")):
            continue
        out.append(Cue(s, m.end(), "scare_quote", m.group()))
    for q in "\"\u201c\u201d":
        i = text.find(q)
        if i >= 0:
            out.append(Cue(i, i + 1, "quote", q))
            break
    return out


def _numbers(words, wset):
    """Figures, percentages and bare figures (no baseline, period or comparison)."""
    out = []
    context = not wset.isdisjoint(_COMPARE) or ("from" in wset and "to" in wset)
    n = len(words)
    for i, w in enumerate(words):
        if not w[:1].isdigit():
            continue
        if _YEAR.fullmatch(w):
            context = True  # a dated figure has its period
            continue
        j = i + 1
        if j < n and words[j] in _UNITS:
            j += 1
        out.append(("number", i, j))
        if words[i + 1:i + 2] == ["percent"] or words[i + 1:i + 2] == ["per"] and words[i + 2:i + 3] == ["cent"]:
            out.append(("percent", i, j))
    if out:
        if context:
            out.append(("comparison", 0, 0))
        else:
            out.extend(("bare_number", i, j) for _, i, j in list(out) if _ == "number")
    return out


@lru_cache(maxsize=8)
def _matcher_for(key):
    return CueMatcher(dict(key))


def matcher(lexicons):
    """A cached `CueMatcher` for ``{family: phrases}`` (compiling the regexes costs ~50 ms)."""
    return _matcher_for(tuple((f, tuple(p)) for f, p in lexicons.items()))
