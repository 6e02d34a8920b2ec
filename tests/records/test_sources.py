"""Named vs vague attribution sources (slant.records.sources)."""

import pytest

from slant.records.sources import GENERIC, PRONOUNS, RELATIVES, antecedent_phrase, source_is_named


@pytest.mark.parametrize(
    "source,kwargs,named",
    [
        ("Mayor Ana Ruiz", {}, True),
        ("the Labor Department", {}, True),
        ("a Pfizer spokesperson", {}, True),
        ("FBI", {}, True),
        ("he", {}, True),
        ("They", {"sentence_initial": True}, True),
        ("the senator", {}, True),
        ("Sanders’s", {}, True),
        ("he and Mr. Allen", {}, True),
        ("officials", {}, False),
        ("Officials", {"sentence_initial": True, "lower_words": {"officials"}}, False),
        ("White House officials", {}, False),
        ("people familiar with the negotiations", {}, False),
        ("critics", {}, False),
        ("Some analysts", {}, False),
        ("one senior administration official", {}, False),
        ("a source", {}, False),
        ("Democrats", {}, False),
        ("Witnesses", {"sentence_initial": True, "lower_words": {"witnesses"}}, False),
        ("Voters'", {"sentence_initial": True, "lower_words": {"voters"}}, False),
        ("Figures reported on Sunday", {"sentence_initial": True, "lower_words": {"figures"}}, False),
        ("Sanders campaign", {"sentence_initial": True}, True),
        ("Germany", {"sentence_initial": True}, True),
        ("", {}, False),
        ("who", {"antecedent": "Sen. Maria Lopez"}, True),
        ("who", {"antecedent": "many voters"}, False),
        ("which", {"antecedent": "as well as news from the Central Bank"}, True),
    ],
)
def test_source_is_named(source, kwargs, named):
    assert source_is_named(source, **kwargs) is named


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Mayor Ana Ruiz, who", "Mayor Ana Ruiz"),
        ("Sen. Ruiz, who", "Ruiz"),  # a period ends the phrase, even an abbreviation's
        ("It rained. The Bank of Japan, which", "The Bank of Japan"),
        ("a long list, of many words, and then the eight last words one two three four five, who",
         "and then the eight last words one two three four five"),
        ("(The city council, which", "The city council"),
    ],
)
def test_antecedent_phrase_is_the_phrase_before_the_relative(text, expected):
    start = text.rindex(" ") + 1  # where the relative pronoun starts
    got = antecedent_phrase(text, start)
    assert got == " ".join(expected.split()[-8:])


def test_word_lists_are_lower_case_and_disjoint():
    for words in (GENERIC, PRONOUNS, RELATIVES):
        assert all(w == w.lower() and w.strip() for w in words)
    assert not PRONOUNS & GENERIC and not RELATIVES & PRONOUNS


def test_plural_generic_heads_are_vague():
    assert source_is_named("officials", lower_words=frozenset()) is False
    assert source_is_named("the analysts") is False
    assert source_is_named("the analyst") is False  # generic head, whatever the determiner
