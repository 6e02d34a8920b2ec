"""Sentence splitting (slant.text.segment): cases, offsets, titles, the Punkt shortcut."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slant._files import sample_article_path
from slant.text.segment import Sentence, split_sentences


def texts(sentences):
    return [s.text for s in sentences]


def assert_offsets(text, sentences):
    for i, s in enumerate(sentences):
        assert text[s.start:s.end] == s.text, s
        assert s.index == i
        assert s.text == s.text.strip() and s.text
    starts = [s.start for s in sentences]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:]))



# (text, expected sentences); every case is also checked for exact offsets.
CASES = {
    "titles": ("Mr. Smith met Sen. Jones and Dr. Lee. They talked.",
               ["Mr. Smith met Sen. Jones and Dr. Lee.", "They talked."]),
    "military-ranks": ("Lt. Col. Hart and Sgt. Ruiz arrived. Gen. Moss did not.",
                       ["Lt. Col. Hart and Sgt. Ruiz arrived.", "Gen. Moss did not."]),
    "us-uk-un": ("The U.S. and the U.K. asked the U.N. for help. It said no.",
                 ["The U.S. and the U.K. asked the U.N. for help.", "It said no."]),
    "us-sentence-end": ("He moved to the U.S. The move was hard.",
                        ["He moved to the U.S.", "The move was hard."]),
    "dotted-acronym-lowercase": ("A former C.I.A. analyst spoke. The F.B.I. declined.",
                                 ["A former C.I.A. analyst spoke.", "The F.B.I. declined."]),
    "eg-ie-vs": ("Costs rose, e.g. for fuel, i.e. most goods. It was 5 vs. 4 in Jan. last year.",
                 ["Costs rose, e.g. for fuel, i.e. most goods.", "It was 5 vs. 4 in Jan. last year."]),
    "companies": ("Acme Inc. and Bolt Corp. merged with Coil Co. Ltd. shares fell.",
                  ["Acme Inc. and Bolt Corp. merged with Coil Co. Ltd. shares fell."]),
    "number-abbrev": ("It ranked No. 5 in the poll. No. 2 was lower.",
                      ["It ranked No. 5 in the poll.", "No. 2 was lower."]),
    "etc-end": ("They sold pens, paper, etc. The shop closed.",
                ["They sold pens, paper, etc.", "The shop closed."]),
    "initial-middle": ("John F. Kennedy spoke in Dallas. He left.",
                       ["John F. Kennedy spoke in Dallas.", "He left."]),
    "initials-double": ("J. R. Tolkin wrote it. Readers loved it.",
                        ["J. R. Tolkin wrote it.", "Readers loved it."]),
    "initial-sentence-end": ("They chose Plan B. The vote was close.",
                             ["They chose Plan B.", "The vote was close."]),
    "curly-quote-inside": ("“I will not resign,” she said. Then she left.",
                           ["“I will not resign,” she said.", "Then she left."]),
    "straight-quote-inside": ('"I will not resign," she said. Then she left.',
                              ['"I will not resign," she said.', "Then she left."]),
    "quoted-exclamation": ("“I will not resign!” she said. Then she left.",
                           ["“I will not resign!” she said.", "Then she left."]),
    "quoted-question": ("He asked, “Why?” and left. Nobody answered.",
                        ["He asked, “Why?” and left.", "Nobody answered."]),
    "closing-curly-quote": ("She said: “It is over.” The crowd cheered.",
                            ["She said: “It is over.”", "The crowd cheered."]),
    "closing-straight-quote": ('She said: "It is over." The crowd cheered.',
                               ['She said: "It is over."', "The crowd cheered."]),
    "closing-single-curly": ("He called it ‘a farce.’ Others agreed.",
                             ["He called it ‘a farce.’", "Others agreed."]),
    "closing-bracket": ("(He left early.) She stayed.", ["(He left early.)", "She stayed."]),
    "abbrev-in-parens": ("Rep. Lane (R-Kans.), who voted no, spoke. He was brief.",
                         ["Rep. Lane (R-Kans.), who voted no, spoke.", "He was brief."]),
    "em-dash": ("The plan — approved in Jan. 2020 — failed. Critics — many of them — cheered.",
                ["The plan — approved in Jan. 2020 — failed.", "Critics — many of them — cheered."]),
    "em-dash-unspaced": ("The vote—held at 9 p.m.—passed. It was late.",
                         ["The vote—held at 9 p.m.—passed.", "It was late."]),
    "decimals": ("It cost $3.5 billion, up 2.75 percent. Shares hit 10.25.",
                 ["It cost $3.5 billion, up 2.75 percent.", "Shares hit 10.25."]),
    "am-pm": ("The vote is at 9 a.m. on Monday. It ends at 5 p.m. The count follows.",
              ["The vote is at 9 a.m. on Monday.", "It ends at 5 p.m.", "The count follows."]),
    "ellipsis-upper": ("He paused... Then he left.", ["He paused...", "Then he left."]),
    "ellipsis-lower": ("He paused... and then he left.", ["He paused... and then he left."]),
    "ellipsis-char": ("She waited… Nothing happened. It was… odd.",
                      ["She waited…", "Nothing happened.", "It was… odd."]),
    "spaced-ellipsis": ("The banks . . . pay nothing. Right.", ["The banks . . . pay nothing.", "Right."]),
    "headline-no-period": ("Bridge Reopens After Repairs\n\nThe bridge reopened. Cars returned.",
                           ["Bridge Reopens After Repairs", "The bridge reopened.", "Cars returned."]),
    "paragraph-without-period": ("First paragraph has no period\n\nSecond one does.",
                                 ["First paragraph has no period", "Second one does."]),
    "hard-wrapped": ("Lines wrapped at a fixed width are common in plain text and\n"
                     "they continue the sentence on the following line of the file.\nShort end.",
                     ["Lines wrapped at a fixed width are common in plain text and\n"
                      "they continue the sentence on the following line of the file.", "Short end."]),
    "short-line-break": ("Related coverage\nThe council voted on Tuesday to withhold the payment entirely.",
                         ["Related coverage", "The council voted on Tuesday to withhold the payment entirely."]),
    "bullets": ("Items:\n- first item\n- second item", ["Items:", "- first item", "- second item"]),
    "surrounding-space": ("   Padded sentence.   Another one.  \n", ["Padded sentence.", "Another one."]),
    "question-exclaim": ("Is it safe? Yes! It is.", ["Is it safe?", "Yes!", "It is."]),
    "straight-quote-opens-next": ('It ended. "It is a disgrace," she said.', ["It ended.", '"It is a disgrace," she said.']),
    "multi-sentence-quote": ("“We are done. Go home,” he said.", ["“We are done.", "Go home,” he said."]),
}


@pytest.mark.parametrize("text,expected", list(CASES.values()), ids=list(CASES))
def test_split_cases(text, expected):
    sentences = split_sentences(text)
    assert texts(sentences) == expected
    assert_offsets(text, sentences)


def test_empty_and_blank_text():
    assert split_sentences("") == []
    assert split_sentences(" \n\n \t") == []


def test_paragraph_indices():
    text = "One. Two.\n\nThree.\n\n\n\nFour."
    assert [s.paragraph for s in split_sentences(text)] == [0, 0, 1, 2]


def test_frozen():
    s = split_sentences("One.")[0]
    with pytest.raises(AttributeError):
        s.start = 3


def test_sentence_is_a_frozen_record():
    s = split_sentences("Hello there. Bye.")[1]
    assert isinstance(s, Sentence) and (s.index, s.start, s.end, s.text, s.paragraph, s.kind) == (1, 13, 17, "Bye.", 0, "body")


def test_speed_is_linear():
    """A long paragraph-free text splits in well under a second (no quadratic work)."""
    import time

    text = "\n".join(f"Line {i} says Mr. Lee met the U.S. team at 9 a.m. on Jan. 5. It went well." for i in range(4000))
    t0 = time.perf_counter()
    sentences = split_sentences(text)
    assert len(sentences) == 8000
    assert time.perf_counter() - t0 < 5


# --- the Punkt shortcut for plain sentence ends ------------------------------------------

def _contexts(text):
    from slant.text.segment import _SHADOW, _tokenizer

    for curly, straight in _SHADOW:
        text = text.replace(curly, straight)
    return [ctx for _, ctx in _tokenizer()._match_potential_end_contexts(text)]


def _agrees(ctx):
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    from slant.text.segment import _tokenizer

    tok = _tokenizer()
    return tok.text_contains_sentbreak(ctx) == PunktSentenceTokenizer.text_contains_sentbreak(tok, ctx)


def test_plain_break_shortcut_agrees_with_punkt_on_project_texts():
    from slant.model.seed import read_seed
    from slant.text.segment import _PLAIN_BREAK

    records, _ = read_seed()
    seed = [r["text"] for r in records]
    # Seed sentences run together in paragraphs of eight, as in an article.
    texts = [" ".join(seed[i:i + 8]) for i in range(0, len(seed), 8)]
    texts.append(Path(str(sample_article_path())).read_text(encoding="utf-8"))
    texts += [t for t, _ in CASES.values()]
    contexts = [c for t in texts for c in _contexts(t)]
    assert len(contexts) > 1000
    shortcut = [c for c in contexts if _PLAIN_BREAK.fullmatch(c)]
    assert len(shortcut) > 0.5 * len(contexts)  # the shortcut is the common case
    assert [c for c in contexts if not _agrees(c)] == []


@pytest.mark.parametrize("ctx", [
    "budget. The", 'said." He', "said.) Then", "late? No", "now! Then", "Gen. Smith", "gen. Smith", "Dr. Jones",
    "Mr. Lee", "Jan. 5", "B. The", "A. Smith", "II. The", "ok. And", "etc. And", "U.S. The", "2019. The",
    "acting!!! I", "so?! Yes", "well... And", "wait.. no", "re-elected. The", "company's. The", "(budget. The",
    "budget. the", "vs. them", "Sept. 11",
])
def test_plain_break_shortcut_edge_cases(ctx):
    assert _agrees(ctx)


@settings(max_examples=300, deadline=None)
@given(
    word=st.one_of(st.sampled_from(["budget", "Gen", "gen", "U.S", "A", "b", "II", "No", "St", "vs", "etc", "Inc", "12",
                                    "re-elected", "co", "mr", "Ms", "it's", "ok"]),
                   st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.'-", min_size=1, max_size=8)),
    mark=st.sampled_from([".", "?", "!", "..", "?!"]),
    after=st.sampled_from([" The", " the", '"', ")", "'", " 5", "\nThe", "  He", " (", ' "We', "!"]),
)
def test_plain_break_shortcut_agrees_with_punkt_on_generated_contexts(word, mark, after):
    text = f"Before {word}{mark}{after} more words follow here."
    for ctx in _contexts(text):
        assert _agrees(ctx), ctx


def test_paragraph_chunks_cut_at_paragraph_ends_and_cover_every_sentence():
    from slant.text.segment import paragraph_chunks

    text = "\n\n".join(" ".join(f"Paragraph {p} sentence {i} is here." for i in range(n)) for p, n in enumerate([3, 4, 1, 9, 2]))
    sentences = split_sentences(text)
    runs = list(paragraph_chunks(sentences, 4))
    assert [s for run in runs for s in run] == list(sentences)
    for run in runs[:-1]:  # each run ends where a paragraph ends, or after 2 * 4 sentences inside a long one
        nxt = sentences[run[-1].index + 1]
        assert nxt.paragraph != run[-1].paragraph or len(run) == 8
    assert [len(r) for r in runs] == [7, 8, 4]
    with pytest.raises(ValueError):
        next(paragraph_chunks(sentences, 0))


def test_no_sentence_is_longer_than_the_one_limit():
    """A 1 MB line (no punctuation) becomes sentences of at most MAX_SENTENCE_CHARS, cut at
    spaces, offsets exact; the ML backend accepts exactly that length (one limit)."""
    from slant.backend.openapi import Limits
    from slant.text.segment import MAX_SENTENCE_CHARS

    words = " ".join(f"word{i}" for i in range(110_000))
    text = "A normal sentence comes first.\n\n" + words + "\n\n" + "x" * (MAX_SENTENCE_CHARS + 5) + " tail."
    sentences = split_sentences(text)
    assert sentences[0].text == "A normal sentence comes first."
    assert max(len(s.text) for s in sentences) <= MAX_SENTENCE_CHARS
    assert all(text[s.start:s.end] == s.text for s in sentences)
    assert " ".join(s.text for s in sentences[1:-2]) == words  # cut at spaces, nothing lost
    assert [len(s.text) for s in sentences[-2:]] == [MAX_SENTENCE_CHARS, 11]  # no space: a hard cut
    assert Limits().max_text == MAX_SENTENCE_CHARS


def test_splitting_loads_punkt_without_the_rest_of_nltk():
    # nltk/__init__.py imports all of nltk, scipy.stats and scikit-learn: seconds before a
    # re-push can find that every sentence is a duplicate (issue #19). Punkt loads alone,
    # splits the same, and a later `import nltk` is nltk as usual.
    import subprocess
    import sys

    code = ("import sys\nfrom slant.text.segment import split_sentences\n"
            "s = [x.text for x in split_sentences('Dr. Lee arrived at 5 p.m. on Monday. The U.S. team left.')]\n"
            "print(len(s), sorted(m for m in ('nltk', 'scipy', 'sklearn') if m in sys.modules), "
            "[m for m in sys.modules if m.startswith('nltk')])\n"
            "import nltk\nfrom nltk.tokenize.punkt import PunktSentenceTokenizer\n"
            "print(nltk.tokenize.punkt.PunktSentenceTokenizer is PunktSentenceTokenizer, callable(nltk.download))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["2 [] []", "True True"]


def test_threads_splitting_their_first_text_at_once_share_one_punkt():
    # Punkt loads with stand-in nltk packages in sys.modules: two loads at once would take
    # each other's modules away. One thread loads it, the others wait and share it.
    import subprocess
    import sys

    code = ("import sys, threading\nfrom slant.text.segment import _punkt\n"
            "start, got, errors = threading.Barrier(8), [], []\n"
            "def first():\n    start.wait()\n    try:\n        got.append(_punkt())\n"
            "    except Exception as exc:\n        errors.append(repr(exc))\n"
            "threads = [threading.Thread(target=first) for _ in range(8)]\n"
            "[t.start() for t in threads]; [t.join() for t in threads]\n"
            "print(len(got), len({id(m) for m in got}), errors, [m for m in sys.modules if m.startswith('nltk')], "
            "got[0] is _punkt())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "8 1 [] [] True"
