"""Finding disagreements and summarising coders' choices (the server side is in test_team_integration)."""

from slant.loop.adjudicate import coder_summary, disagreements


def _rec(*label_sets):
    return {"annotations": [{"annotator": f"c{k}@x.org", "labels": list(s)} for k, s in enumerate(label_sets)]}


def test_disagreements_are_multiply_coded_tasks_whose_category_sets_differ():
    records = [_rec(["a"], ["a"]), _rec(["a"], ["a", "b"]), _rec(["a"]), _rec(), _rec([], ["b"]), _rec(["b", "a"], ["a", "b"])]
    assert disagreements(records) == [records[1], records[4]]


def test_coder_summary_names_each_coder_and_their_categories():
    assert coder_summary(_rec(["b", "a"], [])["annotations"]) == "c0@x.org: a, b | c1@x.org: none"
