"""Non-body lines (bylines, headings, related-story boxes, licence lines, author bios),
one paragraph per line, and initials inside names."""

import pytest

from slant.text.boilerplate import byline_names, is_byline, line_kind, one_paragraph_per_line
from slant.text.segment import split_sentences

ARTICLE = """Senate Panel Moves Ahead on Water Bill
By Maria Okafor and Tom Reyes ,
Politics
The Senate committee voted 9-4 on Tuesday to advance the bill. Supporters said it would fix aging pipes.
President George H.W. Bush refused to sign a similar measure in 1990, and the U.S. Army Corps revived it.
Critics called the plan a reckless giveaway to developers. "This is a scam," said Sen. Dana Hill.
Related Story: Drought deepens in the valley
The vote now goes to the full Senate, where leaders expect a close count.
© 2026 Example News. All rights reserved. This material may not be published without permission.
Maria Okafor covers state politics for Example News. Tom Reyes is a data reporter.
"""


def test_an_article_with_one_paragraph_per_line():
    got = [(s.paragraph, s.kind, s.text) for s in split_sentences(ARTICLE)]
    assert [k for _, k, _ in got] == [
        "title", "byline", "heading", "body", "body", "body", "body", "body", "related", "body", "licence", "bio"]
    # one paragraph per line: the three sentence lines are three paragraphs, not one
    assert len({p for p, _, _ in got}) == 10
    assert ("President George H.W. Bush refused to sign a similar measure in 1990, and the U.S. Army Corps revived it."
            in [t for _, _, t in got])


def test_hard_wrapped_text_stays_one_paragraph():
    text = ("The council met on Tuesday to weigh the plan, which would raise\n"
            "fares for the first time in a decade and cut two night routes that\n"
            "serve the harbor district. Members said they would vote next month\n"
            "after hearing from riders at three public sessions.\n")
    sents = split_sentences(text)
    assert [s.kind for s in sents] == ["body", "body"]
    assert {s.paragraph for s in sents} == {0}
    assert not one_paragraph_per_line(text.splitlines())


@pytest.mark.parametrize("line, kind", [
    ("By Jane Doe", "byline"),
    ("BY JANE DOE | Reuters", "byline"),
    ("By Ana de la Cruz and Lee Park, Staff Writers", "byline"),
    ("Related: Ferry fares rise again", "related"),
    ("READ MORE: How the vote was counted", "related"),
    ("Advertisement", "related"),
    ("Copyright 2026 Example Media Group", "licence"),
    ("(c) 2025 Harbor Daily, licensed under Creative Commons", "licence"),
    ("How We Got Here", "heading"),
    ("LOCAL NEWS", "heading"),
    ("First item", None),
    ("The council met on Tuesday.", None),
    ("Related findings were published in March by the state auditor.", None),
    ("By noon the crowd had grown to several thousand people.", None),
])
def test_line_kind(line, kind):
    assert line_kind(line) == kind


def test_bio_only_near_the_end_and_about_a_job():
    bio = "Dana Ruiz is a correspondent based in Lagos."
    assert line_kind(bio, near_end=True) == "bio"
    assert line_kind(bio, near_end=False) is None
    assert line_kind("Dana Ruiz is the mayor's chief of staff.", near_end=True) is None
    assert line_kind("Okafor covers the statehouse.", near_end=True, authors=["Okafor"]) == "bio"


def test_byline_names():
    assert byline_names("By Maria Okafor and Tom Reyes ,") == ["Maria Okafor", "Tom Reyes"]
    assert byline_names("Not a byline") == []
    assert is_byline("By Jane Doe.")


@pytest.mark.parametrize("text, n", [
    ("John F. Kennedy spoke first. Then the mayor spoke.", 2),
    ("They moved to Washington, D.C. The move was quick.", 2),
    ("George H.W. Bush won in 1988.", 1),
    ("The bill is numbered S. 2214 and it passed.", 1),
    ("He backed H.R. 1 last year.", 1),
])
def test_initials_inside_names(text, n):
    assert len(split_sentences(text)) == n


def test_a_sentence_case_subhead_between_paragraphs_is_a_heading_but_list_items_are_not():
    text = ("Council Votes on Budget\n\nThe council met on Tuesday and voted 5-2 to pass the budget.\n\n"
            "Residents split on public safety spending\n\n"
            "About 40 people spoke during public comment, which lasted nearly two hours.\n\n"
            "First item\n\nSecond item\n\nThe meeting ended at ten.\n")
    kinds = {s.text: s.kind for s in split_sentences(text)}
    assert kinds["Residents split on public safety spending"] == "heading"
    assert kinds["First item"] == "body" and kinds["Second item"] == "body"
