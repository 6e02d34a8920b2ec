"""The span model: where in a sentence each device is, learned from marked spans.

Sentence labels come from `SlantClassifier`; for every ticked span-level category the
tagger marks the words that carry it, so what annotators see in Label Studio agrees with
the ticked boxes (a ticked span category gets its span, an unticked one none). It is
trained from span supervision: the seed sentences' spans, PTC technique spans and
PolNeAR source/cue spans through the importers, and spans annotators mark in Label Studio.

One token classifier per span-level category (logistic regression over hashed features of
the word, its shape, its neighbours, lexicon families and quotation context), trained on
the tokens of sentences that carry the category: given that a sentence uses a device,
which words carry it. Attribution is one decision over found spans: one tagger finds
source and cue words for named and vague attribution together, and a second classifier
calls each found source named or vague, so the same source is never both.

Written here rather than with a CRF library: scikit-learn's linear models over hashed
features persist with skops (no pickle) and need no extra dependency; runs of tokens
above a threshold tuned on held-out documents are what a reviewer needs.
"""

from functools import lru_cache

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression

from slant.model.lexicons import load_lexicons
from slant.model.metrics import span_prf
from slant.model.tokenfeatures import N_FEATURES, lexicon_families, token_matrix, token_table

__all__ = ["ATTRIBUTION", "SpanTagger", "is_cue"]

ATTRIBUTION = ("attribution_named", "attribution_vague")
_NAMED_CACHE = 200_000  # source decisions a tagger keeps before starting over
_VAGUE_DETS = frozenset("a an some many several one two three few most other others certain unnamed anonymous".split())


def _inside(spans, gold):
    """Per token: does it overlap one of the `gold` (start, end) spans?"""
    return [any(s < ge and gs < e for gs, ge in gold) for s, e in spans]


# Words that are never a span on their own. Personal pronouns are not among them: "he
# said" has a source, named through the person it stands for (as the seed marks it).
_FUNCTION = frozenset("""the a an this that these those it its it's of to in on for and or but by with as at from
    is was are were be been has have had his her their our my your there here who which""".split())


def _runs(probs, words, cut):
    """Runs of adjacent tokens at or above `cut`, as ``(first, last, score)`` token
    indices; runs of function words only ("the", "it") are dropped, and when nothing is
    left the best content word stands alone (a ticked category always gets a span)."""
    if not probs:
        return []
    out, k, n = [], 0, len(probs)
    while k < n:
        if probs[k] < cut:
            k += 1
            continue
        j = k
        while j + 1 < n and probs[j + 1] >= cut:
            j += 1
        if any(words[i] not in _FUNCTION for i in range(k, j + 1)):
            out.append((k, j, float(max(probs[k:j + 1]))))
        k = j + 1
    if not out:
        content = [i for i in range(n) if words[i] not in _FUNCTION] or list(range(n))
        best = max(content, key=lambda i: probs[i])
        out.append((best, best, float(probs[best])))
    return out


def _merge_adjacent(text, spans):
    """``(start, end, weight)`` spans separated only by spaces merged ("according" "to")."""
    out = []
    for a, b, w in spans:
        if out and not text[out[-1][1]:a].strip():
            out[-1] = (out[-1][0], b, max(out[-1][2], w))
        else:
            out.append((a, b, w))
    return out


def _source_features(text, start, end):
    words = text[start:end].split()
    low = [w.strip(".,;:'\"“”’").lower() for w in words]
    f = [f"w={w}" for w in low] + [f"head={low[-1] if low else ''}", f"first={low[0] if low else ''}"]
    caps = sum(1 for w in words[1:] if w[:1].isupper()) + (1 if words and words[0][:1].isupper() and start > 0 else 0)
    f.append(f"caps={min(caps, 3)}")
    f.append(f"n={min(len(words), 5)}")
    if low and low[0] in _VAGUE_DETS:
        f.append("vague_det")
    if low and low[-1].endswith("s") and not words[-1][:1].isupper():
        f.append("plural_common")
    fams = lexicon_families(low)
    f.extend(f"fam={x}" for fam in fams for x in fam)
    if text[max(0, start - 1):start] in ("'", "’") or "'s" in text[start:end] or "’s" in text[start:end]:
        f.append("possessive")
    return f


class SpanTagger(BaseEstimator):
    """Token classifiers for the span-level categories, and the named/vague source decision.

    Parameters: `categories` (the span-level category ids to learn), `C` (inverse
    regularisation of the token models), `min_sentences` (a category with fewer marked
    sentences gets no tagger and keeps the classifier's explanation spans).
    """

    def __init__(self, categories=(), C=0.5, min_sentences=20):
        self.categories = categories
        self.C = C
        self.min_sentences = min_sentences

    def _targets(self):
        cats = [c for c in self.categories if c not in ATTRIBUTION]
        if any(c in self.categories for c in ATTRIBUTION):
            cats.append("attribution")
        return cats

    def fit(self, texts, labels, spans):
        """`labels`: category ids per sentence; `spans`: per sentence ``[{start, end, label}]``."""
        self.__dict__.pop("_named_cache", None)  # decisions of an earlier fit's source model
        hasher = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)
        rows = {t: ([], []) for t in self._targets()}
        src_feats, src_y = [], []
        counts = dict.fromkeys(rows, 0)
        for text, labs, marked in zip(texts, labels, spans):
            by_target = {}
            for s in marked or ():
                target = "attribution" if s["label"] in ATTRIBUTION else s["label"]
                if target in rows and s["label"] in labs:
                    by_target.setdefault(target, []).append((s["start"], s["end"], s["label"]))
            if not by_target:
                continue
            tok_spans, words, feats = token_table(text)
            if not tok_spans:
                continue
            for target, gold in by_target.items():
                counts[target] += 1
                X, y = rows[target]
                X.extend(feats)
                y.extend(_inside(tok_spans, [(a, b) for a, b, _ in gold]))
                if target == "attribution":
                    for a, b, lab in gold:
                        if not is_cue(text[a:b]):
                            src_feats.append(_source_features(text, a, b))
                            src_y.append(lab == "attribution_named")
        self.models_ = {}
        self.cuts_ = {}
        for target, (X, y) in rows.items():
            y = np.asarray(y, dtype=bool)
            if counts[target] < self.min_sentences or y.all() or not y.any():
                continue
            model = LogisticRegression(C=self.C, solver="liblinear", class_weight="balanced", max_iter=200)
            model.fit(token_matrix(X), y)
            self.models_[target] = model
            self.cuts_[target] = 0.5
        self.source_model_ = None
        if len(set(src_y)) == 2:
            self.source_model_ = LogisticRegression(C=1.0, solver="liblinear", max_iter=200).fit(
                hasher.transform(src_feats), np.asarray(src_y, dtype=bool))
        self.trained_sentences_ = counts
        return self

    @property
    def _hasher(self):
        return FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)

    def covers(self, label):
        target = "attribution" if label in ATTRIBUTION else label
        return target in getattr(self, "models_", {})

    def tag(self, text, labels):
        """Spans for the ticked `labels` of one sentence: ``(spans, attribution)`` where
        `spans` are ``{start, end, label, text, weight}`` and `attribution` is the set of
        attribution labels the found sources support (None when the tagger has no
        attribution model or no attribution label is ticked)."""
        return self.tag_many([text], [labels])[0]

    def tag_many(self, texts, labels_list):
        """`tag` for many sentences: their tokens hashed in one matrix and each category's
        token model run once over the sentences that need it (one call per sentence and
        category cost ~30x the bare model in `slant analyze`)."""
        jobs, feats_all = [], []
        for i, (text, labels) in enumerate(zip(texts, labels_list)):
            wanted = [lab for lab in labels if self.covers(lab)]
            if wanted:
                tok_spans, words, feats = token_table(text)
                if tok_spans:
                    jobs.append((i, wanted, tok_spans, words, len(feats_all)))
                    feats_all.extend(feats)
        out = [([], None)] * len(texts)
        if not jobs:
            return out
        X = token_matrix(feats_all)
        probs = [{} for _ in jobs]
        for target in self.models_:
            need = [k for k, job in enumerate(jobs) if any(self._target(lab) == target for lab in job[1])]
            if not need:
                continue
            rows = np.concatenate([np.arange(jobs[k][4], jobs[k][4] + len(jobs[k][2])) for k in need])
            p = self.models_[target].predict_proba(X[rows])[:, 1].tolist()
            at = 0
            for k in need:
                n = len(jobs[k][2])
                probs[k][target] = p[at:at + n]
                at += n
        tagged = [self._tag_one(texts[i], wanted, tok_spans, words, probs[k])
                  for k, (i, wanted, tok_spans, words, _) in enumerate(jobs)]
        # Every found source of the batch is called named or vague in one go (one hashed
        # matrix, one product) before each sentence's cues are given their source's role.
        found = [(texts[i], a, b) for (i, *_), (_, attr) in zip(jobs, tagged) if attr for a, b, _ in attr[0]]
        named = iter(self._named_many(found))
        for (i, *_), (spans, attr) in zip(jobs, tagged):
            attribution = None
            if attr is not None:
                attribution = self._attribute(texts[i], labels_list[i], spans, *attr, named)
            spans.sort(key=lambda s: (s["start"], s["end"], s["label"]))
            out[i] = spans, attribution
        return out

    @staticmethod
    def _target(label):
        return "attribution" if label in ATTRIBUTION else label

    def _tag_one(self, text, wanted, tok_spans, words, probs_by_target):
        """A sentence's spans of the non-attribution categories, and for attribution
        (when wanted) its sources ``[(start, end, weight)]`` and cues, still to be called
        named or vague (`_attribute`)."""
        out, attr = [], None
        done = set()
        for lab in wanted:
            target = self._target(lab)
            if target in done:
                continue
            done.add(target)
            runs = _runs(probs_by_target[target], words, self.cuts_[target])
            if target != "attribution":
                for k, j, w in runs:
                    a, b = tok_spans[k][0], tok_spans[j][1]  # scare quotes: snapped to their marks in `consistency`
                    out.append({"start": a, "end": b, "label": lab, "text": text[a:b], "weight": round(w, 4)})
                continue
            sources, cues = [], []
            for k, j, w in runs:
                # A run like "Supporters said" is a source and its cue: the reporting words
                # at either edge become their own span, as annotators mark them.
                while k <= j and is_cue(words[k]):
                    cues.append((tok_spans[k][0], tok_spans[k][1], w))
                    k += 1
                while j >= k and is_cue(words[j]):
                    cues.append((tok_spans[j][0], tok_spans[j][1], w))
                    j -= 1
                if k > j or is_cue(text[tok_spans[k][0]:tok_spans[j][1]]):
                    if k <= j:
                        cues.append((tok_spans[k][0], tok_spans[j][1], w))
                    continue
                if all(words[i] in _FUNCTION for i in range(k, j + 1)):
                    continue  # "it", "the": not a source on their own
                sources.append((tok_spans[k][0], tok_spans[j][1], w))
            attr = (sources, cues)
        return out, attr

    @staticmethod
    def _attribute(text, labels, out, sources, cues, named):
        """Add a sentence's sources (named or vague, from the iterator `named`) and cues to
        `out`; return the attribution labels the sources support."""
        attribution, found = set(), []
        for a, b, w in sources:
            role = "attribution_named" if next(named) else "attribution_vague"
            attribution.add(role)
            found.append({"start": a, "end": b, "label": role, "text": text[a:b], "weight": round(w, 4)})
        out.extend(found)
        fallback = max((x for x in labels if x in ATTRIBUTION), default=ATTRIBUTION[0])
        for a, b, w in _merge_adjacent(text, sorted(set(cues))):
            # a cue goes with its nearest source ("said" after "Officials" is vague)
            near = min(found, key=lambda s: min(abs(s["start"] - b), abs(a - s["end"])), default=None)
            role = near["label"] if near else fallback
            out.append({"start": a, "end": b, "label": role, "text": text[a:b], "weight": round(w, 4)})
        return attribution

    def _named_many(self, found):
        """Named (True) or vague, per source ``(text, start, end)``.

        The decision depends on the source's words and the character before it; sources
        repeat ("officials", "the ministry"), so decisions are cached per model, and the
        sources not seen yet are hashed and scored together.
        """
        if self.source_model_ is None:
            return [any(w[:1].isupper() for w in text[a:b].split()[1:]) or (a > 0 and text[a:a + 1].isupper())
                    for text, a, b in found]
        cache = self.__dict__.setdefault("_named_cache", {})
        keys = [(text[a:b], text[max(0, a - 1):a], a > 0) for text, a, b in found]
        got, new = {}, {}
        for key, (text, a, b) in zip(keys, found):
            if key in got or key in new:
                continue
            hit = cache.get(key)
            if hit is None:
                new[key] = _source_features(text, a, b)
            else:
                got[key] = hit
        if new:
            x = self._hasher.transform(list(new.values()))
            z = (x @ self.source_model_.coef_.T)[:, 0] + self.source_model_.intercept_[0]
            decided = dict(zip(new, (z > 0).tolist()))
            if len(cache) + len(decided) > _NAMED_CACHE:
                cache.clear()
            cache.update(decided)
            got.update(decided)
        return [got[key] for key in keys]

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_named_cache", None)  # a cache, rebuilt on use; never saved
        return state

    def score(self, texts, labels, spans):
        """Character-overlap precision, recall and F1 per category, given gold sentence
        labels (the tagger's own quality, separate from the sentence classifier's)."""
        pred = [s for s, _ in self.tag_many(texts, labels)]
        return span_prf(pred, spans, sorted({s["label"] for row in spans for s in row or ()}))


_CUE = None


@lru_cache(maxsize=1 << 16)
def is_cue(phrase):
    """A reporting verb or cue ("said", "according to", "told reporters"), not a source
    (memoised: the same words are asked about again and again)."""
    global _CUE
    if _CUE is None:
        lex = load_lexicons()
        _CUE = frozenset(lex.get("reporting_verbs", ())) | {"according to", "according", "to", "says", "said", "told", "say"}
    words = [w.strip(".,;:'\"“”’").lower() for w in phrase.split()]
    return bool(words) and all(w in _CUE or w in ("that", "in", "a", "statement", "reporters", "on") for w in words) \
        and any(w in _CUE for w in words)

