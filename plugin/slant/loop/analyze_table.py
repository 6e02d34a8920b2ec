"""`slant analyze --format table`: each sentence with its labels, their scores and the
evidence words that drove them.

On a terminal it is a rich table as wide as the terminal, evidence in colour. Piped or
written to a file it is plain text wrapped at 80 columns (one block per sentence), so it
reads in a pager, a mail or a narrow window. Control characters of the article (ANSI
escape codes, bidi overrides) never reach the terminal: each becomes one visible
placeholder character, so span offsets stay right.
"""

import textwrap
import unicodedata

from slant.loop.analyze_html import label_colors

__all__ = ["PLAIN_WIDTH", "safe_text", "write_table"]

PLAIN_WIDTH = 80
# Bidi embeddings, overrides and isolates reorder what a terminal shows (category Cf).
_BIDI = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def _safe_char(ch):
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)   # ␛ for ESC, ␇ for BEL, ...: visible, one character
    if code == 0x7F:
        return "\u2421"             # ␡
    if unicodedata.category(ch) == "Cc" or code in _BIDI:
        return "\ufffd"
    return ch


def safe_text(text):
    """`text` with every control character replaced by one visible character (same length)."""
    if text.isprintable():
        return text
    return "".join(_safe_char(ch) for ch in text)


def _evidence(pred):
    """``[(label, score, [evidence words...])]``: the predicted labels, then span-only labels."""
    words = {}
    for span in pred.spans or ():
        seen = words.setdefault(span["label"], [])
        text = safe_text(span.get("text") or "")
        if text and text not in seen:
            seen.append(text)
    order = list(pred.labels) + [lab for lab in words if lab not in pred.labels]
    return [(lab, pred.scores.get(lab), words.get(lab, [])) for lab in order]


def _evidence_line(label, score, words):
    head = label if score is None else f"{label} {score:.2f}"
    return head + (": " + ", ".join(f'"{w}"' for w in words) if words else "")


def _plain_document(doc, pairs, width):
    title = safe_text(f"{doc.title or doc.id} ({doc.source})")
    lines = [*textwrap.wrap(title, width), "=" * min(width, len(title)), ""]
    indent = " " * 6
    for s, p in pairs:
        lines += textwrap.wrap(safe_text(s.text), width, initial_indent=f"{s.index:>4}  ", subsequent_indent=indent) or [f"{s.index:>4}"]
        found = _evidence(p)
        for label, score, words in found:
            lines += textwrap.wrap(_evidence_line(label, score, words), width, initial_indent=indent + "- ",
                                   subsequent_indent=indent + "  ")
        if not found:
            lines.append(indent + "- no category")
        lines.append("")
    return "\n".join(lines) + "\n"


def _rich_document(doc, pairs, colors):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=safe_text(f"{doc.title or doc.id} ({doc.source})"), expand=True)
    table.add_column("#", justify="right", style="dim")
    table.add_column("sentence", ratio=3)
    table.add_column("labels and evidence", ratio=2)
    for s, p in pairs:
        text = Text(safe_text(s.text))
        for span in p.spans:
            text.stylize(f"bold underline {colors.get(span['label'], 'yellow')}", span["start"], span["end"])
        found = Text()
        for label, score, words in _evidence(p):
            if found:
                found.append("\n")
            found.append(label, style=f"bold {colors.get(label, 'yellow')}")
            found.append("" if score is None else f" {score:.2f}", style="dim")
            if words:
                found.append(": " + ", ".join(f'"{w}"' for w in words))
        table.add_row(str(s.index), text, found if found else Text("-", style="dim"))
    return table


def write_table(results, model, fh, *, color, counter):
    """Write ``(document, [(sentence, prediction), ...])`` items to `fh`, counted by `counter`.

    `color` (a terminal): a rich table per document; otherwise plain text at `PLAIN_WIDTH`.
    """
    if not color:
        for doc, pairs in results:
            counter.add(pairs)
            fh.write(_plain_document(doc, pairs, PLAIN_WIDTH))
        return counter
    from rich.console import Console

    console = Console(file=fh, force_terminal=True)
    colors = label_colors(model.taxonomy)
    for doc, pairs in results:
        counter.add(pairs)
        console.print(_rich_document(doc, pairs, colors))
    return counter
