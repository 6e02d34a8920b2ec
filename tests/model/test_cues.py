"""CueMatcher: lexicon phrases, patterns, offsets, speed."""

import numpy as np
import pytest

from slant.model.cues import CUE_CATEGORY, PATTERN_FAMILIES, CueMatcher
from slant.model.lexicons import load_lexicons
from slant.taxonomy.core import load_taxonomy

LEX = {
    "charged": ("scheme", "slammed", "power grab"),
    "derogatory": ("so-called", "thugs", "so-called experts"),
    "reporting_verbs": ("said", "say", "told", "according to", "argued"),
    "vague_sources": ("officials said", "critics say", "it is believed"),
    "hedges": ("claimed",),
    "intensifiers": ("never", "everyone"),
}


@pytest.fixture(scope="module")
def m():
    return CueMatcher(LEX)


def fams(m, text):
    return [(c.family, c.text) for c in m.find(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The senator called his rival a liar and a coward.", [("derogatory", "liar"), ("derogatory", "coward")]),
        ("Aides believe the vote will slip.", [("vague_sources", "Aides"), ("reporting_verbs", "believe")]),
        ("A new poll shows a tight race.", [("vague_sources", "A new poll"), ("reporting_verbs", "shows")]),
        ("The heroic crew faced a horrifying blaze.", [("charged", "heroic")]),
    ],
    ids=["insults", "belief-verb", "poll", "glorifying"],
)
def test_lexicons_cover_labels_beliefs_and_praise(text, expected):
    got = fams(CueMatcher(load_lexicons()), text)  # the packaged lexicons
    for item in expected:
        assert item in got, got


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Critics say the scheme is a disaster.", [("vague_sources", "Critics say"), ("reporting_verbs", "say"), ("charged", "scheme")]),
        ("Payrolls grew, officials said.", [("vague_sources", "officials said"), ("reporting_verbs", "said")]),
        ("They SLAMMED the power grab.", [("charged", "SLAMMED"), ("charged", "power grab")]),
        ("The so-called \u201cexperts\u201d never agree.", [("derogatory", "so-called \u201cexperts\u201d"), ("derogatory", "so-called")]),
        ("It is believed the plan failed.", [("vague_sources", "It is believed")]),
    ],
    ids=["vague-inside", "phrase", "case", "quoted-phrase", "passive"],
)
def test_lexicon_hits_longest_first_with_inner_entries(m, text, expected):
    got = fams(m, text)
    for item in expected:
        assert item in got


def test_words_inside_words_do_not_match(m):
    assert not any(f == "charged" for f, _ in fams(m, "The schemer resaid nothing."))


@pytest.mark.parametrize(
    "text, span",
    [
        ("The ministry's \"reform\" leaves the fees in place.", '"reform"'),
        ("The company's 'voluntary' buyout came with a deadline.", "'voluntary'"),
        ("What it calls a \u201ctransition plan\u201d is a map.", "\u201ctransition plan\u201d"),
        ("The administration\u2019s \u2018soft landing\u2019 felt hard.", "\u2018soft landing\u2019"),
    ],
    ids=["straight", "single", "curly", "curly-single"],
)
def test_scare_quotes_short_phrases(m, text, span):
    assert ("scare_quote", span) in fams(m, text)


@pytest.mark.parametrize(
    "text",
    [
        "\u201cWe will not raise fees this year,\u201d the minister told reporters.",
        "He said: \"No.\"",
        "\"Never again,\" she said.",
        "She called the plan \"a reckless and dangerous gamble with public money\" on Monday.",
        "The company's workers' union met on Tuesday.",
    ],
    ids=["statement", "after-colon", "ends-with-comma", "five-words", "apostrophes"],
)
def test_quoted_statements_are_not_scare_quotes(m, text):
    assert "scare_quote" not in [f for f, _ in fams(m, text)]


@pytest.mark.parametrize(
    "text, span",
    [
        ("Senator Maria Okafor said the plan will push rents higher.", "Senator Maria Okafor said"),
        ("The plant will close, said Helen Marsh, a spokeswoman.", "said Helen Marsh"),
        ("Helen Marsh, a spokeswoman for the company, said the plant will close.", "Helen Marsh, a spokeswoman for the company, said"),
        ("According to the Veldor Statistics Office, payrolls grew.", "According to the Veldor Statistics Office"),
        ("Rents rose, the Harbor Council said.", "Harbor Council said"),
    ],
    ids=["name-verb", "verb-name", "apposition", "according-to", "organisation"],
)
def test_named_attribution(m, text, span):
    assert ("attribution_named", span) in fams(m, text)


@pytest.mark.parametrize(
    "text",
    ["Payrolls grew, officials said.", "Critics say the plan failed.", "In March, said the report, rents rose."],
    ids=["officials", "critics", "month"],
)
def test_vague_sources_are_not_named(m, text):
    assert "attribution_named" not in [f for f, _ in fams(m, text)]


def test_pronoun_attribution(m):
    assert ("attribution_pronoun", "he said") in fams(m, "The plan is dead, he said.")


@pytest.mark.parametrize(
    "text, bare",
    [
        ("Crime jumped 40 percent under the new chief.", True),
        ("The drug cut the risk by half and costs $4 million.", True),
        ("Burglaries rose from 120 in 2022 to 168 in 2023.", False),
        ("Prices rose 3 percent compared with last year.", False),
        ("The bridge opened in 1961.", False),
    ],
    ids=["percent", "money", "baseline", "comparison", "year-only"],
)
def test_numbers_without_context(m, text, bare):
    assert ("bare_number" in [f for f, _ in fams(m, text)]) is bare


def test_change_words_and_percent(m):
    got = fams(m, "Main breaks have tripled while costs rose 12 percent.")
    assert ("change_word", "tripled") in got
    assert ("percent", "12 percent") in got


def test_rhetorical_question_and_exclamation(m):
    got = fams(m, "Can voters really trust a treasurer like that?")
    assert ("rhetorical_question", "Can") in got and ("question", "?") in got
    assert "rhetorical_question" not in [f for f, _ in fams(m, "Voters asked what happened?")]
    assert ("exclamation", "!") in fams(m, "Enough is enough!")


def test_superlatives_conditionals_first_person(m):
    got = fams(m, "If we do nothing, the deadliest flood will hit our most vulnerable towns.")
    assert ("superlative", "deadliest") in got
    assert ("superlative", "most vulnerable") in got
    assert ("conditional", "If we do nothing, the deadliest flood will") in got
    assert ("first_person", "we") in got and ("first_person", "our") in got


@pytest.mark.parametrize(
    "text",
    [
        "Critics say the so-called \u201cexperts\u201d slammed it \u2014 officials said 40% (of $4 million) \u201cnever\u201d!",
        "İstanbul officials said the scheme was a power grab, according to Finwire.",
        "  Leading spaces and trailing ones, he said.  ",
        "",
        "\u2014",
    ],
    ids=["punctuation", "length-changing-lower", "spaces", "empty", "dash"],
)
def test_offsets_are_exact(m, text):
    for c in m.find(text):
        assert text[c.start:c.end] == c.text
        assert 0 <= c.start < c.end <= len(text)


def test_every_mapped_category_exists_in_default_taxonomy():
    tax = load_taxonomy()
    assert set(CUE_CATEGORY.values()) <= set(tax.ids)
    assert set(CUE_CATEGORY) <= set(load_lexicons()) | set(PATTERN_FAMILIES)


def test_counts_match_find(m):
    texts = ["Critics say the scheme is a \"scam\".", "Nothing here.", "Ana Ruiz said 40 percent left!"]
    counts = m.counts(texts)
    for row, text in enumerate(texts):
        expected = np.zeros(len(m.families))
        for c in m.find(text):
            expected[m.index[c.family]] += 1
        assert (counts[row] == expected).all()


def test_matcher_is_fast_enough():
    """A budget, not a benchmark (benchmarks/bench_prelabel.py measures): ~20 µs a sentence here."""
    import time

    m = CueMatcher(load_lexicons())
    texts = [
        "Critics say the so-called \u201creform\u201d slammed by officials will cost 40 percent more, said Ana Ruiz.",
        "The council approved a budget that reduces library funding by 8 percent compared with last year.",
    ] * 2000
    t = time.perf_counter()
    m.counts(texts)
    assert (time.perf_counter() - t) / len(texts) < 300e-6  # generous: CI machines are shared
