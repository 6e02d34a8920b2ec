"""Active selection: scores per strategy, top-N on a constructed corpus, diversity,
skipping what the project has, and memory that does not grow with the corpus."""

import gc
import random
import tracemalloc
from collections import Counter

import numpy as np
import pytest

from slant.errors import InputError
from slant.loop.select import (
    STRATEGIES,
    informativeness,
    select_informative,
    uncertainty_scores,
)
from slant.loop.train import retrain
from slant.model.seed import read_seed
from slant.studio.lsformat import task_data
from slant.text.documents import make_document


@pytest.fixture(scope="module")
def model(tax):
    """A small model trained on 200 seed sentences: fast, and uncertain about plenty."""
    recs = [{**r, "policy": "seed"} for r in read_seed()[0][:200]]
    return retrain(recs, taxonomy=tax, base="none", cv=2, holdout=0).model


def corpus(n_docs, per_doc=20, seed=0):
    """Documents of sentences drawn from the seed set with a document-specific phrase."""
    texts = [r["text"] for r in read_seed()[0]]
    rng = random.Random(seed)
    for d in range(n_docs):
        sentences = [rng.choice(texts).rstrip(".") + f" in district {d}." for _ in range(per_doc)]
        yield make_document(" ".join(sentences), doc_id=f"doc{d}", source=f"doc{d}.txt")


def all_scores(model, tax, docs, strategy):
    datas = [d for doc in docs for d in task_data(doc, taxonomy=tax)]
    proba = model.estimator.predict_proba([d["text"] for d in datas])
    return datas, informativeness(proba, model.estimator.thresholds_, strategy)


def test_strategy_scores_on_hand_made_probabilities():
    t = np.array([0.5, 0.2])
    p = np.array([[0.5, 0.9], [0.95, 0.0], [0.6, 0.25]])
    np.testing.assert_allclose(uncertainty_scores(p, t), [1.0, 1 - 0.45 / 0.5, 1 - min(0.1 / 0.5, 0.05 / 0.2)])
    np.testing.assert_allclose(informativeness(p, t, "margin"), [1.0, 1 - 0.2, 1 - 0.05])
    h = lambda x: -(x * np.log2(x) + (1 - x) * np.log2(1 - x))
    np.testing.assert_allclose(informativeness(p, t, "entropy")[2], (h(0.6) + h(0.25)) / 2)
    assert informativeness(p, t, "entropy")[0] == pytest.approx((1 + h(0.9)) / 2)
    with pytest.raises(InputError, match="--strategy 'random' is not known; use one of uncertainty, margin, entropy, diverse"):
        informativeness(p, t, "random")


def test_uncertainty_does_not_favour_low_threshold_categories():
    # a tick 0.02 above a 0.14 threshold (14% of it) is less uncertain than 0.55 against 0.5 (10%);
    # scaled by 1 - t above the threshold it looked nearly maximal (0.977) and led the queue
    t = np.array([0.14, 0.5])
    p = np.array([[0.16, 0.0], [0.0, 0.55], [0.12, 0.0], [0.0, 0.45]])
    u = uncertainty_scores(p, t)
    np.testing.assert_allclose(u, [1 - 0.02 / 0.14, 1 - 0.05 / 0.5, 1 - 0.02 / 0.14, 1 - 0.05 / 0.5])
    assert u[1] > u[0] and u[0] == pytest.approx(u[2])  # symmetric about the threshold
    order = np.argsort(-u, kind="stable")
    assert set(order[:2].tolist()) == {1, 3}


def test_uncertainty_matches_the_review_queue(model):
    texts = ["Critics say the scheme is a disaster.", "The meeting starts at noon.", "Officials warned of chaos."]
    proba = model.estimator.predict_proba(texts)
    ours = uncertainty_scores(proba, model.estimator.thresholds_)
    assert [round(float(u), 4) for u in ours] == [p.uncertainty for p in model.predict(texts)]


@pytest.mark.parametrize("strategy", ["uncertainty", "margin", "entropy"])
def test_selection_is_the_top_n(model, tax, strategy):
    docs = list(corpus(12))
    datas, scores = all_scores(model, tax, docs, strategy)
    sel = select_informative(iter(docs), model=model, taxonomy=tax, n=15, strategy=strategy, batch_size=37)
    picked = [d["slant_id"] for d in sel.items]
    expected = [datas[i]["slant_id"] for i in np.argsort(-scores, kind="stable")[:15]]
    assert picked == expected
    got = [d["informativeness"] for d in sel.items]
    assert got == sorted(got, reverse=True) and got[-1] >= round(float(np.sort(scores)[-15]), 4)
    assert all(d["selection"] == strategy and 0 <= d["uncertainty"] <= 1 for d in sel.items)
    assert (sel.documents, sel.sentences, sel.scored, sel.duplicates) == (12, len(datas), len(datas), 0)
    assert f"by {strategy}" in sel.summary()


def test_selection_skips_existing_and_repeated_documents(model, tax):
    docs = list(corpus(6))
    first = select_informative(iter(docs), model=model, taxonomy=tax, n=10)
    existing = frozenset(d["slant_id"] for d in first.items)
    second = select_informative(iter(docs + docs), model=model, taxonomy=tax, n=10, existing=existing)
    ids = [d["slant_id"] for d in second.items]
    assert len(set(ids)) == 10 and not set(ids) & existing
    assert second.duplicates == 20
    datas, scores = all_scores(model, tax, docs, "uncertainty")
    ranked = [datas[i]["slant_id"] for i in np.argsort(-scores, kind="stable")]
    assert ids == [s for s in ranked if s not in existing][:10]


def test_diverse_spreads_over_documents_and_avoids_near_duplicates(model, tax):
    base = list(corpus(10))
    datas, scores = all_scores(model, tax, base, "uncertainty")
    # one document (read first) repeating the 12 most uncertain sentences of the others
    top = [datas[i]["text"] for i in np.argsort(-scores, kind="stable")[:12]]
    docs = [make_document(" ".join(top), doc_id="echo")] + base
    plain = select_informative(iter(docs), model=model, taxonomy=tax, n=10, strategy="uncertainty")
    diverse = select_informative(iter(docs), model=model, taxonomy=tax, n=10, strategy="diverse")
    # plain uncertainty takes each of the top sentences twice (the echo and the original)
    assert len({d["text"] for d in plain.items}) == 5 and sum(d["doc_id"] == "echo" for d in plain.items) == 5
    per_doc = Counter(d["doc_id"] for d in diverse.items)
    assert len(diverse.items) == 10 and max(per_doc.values()) == 1  # cap: 5% of 10, at least 1
    assert len({d["text"] for d in diverse.items}) == 10  # no sentence twice, though each top one exists twice
    # the first pick is the most uncertain sentence; every pick is from the pool of the 5N most uncertain
    _, alls = all_scores(model, tax, docs, "uncertainty")
    assert diverse.items[0]["informativeness"] == round(float(alls.max()), 4)
    assert all(d["informativeness"] >= round(float(np.sort(alls)[-50]), 4) for d in diverse.items)
    capped = select_informative(iter(docs), model=model, taxonomy=tax, n=10, strategy="diverse", per_document=3)
    assert max(Counter(d["doc_id"] for d in capped.items).values()) <= 3


def test_selection_bad_arguments(model, tax):
    with pytest.raises(InputError, match="--select 0: choose at least 1 sentence"):
        select_informative(iter([]), model=model, taxonomy=tax, n=0)
    with pytest.raises(InputError, match="--strategy 'best' is not known"):
        select_informative(iter([]), model=model, taxonomy=tax, n=3, strategy="best")
    empty = select_informative(iter([]), model=model, taxonomy=tax, n=3)
    assert empty.items == [] and "selected nothing" in empty.summary()
    assert set(STRATEGIES) == {"uncertainty", "margin", "entropy", "diverse"}


def _peak(model, tax, n_docs, strategy):
    gc.collect()
    tracemalloc.start()
    try:
        sel = select_informative(corpus(n_docs, seed=1), model=model, taxonomy=tax, n=20, strategy=strategy,
                                 batch_size=200)
        return tracemalloc.get_traced_memory()[1], sel
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("strategy", ["uncertainty", "diverse"])
def test_selection_memory_does_not_grow_with_the_corpus(model, tax, strategy):
    _peak(model, tax, 10, strategy)                   # warm the model's word-feature cache
    small, s1 = _peak(model, tax, 20, strategy)       # 400 sentences
    large, s2 = _peak(model, tax, 120, strategy)      # 2,400 sentences
    # every pushed sentence of the corpus is scored once (seed sentences may split in two)
    assert s1.sentences == sum(len(task_data(d, taxonomy=tax)) for d in corpus(20, seed=1))
    assert s2.sentences == sum(len(task_data(d, taxonomy=tax)) for d in corpus(120, seed=1)) and len(s2.items) == 20
    # 6x the corpus: the peak stays that of one batch and the heap (measured ~3.5 MB)
    assert large < small * 1.5 + 1_000_000, (small, large)
    assert large < 20_000_000
