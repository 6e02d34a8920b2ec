"""Counts in words for messages: ``counted(1, "document")`` is "1 document", not "1 documents".

Written here rather than taken from a library (inflect) because slant's nouns are few and
regular; an irregular one passes its plural.

>>> counted(2, "category", "categories")
'2 categories'
"""

__all__ = ["counted"]


def counted(n, noun, plural=None, *, sep=False):
    """``"<n> <noun>"`` with the noun's plural unless `n` is 1; `sep` adds thousands separators."""
    number = f"{n:,}" if sep else f"{n}"
    return f"{number} {noun if n == 1 else plural or noun + 's'}"
