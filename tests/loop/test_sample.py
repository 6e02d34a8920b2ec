"""Review and audit samples of a corpus: allocation, inclusion probabilities, the same
sentences for the same seed."""

import pytest

from slant.errors import InputError
from slant.loop.sample import allocate, choose


def _rows(sizes, kind="body"):
    rows = []
    for outlet, n in sizes.items():
        rows += [{"slant_id": f"{outlet}-{i}", "kind": kind, "uncertainty": (i % 10) / 10, "outlet": outlet} for i in range(n)]
    return rows


@pytest.mark.parametrize("n, sizes, want", [
    (10, {"a": 50, "b": 30, "c": 20}, {"a": 5, "b": 3, "c": 2}),
    (3, {"a": 900, "b": 90, "c": 10}, {"a": 1, "b": 1, "c": 1}),     # at least one per stratum
    (2, {"a": 900, "b": 90, "c": 10}, {"a": 1, "b": 1, "c": 0}),     # not possible for all: the largest first
    (500, {"a": 5, "b": 7}, {"a": 5, "b": 7}),                        # more than there is: all
    (7, {"a": 1, "b": 1, "c": 100}, {"a": 1, "b": 1, "c": 5}),
], ids=["proportional", "min-one", "too-few", "all", "small-strata"])
def test_allocate(n, sizes, want):
    assert allocate(n, sizes) == want


def test_uniform_audit_probabilities_and_stable_choice():
    rows = _rows({"a": 60, "b": 40}) + _rows({"byline": 5}, kind="byline")
    s = choose(rows, n=10, purpose="audit", seed=3)
    assert s.design == "uniform" and s.population == 100 and len(s.chosen) == 10
    assert {tuple(v.items()) for v in s.chosen.values()} == {
        (("slant_audit", True), ("slant_audit_p", 0.1), ("slant_audit_stratum", ""), ("slant_audit_design", "uniform"))}
    assert choose(list(reversed(rows)), n=10, purpose="audit", seed=3).chosen == s.chosen  # order does not matter
    assert set(choose(rows, n=20, purpose="audit", seed=3).chosen) > set(s.chosen)        # a larger n keeps it
    assert choose(rows, n=10, purpose="audit", seed=4).chosen != s.chosen
    assert not any(k.startswith("byline") for k in s.chosen)


def test_stratified_audit():
    s = choose(_rows({"a": 90, "b": 9, "c": 1}), n=10, purpose="audit", by="outlet")
    assert s.design == "stratified" and s.strata == {"a": (8, 90), "b": (1, 9), "c": (1, 1)}
    ps = {v["slant_audit_stratum"]: v["slant_audit_p"] for v in s.chosen.values()}
    assert ps == {"a": 8 / 90, "b": 1 / 9, "c": 1.0}
    assert all(v["slant_audit_design"] == "stratified" for v in s.chosen.values())


def test_review_samples():
    rows = _rows({"a": 30, "b": 20})
    top = choose(rows, n=5, purpose="review", strategy="uncertainty")
    assert all(v == {"uncertainty": 0.9, "selection": "uncertainty"} for v in top.chosen.values())
    rand = choose(rows, n=5, purpose="review", strategy="random")
    assert len(rand.chosen) == 5 and not any("slant_audit" in v for v in rand.chosen.values())
    assert rand.chosen.keys() != choose(rows, n=5, purpose="audit").chosen.keys()  # not the audit's sentences
    strat = choose(rows, n=5, purpose="review", strategy="stratified", by="outlet")
    assert strat.strata == {"a": (3, 30), "b": (2, 20)}


@pytest.mark.parametrize("kwargs, needle", [
    ({"n": 0, "purpose": "audit"}, r"--audit 0: choose at least 1"),
    ({"n": 3, "purpose": "review", "strategy": "margin"}, r"--strategy 'margin' with --from: use one of"),
    ({"n": 3, "purpose": "review", "strategy": "stratified"}, r"needs --by FIELD"),
    ({"n": 3, "purpose": "review", "strategy": "random", "by": "outlet"}, r"--by goes with --strategy stratified"),
], ids=["zero", "strategy", "no-by", "by-without-stratified"])
def test_bad_choices(kwargs, needle):
    with pytest.raises(InputError, match=needle):
        choose(_rows({"a": 3}), **kwargs)
