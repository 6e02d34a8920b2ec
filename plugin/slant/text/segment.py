"""Offline sentence splitting with exact character offsets.

Punkt (nltk) does the splitting with an abbreviation list written here, so nothing is
downloaded; a few rules fix what untrained Punkt gets wrong in news text (curly quotes,
quoted speech, headlines, ellipses, "No. 5"). Documents and their readers are in
`slant.text.documents`.

>>> [(s.kind, s.text) for s in split_sentences("Bridge Reopens\\n\\nMr. Lee said it was safe. “It is,” he said.")]
[('title', 'Bridge Reopens'), ('body', 'Mr. Lee said it was safe.'), ('body', '“It is,” he said.')]
"""

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from slant.text.boilerplate import byline_names, ends_sentence, is_byline, line_kind, one_paragraph_per_line

__all__ = ["MAX_SENTENCE_CHARS", "Sentence", "split_sentences", "load_splitter", "paragraph_chunks", "ABBREVIATIONS"]

# The longest sentence slant makes, the longest task text it pushes and the longest text
# its ML backend accepts: one limit. Real sentences stay far below (news: < 2,000); a
# longer "sentence" (a table dump, a line without punctuation) is cut at spaces.
MAX_SENTENCE_CHARS = 10_000


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int
    text: str
    paragraph: int
    kind: str = "body"  # "body", "title", or a kind of non-body line (slant.text.boilerplate)


# Lower case, without the final period, as Punkt compares them.
ABBREVIATIONS = frozenset("""
    mr mrs ms dr gen sen rep gov lt col sgt capt prof st jr sr rev hon pres supt cmdr adm maj
    brig gens sens reps det insp messrs mme mlle fr
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    u.s u.k u.n u.s.a e.u d.c l.a n.y a.m p.m e.g i.e vs v etc inc corp co ltd llc plc bros dept
    univ assn ave blvd rd mt ft approx est fig nos vol pp ph.d m.d b.a m.a a.d b.c
    f.b.i c.i.a g.o.p n.a.t.o n.h n.j n.c s.c n.m n.d s.d r.i w.va o.k t.v v.a i.p.o m.b.a m.f.a
    ala ariz ark calif colo conn del fla ga ill ind kan kans ky md mass mich minn miss mo mont
    neb nev okla ore pa penn tenn tex va vt wash wis wyo
""".split())

# Words that, capitalised after an abbreviation, initial or ellipsis, start a new sentence
# ("... in the U.S. The ..."). Punkt would learn these from training text; we state them.
_SENTENCE_STARTERS = """
    the a an he she it they we you i'm this that these those there then but and so yet
    however in on at after before when while if as his her their its our my one some many
    most all both no not meanwhile still also for by with from since although though
    because last next mr mrs ms dr officials critics police what why how who where
""".split()

_STARTER_SET = frozenset(_SENTENCE_STARTERS)

# Punkt knows straight quotes only; the shadow text it reads has the same length.
_SHADOW = (("“", '"'), ("”", '"'), ("„", '"'), ("‘", "'"), ("’", "'"), ("«", '"'), ("»", '"'), ("…", "."))
_CLOSERS = "\"'”’»)]}"
_OPENERS = "\"'“‘«([{"
_BULLET = re.compile(r"(?:[-*•·‣–]|\d{1,3}[.)])\s")
_ELLIPSIS_SPLIT = re.compile(r"\.\.\.[\"'”’)\]]*\s+(?=[\"“'‘(]?[A-Z])")
_ELLIPSIS_END = re.compile(r"\.\s?\.\s?\.$")
_DOTTED = re.compile(r"(?:\b[A-Za-z]{1,3}\.)(?:-?[A-Za-z]{1,3}\.)+$")  # U.S., A.F.L.-C.I.O.
# A name's initials ("George H.W.", "John F.") before a capitalised word that is not a
# sentence starter: the name goes on ("Bush refused ..."); Punkt splits there.
_INITIALS = re.compile(r"\b[A-Z][a-z]+\s+(?:[A-Z]\.){1,3}$")
_NUMBER_ABBREV = re.compile(r"\b(?:No|no|Nos|nos|Art|art|p|pp|[A-Z])\.$")  # "No. 5", "S. 2214", "H.R. 1"
# A possible sentence end inside a chunk; a chunk without one is a single sentence.
_MAYBE_END = re.compile(r"[.?!…](?=[\s)\";}\]*:@'({\[!?”’»“‘])")  # Punkt's candidate test
_LEADING_PUNCT = re.compile(r"[\"'”’»)\]},;:]+")
# A Punkt candidate context that is certainly a break: a word of two or more letters,
# ".", "?" or "!", then whitespace and a token, or a closing quote or bracket.
_PLAIN_BREAK = re.compile(r"([A-Za-z]{2,})[.?!](?:\s+\S+|[\"')\]])")


_PUNKT_LOCK = threading.Lock()
_PUNKT = {}  # "module": what `_punkt` loaded


def _punkt():
    """The module ``nltk.tokenize.punkt``, without running ``nltk/__init__.py`` when nltk is
    not imported yet: that imports all of nltk, scipy.stats and scikit-learn with it (5 s
    of a 6 s re-push on a loaded machine, issue #19), while Punkt needs a few small modules.

    The packages ``nltk`` and ``nltk.tokenize`` are stood in by bare package modules while
    Punkt loads, then every nltk module this loaded leaves `sys.modules` again: a later
    ``import nltk`` loads nltk whole and as usual, and this Punkt keeps its own copies.
    Loaded once: threads asking at the same time wait for the first (two loads at once
    would each stand in the packages and take the other's modules out of `sys.modules`).
    """
    module = _PUNKT.get("module")
    if module is None:
        with _PUNKT_LOCK:
            module = _PUNKT.get("module")
            if module is None:
                module = _PUNKT["module"] = _load_punkt()
    return module


def _load_punkt():
    import importlib
    import importlib.machinery
    import importlib.util
    import sys
    import types

    if "nltk" in sys.modules:
        return importlib.import_module("nltk.tokenize.punkt")
    spec = importlib.util.find_spec("nltk")
    tokenize = importlib.machinery.PathFinder.find_spec("tokenize", spec.submodule_search_locations)
    before = set(sys.modules)
    for name, where in (("nltk", spec), ("nltk.tokenize", tokenize)):
        package = types.ModuleType(name)
        package.__path__ = list(where.submodule_search_locations)
        sys.modules[name] = package
    try:
        return importlib.import_module("nltk.tokenize.punkt")
    finally:
        for name in set(sys.modules) - before:
            if name == "nltk" or name.startswith("nltk."):
                del sys.modules[name]


@lru_cache(maxsize=1)
def _tokenizer():
    """Built once on first use (not at import): Punkt with our parameters, no training."""
    punkt = _punkt()
    PunktLanguageVars, PunktParameters = punkt.PunktLanguageVars, punkt.PunktParameters
    PunktSentenceTokenizer, PunktToken = punkt.PunktSentenceTokenizer, punkt.PunktToken

    # nltk routes its own fixed patterns through a timed third-party regex engine (a
    # guard against caller-supplied patterns); compiling the same linear patterns with
    # `re` splits 2-3x faster with identical output.
    class LanguageVars(PunktLanguageVars):
        re_boundary_realignment = re.compile(PunktLanguageVars.re_boundary_realignment.pattern, re.MULTILINE)

        def _word_tokenizer_re(self):
            if not hasattr(self, "_slant_word_re"):
                self._slant_word_re = re.compile(self._word_tokenize_fmt % {
                    "NonWord": self._re_non_word_chars, "MultiChar": self._re_multi_char_punct,
                    "WordStart": self._re_word_start}, re.UNICODE | re.VERBOSE)
            return self._slant_word_re

        def period_context_re(self):
            if not hasattr(self, "_slant_period_re"):
                self._slant_period_re = re.compile(self._period_context_fmt % {
                    "NonWord": self._re_non_word_chars, "SentEndChars": self._re_sent_end_chars},
                    re.UNICODE | re.VERBOSE)
            return self._slant_period_re

    class Token(PunktToken):
        _RE_ELLIPSIS = re.compile(r"\.\.+$")
        _RE_NUMERIC = re.compile(r"^-?[\.,]?\d[\d,\.-]*\.?$")
        _RE_INITIAL = re.compile(r"[^\W\d]\.$")
        _RE_ALPHA = re.compile(r"[^\W\d]+$")

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    params.sent_starters = set(_SENTENCE_STARTERS)
    # Mark the starters as "seen lower case mid-sentence" so that Punkt's orthographic
    # heuristic also ends a sentence after an initial ("Plan B. The ...").
    for word in _SENTENCE_STARTERS:
        params.add_ortho_context(word, 1 << 5)
    class Tokenizer(PunktSentenceTokenizer):
        def text_contains_sentbreak(self, text):
            # Most candidate ends are a plain word, its mark, then a space and the next
            # word or a closing quote ("budget. The", "said.\""): Punkt always breaks
            # there (no abbreviation, initial, number or ellipsis for its heuristics to
            # weigh), so say so without building and annotating its tokens. Tested
            # against the full decision on every candidate of the project's texts.
            m = _PLAIN_BREAK.fullmatch(text)
            if m and m.group(1).lower() not in self._params.abbrev_types:
                return True
            return super().text_contains_sentbreak(text)

    return Tokenizer(params, lang_vars=LanguageVars(), token_cls=Token)


def load_splitter():
    """Import nltk and build the splitter now, e.g. before forking workers that share it."""
    _tokenizer()


def _lines(text):
    """Non-blank lines as (start, end) without surrounding spaces, grouped in paragraphs."""
    paragraphs, current, pos = [], [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            start = pos + (len(raw) - len(raw.lstrip()))
            current.append((start, start + len(stripped)))
        elif current:
            paragraphs.append(current)
            current = []
        pos += len(raw) + 1
    if current:
        paragraphs.append(current)
    return paragraphs


def _is_title_line(line, followed_by_blank, next_line):
    if ends_sentence(line) or line[-1] in ",;:-–—" or not (line[0].isupper() or line[0].isdigit() or line[0] in _OPENERS):
        return False
    words = len(line.split())
    short = len(line) <= 90 and words <= 14
    continues = next_line is not None and next_line[:1].islower()
    return (followed_by_blank and len(line) <= 200 and words <= 30) or (short and not continues)


def _per_line(text, paragraphs):
    """Blocks written one paragraph per line become one paragraph per line."""
    out = []
    for lines in paragraphs:
        if len(lines) > 2 and one_paragraph_per_line([text[s:e] for s, e in lines]):
            out.extend([line] for line in lines)
        else:
            out.append(lines)
    return out


def _line_kinds(text, flat, title):
    """Per line: "title", "byline", "heading", "related", "licence", "bio" or "body"."""
    kinds = ["body"] * len(flat)
    if not flat:
        return kinds
    p0, s0, e0 = flat[0]
    first = text[s0:e0]
    nxt = text[flat[1][1]:flat[1][2]] if len(flat) > 1 else None
    blank_after = len(flat) == 1 or flat[1][0] != p0
    if title is not None:
        is_title = " ".join(first.split()) == " ".join(title.split())
    else:
        is_title = _is_title_line(first, blank_after, nxt) and not is_byline(first)
    if is_title:
        kinds[0] = "title"
    authors = []
    for i in range(1 if is_title else 0, min(len(flat), 4)):
        if is_byline(text[flat[i][1]:flat[i][2]]):
            kinds[i] = "byline"
            authors = byline_names(text[flat[i][1]:flat[i][2]])
            break
    sizes = {}
    for p, _, _ in flat:
        sizes[p] = sizes.get(p, 0) + 1
    for i, (p, s, e) in enumerate(flat):
        if kinds[i] != "body":
            continue
        line = text[s:e]
        # Only a line that stands alone can be boilerplate: its own paragraph, or between
        # sentence ends (never a fragment of a hard-wrapped sentence).
        prev_ends = i == 0 or flat[i - 1][0] != p or ends_sentence(text[flat[i - 1][1]:flat[i - 1][2]])
        next_starts = i + 1 == len(flat) or flat[i + 1][0] != p or ends_sentence(line)
        if not (prev_ends and next_starts):
            continue
        prose_after = (i + 1 < len(flat) and flat[i + 1][0] != p and ends_sentence(text[flat[i + 1][1]:flat[i + 1][2]])
                       and flat[i + 1][2] - flat[i + 1][1] > e - s)
        prose_before = i > 0 and flat[i - 1][0] != p and (
            ends_sentence(text[flat[i - 1][1]:flat[i - 1][2]]) or kinds[i - 1] not in ("body", "heading"))
        kind = line_kind(line, near_end=i >= len(flat) - 3, authors=authors, before_body=prose_after and prose_before)
        if kind == "heading" and sizes[p] > 1:
            kind = None  # a short line inside a paragraph is not a section heading
        kinds[i] = kind or "body"
    return kinds


def _chunks(text, paragraphs, title):
    """Runs of lines to hand to Punkt, as (start, end, paragraph, kind).

    A blank line, a line that is not body text (title, byline, heading, related-story
    box, licence, author bio), a list bullet, or a short line without final punctuation
    (a line break that was meant, not hard wrapping) ends a sentence.
    """
    flat = [(p, s, e) for p, lines in enumerate(_per_line(text, paragraphs)) for s, e in lines]
    kinds = _line_kinds(text, flat, title)
    widest = {}
    for p, s, e in flat:
        widest[p] = max(widest.get(p, 0), e - s)
    out, i = [], 0
    while i < len(flat):
        p, start, end = flat[i]
        if kinds[i] != "body":
            out.append((start, end, p, kinds[i]))
            i += 1
            continue
        j = i
        while j + 1 < len(flat) and flat[j + 1][0] == p and kinds[j + 1] == "body":
            line, nxt = text[flat[j][1]:flat[j][2]], text[flat[j + 1][1]:flat[j + 1][2]]
            if _BULLET.match(nxt):
                break
            if (
                not ends_sentence(line) and line[-1] not in ",;:-–—" and len(line) < 0.6 * widest[p]
                and (nxt[0].isupper() or nxt[0].isdigit() or nxt[0] in _OPENERS)
            ):
                break
            j += 1
        out.append((start, flat[j][2], p, "body"))
        i = j + 1
    return out


def _starts_lower(piece):
    piece = piece.lstrip(_OPENERS + " ")
    return piece[:1].islower()


def _continues_name(piece):
    word = piece.split(None, 1)[0] if piece.strip() else ""
    return word[:1].isupper() and word.strip(".,;:").lower() not in _STARTER_SET


def _has_word(piece):
    return any(ch.isalnum() for ch in piece)


def _split_chunk(text, shadow, start, end):
    """Punkt spans of text[start:end], then the fix-up rules; absolute offsets."""
    if not _MAYBE_END.search(text, start, end):
        return [(start, end)]
    spans = [(start + a, start + b) for a, b in _tokenizer().span_tokenize(shadow[start:end])]
    # Ellipsis followed by a capitalised word: a new sentence (Punkt leaves it open).
    split = []
    for a, b in spans:
        for m in _ELLIPSIS_SPLIT.finditer(text, a, b):
            if m.end() < b:
                split.append((a, m.end()))
                a = m.end()
        split.append((a, b))
    merged = []
    for a, b in split:
        piece = text[a:b]
        lead = _LEADING_PUNCT.match(piece)
        if lead and not piece[lead.end():lead.end() + 1].isspace() and not lead.group(0).strip("\"'"):
            lead = None  # a straight quote right before a word opens a quotation
        if merged and lead:
            # A piece never starts with ")", "," or a closing quote: that punctuation
            # belongs to the previous sentence; the rest starts a new one only if it
            # looks like a sentence start.
            rest = piece[lead.end():]
            if "," in lead.group(0) or not rest.strip() or _starts_lower(rest) or not rest[:1].isspace():
                merged[-1] = (merged[-1][0], b)
                continue
            merged[-1] = (merged[-1][0], a + lead.end())
            a += lead.end() + len(rest) - len(rest.lstrip())
            piece = text[a:b]
        if merged:
            prev = text[merged[-1][0]:merged[-1][1]]
            if (
                not _has_word(piece)
                or (_starts_lower(piece) and (
                    prev[-1] in _CLOSERS or prev[-1] in "?!…" or _ELLIPSIS_END.search(prev) or _DOTTED.search(prev)))
                or (_NUMBER_ABBREV.search(prev) and piece[:1].isdigit())
                or (_INITIALS.search(prev) and _continues_name(piece))
            ):
                merged[-1] = (merged[-1][0], b)
                continue
        merged.append((a, b))
    return merged


def _cap(text, start, end, limit=MAX_SENTENCE_CHARS):
    """`(start, end)` cut into pieces of at most `limit` characters, at the last space
    before the limit when there is one (exact offsets, nothing dropped)."""
    while end - start > limit:
        cut = text.rfind(" ", start + 1, start + limit + 1)
        cut = cut if cut > start else start + limit
        yield start, cut
        start = cut
    yield start, end


def split_sentences(text, *, title=None):
    """Split `text` into `Sentence` objects whose offsets index `text` exactly.

    No sentence is longer than `MAX_SENTENCE_CHARS`: a longer one is cut at spaces.
    `title`, when given, marks the first line as the title only if it equals it;
    otherwise a first line without final punctuation, followed by a blank line or
    short, is the title. "By Jane Doe, Reuters" near the top is a byline.
    """
    shadow = text
    for curly, straight in _SHADOW:
        if curly in shadow:
            shadow = shadow.replace(curly, straight)
    sentences = []
    for start, end, paragraph, kind in _chunks(text, _lines(text), title):
        pieces = [(start, end)] if kind != "body" else _split_chunk(text, shadow, start, end)
        for a, b in (cut for piece in pieces for cut in _cap(text, *piece)):
            piece = text[a:b]
            stripped = piece.strip()
            if not stripped:
                continue
            a += len(piece) - len(piece.lstrip())
            b = a + len(stripped)
            sentences.append(Sentence(len(sentences), a, b, stripped, paragraph, kind))
    return sentences


def paragraph_chunks(sentences, size):
    """Consecutive runs of `sentences` of about `size`, cut where a paragraph ends.

    A run ends at the first paragraph boundary once it holds `size` sentences, or after
    ``2 * size`` inside a paragraph that long. Lets the sentences of a very large document
    be predicted, encoded and written a run at a time, so memory does not grow with it.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    start, n = 0, len(sentences)
    while start < n:
        end = min(start + size, n)
        limit = min(start + 2 * size, n)
        while end < limit and sentences[end].paragraph == sentences[end - 1].paragraph:
            end += 1
        yield sentences[start:end]
        start = end
