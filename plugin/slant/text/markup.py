"""Text out of markup: HTML and Markdown to plain paragraphs and a title."""

import re
from html.parser import HTMLParser

__all__ = ["extract_html", "extract_markdown"]

_BLOCK_TAGS = frozenset("""
    address article aside blockquote body dd details dialog div dl dt fieldset figcaption figure
    footer form h1 h2 h3 h4 h5 h6 header hr li main ol p pre section summary table tbody td tfoot
    th thead tr ul caption
""".split())
_DROP_TAGS = frozenset("script style nav head noscript template svg iframe button select".split())
_BR = "\x00"  # a <br>; stands in for "\n" until whitespace is collapsed


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.drop, self.title, self.h1, self._in = [], 0, None, None, None

    def handle_starttag(self, tag, attrs):
        if tag in _DROP_TAGS:
            self.drop += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append(_BR)
        if tag in ("title", "h1") and self._in is None:
            self._in, self._buf = tag, []

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.parts.append(_BR)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag == self._in:
            text = " ".join("".join(self._buf).split())
            if tag == "title" and self.title is None:
                self.title = text or None
            elif tag == "h1" and self.h1 is None:
                self.h1 = text or None
            self._in = None
        if tag in _DROP_TAGS:
            self.drop = max(0, self.drop - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self._in:
            self._buf.append(data)
        if not self.drop:
            self.parts.append(data)


def extract_html(html):
    """(text, title) from HTML: script/style/nav/head dropped, blocks become paragraphs.

    The title is the first <h1> (it is also in the text) or else <title>.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    paragraphs = []
    for block in "".join(parser.parts).split("\n\n"):
        lines = [" ".join(line.split()) for line in block.split(_BR)]
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    return "\n\n".join(paragraphs), parser.h1 or parser.title


_MD_INLINE = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),                       # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),                    # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),                   # [text][ref]
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),                     # <http://...>
    (re.compile(r"`([^`]+)`"), r"\1"),                                # `code`
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),            # **strong**
    (re.compile(r"(?<![\w*\\])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),   # *em*
    (re.compile(r"(?<![\w\\])_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),    # _em_
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])"), r"\1"),               # escapes
]
_MD_SKIP = re.compile(r"\s*(?:[-*_]\s*){3,}$|\s*\[[^\]]+\]:\s*\S+.*$|\s*(?:=+|-+)\s*$")
_MD_PREFIX = re.compile(r"\s*(?:>\s?)+|\s*(?:[-*+]|\d{1,3}[.)])\s+")
_MD_HEADING = re.compile(r"\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def extract_markdown(md):
    """(text, title) from Markdown: headings, emphasis, links, code fences stripped.

    Headings and list items become paragraphs of their own; the first level-1 heading
    (or the first heading) is the title.
    """
    paragraphs, current, title, first_heading, fenced = [], [], None, None, False

    def flush():
        if current:
            paragraphs.append("\n".join(current))
            current.clear()

    for line in md.replace("\r\n", "\n").split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            flush()
            continue
        if fenced or not line.strip():
            flush()
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            flush()
            text = _md_inline(heading.group(2))
            if text:
                paragraphs.append(text)
                first_heading = first_heading or text
                if heading.group(1) == "#" and title is None:
                    title = text
            continue
        if _MD_SKIP.match(line):
            flush()  # rules, setext underlines, link reference definitions
            continue
        prefix = _MD_PREFIX.match(line)
        if prefix and not prefix.group(0).lstrip().startswith(">"):
            flush()  # each list item is a paragraph of its own
        text = _md_inline(line[prefix.end():] if prefix else line)
        if text:
            current.append(text)
    flush()
    return "\n\n".join(paragraphs), title or first_heading


def _md_inline(text):
    for pattern, repl in _MD_INLINE:
        text = pattern.sub(repl, text)
    return " ".join(text.split())
