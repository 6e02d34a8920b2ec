"""What in a news document is not body text: bylines, section headings, related-story
boxes, licence lines and author bios; and whether a document puts one paragraph per line.

Sentences from such lines keep their `kind` (``byline``, ``heading``, ``related``,
``licence``, ``bio``) in every output, and `slant push` leaves them out by default: an
annotator should never be asked whether a copyright line uses loaded language.

Written by hand: no dependency of slant detects news boilerplate, and the cues are few
and stable (they are the conventions of wire and web copy).
"""

import re

__all__ = ["BODY_KINDS", "NON_BODY_KINDS", "byline_names", "ends_sentence", "is_byline", "line_kind", "one_paragraph_per_line"]

BODY_KINDS = frozenset({"body", "title"})
NON_BODY_KINDS = frozenset({"byline", "heading", "related", "licence", "bio"})

_NAME = r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|de|van|von|der|da|del|la|le|bin|al|ibn))*"
_BYLINE = re.compile(
    rf"(?:By|BY|by)\s+({_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*)"
    r"(?:\s*[,|/–—-]\s*[\w .'’&-]{0,60})?\s*[,.]?"
)
_RELATED = re.compile(
    r"(?:related(?:\s+(?:story|stories|article|articles|coverage|content|reading))?|read\s+more|more\s+from|see\s+also"
    r"|also\s+read|recommended(?:\s+reading)?|you\s+may\s+also\s+like|further\s+reading|watch|listen|sign\s+up"
    r"|subscribe|advertisement|sponsored|click\s+here|follow\s+us|share\s+this(?:\s+article)?)\b\s*[:|>»–—-]?",
    re.IGNORECASE,
)
_LICENCE = re.compile(
    r"^\s*(?:©|\(c\)\s|copyright\b)|all\s+rights\s+reserved|may\s+not\s+be\s+(?:published|reproduced|broadcast|rewritten|redistributed)"
    r"|licen[cs]ed\s+under|creative\s+commons|\bCC\s+BY\b|reprinted\s+with\s+permission|distributed\s+by\b.*\bsyndicate",
    re.IGNORECASE,
)
_BIO_VERB = re.compile(
    r"^(?:[A-Z][\w'’.-]+\s+){1,3}(?:is|was|covers|writes|reports|has\s+covered|has\s+written|edits|contributed)\b"
)
_BIO_ROLE = re.compile(
    r"\b(?:reporter|correspondent|editor|writer|columnist|contributor|journalist|author|covers|freelance|bureau\s+chief"
    r"|staff\s+writer|fellow\s+at|follow\s+(?:him|her|them)|on\s+(?:twitter|x|bluesky|mastodon))\b",
    re.IGNORECASE,
)
_TERMINAL = ".!?…"
_CLOSERS = "\"'”’»)]}"


def ends_sentence(line):
    """The line ends with ".", "!", "?" or "…", perhaps before closing quotes or brackets."""
    tail = line.rstrip().rstrip(_CLOSERS)[-1:]
    return bool(tail) and tail in _TERMINAL


def is_byline(line):
    """"By Jane Doe", "By Jane Doe and Tom Roe ,", "BY JANE DOE | Reuters"."""
    return len(line) <= 140 and _BYLINE.fullmatch(line.strip()) is not None


def byline_names(line):
    """The names in a byline, for recognising the same people's bio at the end."""
    m = _BYLINE.fullmatch(line.strip())
    if not m:
        return []
    return [n.strip() for n in re.split(r"\s*(?:,|\band\b|&)\s*", m.group(1)) if n.strip()]


def _is_heading(line, before_body=False):
    words = line.split()
    if not words or len(words) > 8 or ends_sentence(line) or line.rstrip()[-1] in ",;":
        return False
    first = line.lstrip(_CLOSERS + "\"'“‘(")[:1]
    if not (first.isupper() or first.isdigit()):
        return False
    # Headings are Title Case or capitals ("Politics", "How We Got Here", "LOCAL NEWS"), or
    # a sentence-case subhead between paragraphs of prose ("Residents split on spending");
    # a short line in sentence case among other short lines ("First item") is a list item.
    return before_body or all(w[:1].isupper() or w[:1].isdigit() or len(w) <= 3 for w in words)


def line_kind(line, *, near_end=False, authors=(), before_body=False):
    """The kind of a whole line that is not body text, or None for body text.

    `near_end` says the line is among the document's last few; only there is a line about
    a person's job taken as an author bio. `authors` are names from the byline.
    `before_body` says the line stands between paragraphs of prose, where a short line in
    sentence case is a subhead."""
    text = line.strip()
    if not text:
        return None
    if is_byline(text):
        return "byline"
    if _LICENCE.search(text) and len(text) <= 300:
        return "licence"
    m = _RELATED.match(text)
    if m and (m.end() == len(text) or text[m.end() - 1] in ":|>»–—-" or len(text.split()) <= 12 and not ends_sentence(text)):
        return "related"
    if near_end and len(text) <= 400:
        starts_with_author = any(text.startswith(a) for a in authors if a)
        if (starts_with_author or _BIO_VERB.match(text)) and _BIO_ROLE.search(text):
            return "bio"
    if _is_heading(text, before_body):
        return "heading"
    return None


def one_paragraph_per_line(lines):
    """True when a block of lines is one paragraph per line rather than hard-wrapped text.

    Hard-wrapped lines end mid-sentence most of the time; paragraphs end a sentence. A
    block of three or more lines where at least half of the lines with more than three
    words end a sentence is read as one paragraph per line (headlines, bylines and
    "Related" lines among them do not end one, hence not more than half)."""
    long_lines = [ln for ln in lines if len(ln.split()) > 3]
    if len(long_lines) < 3:
        return False
    return sum(ends_sentence(ln) for ln in long_lines) >= 0.5 * len(long_lines)
