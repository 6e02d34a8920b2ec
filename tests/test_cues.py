"""cues: lexicon loading, token matching, patterns, offsets, and the feature transformer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from slant.errors import InputError
from slant.model.cues import (
    CUE_CATEGORY,
    PATTERN_FAMILIES,
    CueFeatures,
    CueMatcher,
    lexicon_entries,
    lexicon_files,
    load_lexicons,
    word_tokens,
)
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


def test_packaged_lexicons_load_lowercase_without_comments():
    lex = load_lexicons()
    for family in ("charged", "derogatory", "intensifiers", "reporting_verbs", "vague_sources",
                   "factive", "hedges", "fear", "authority", "doubt"):
        assert lex[family], family
        assert all(p == p.lower() and not p.startswith("#") and p.strip() == p for p in lex[family])


def test_packaged_lexicon_files_list_each_entry_once():
    """Duplicates load harmlessly but mean the file was edited carelessly."""
    for path in lexicon_files().values():
        entries = lexicon_entries(path.read_text(encoding="utf-8"))
        dupes = sorted({e for e in entries if entries.count(e) > 1})
        assert not dupes, f"{path.name}: {dupes}"


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


def test_lexicon_directory_errors(tmp_path):
    with pytest.raises(InputError, match=r"lexicon directory .*missing: not found; reinstall slant"):
        load_lexicons(tmp_path / "missing")
    with pytest.raises(InputError, match=r"lexicon directory .*: no \*\.txt lexicon files; add one entry per line"):
        load_lexicons(tmp_path)
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match=r"lexicon .*bad\.txt: not UTF-8 text; save it as UTF-8"):
        load_lexicons(tmp_path)


def test_lexicon_file_format(tmp_path):
    (tmp_path / "charged.txt").write_text("# comment\nSlammed  Hard # trailing\n\nscheme\nscheme\n", encoding="utf-8")
    assert load_lexicons(tmp_path) == {"charged": ("slammed hard", "scheme")}


def test_word_tokens_keep_inner_apostrophes_and_hyphens():
    assert word_tokens("the so-called \u201creform\u201d, they said \u2014 it's 40%.") == [
        "the", "so-called", "reform", "they", "said", "it's", "40"]


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


def test_cue_features_transformer_conventions():
    est = CueFeatures(lexicons=LEX)
    assert est.get_params() == {"lexicons": LEX}
    assert not hasattr(est, "lexicons_")
    fitted = est.fit(["a"])
    assert fitted is est
    X = est.transform(["Critics say the scheme is a scheme.", "Plain words."])
    names = est.get_feature_names_out()
    assert X.shape == (2, len(names))
    assert X[0, list(names).index("cue_charged")] == pytest.approx(np.log1p(2))
    cue_cols = [i for i, n in enumerate(names) if n.startswith("cue_")]
    assert X[1, cue_cols].sum() == 0 and X[1, list(names).index("shape_len_lt6")] == 1
    assert clone(est).get_params() == est.get_params()
    check_no_attributes_set_in_init("CueFeatures", CueFeatures())
    check_parameters_default_constructible("CueFeatures", CueFeatures())
    check_get_params_invariance("CueFeatures", CueFeatures())
    check_set_params("CueFeatures", CueFeatures())


def test_cue_features_default_lexicons_and_errors():
    est = CueFeatures().fit(["x"])
    assert set(est.lexicons_) == set(load_lexicons())
    with pytest.raises(InputError, match="expected a list of sentences, got a single string; wrap it in a list"):
        est.transform("one sentence")
    with pytest.raises(InputError, match="sentence 1 is int, not str; pass a list of strings"):
        est.transform(["ok", 3])


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


# --- word offsets -------------------------------------------------------------------------

def _reference_spans(text):
    """Each whitespace token's span with leading and trailing punctuation trimmed (the whole
    token if it is only punctuation); em dashes separate tokens."""
    import re

    from slant.model.cues import _PUNCT

    out = []
    for m in re.finditer(r"\S+", text.replace("\u2014", " ")):
        core = m.group().strip(_PUNCT)
        if core:
            s = m.start() + len(m.group()) - len(m.group().lstrip(_PUNCT))
            out.append((s, s + len(core)))
        else:
            out.append(m.span())
    return out


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab,.'\"()\u201c\u201d\u2014- \t\n", max_size=40))
def test_word_spans_match_the_reference(text):
    from slant.model.cues import tokens, word_spans

    spans = word_spans(text)
    assert list(spans) == _reference_spans(text)
    assert [spans[k] for k in range(len(spans))] == _reference_spans(text)
    assert list(word_spans(text, tokens(text)[1])) == _reference_spans(text)
    words = tokens(text)[1]
    assert len(spans) == len(words)
    for (s, e), w in zip(spans, words):
        if w:
            assert text[s:e].lower() == w
