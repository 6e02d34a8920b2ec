"""_words: counts in words."""

import pytest

from slant._words import counted


@pytest.mark.parametrize("n, noun, plural, want", [
    (1, "document", None, "1 document"),
    (0, "document", None, "0 documents"),
    (2, "category", "categories", "2 categories"),
    (1, "category", "categories", "1 category"),
    (12345, "sentence", None, "12,345 sentences"),
], ids=["one", "zero", "irregular", "irregular-one", "thousands"])
def test_counted(n, noun, plural, want):
    assert counted(n, noun, plural, sep=n > 9999) == want
