"""Marked spans as evidence: span checks, cutting spans out of a sentence, and the
contrast rows (`Contrast`) that teach a category's model which words carry it."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

__all__ = ["Contrast", "covered", "cut", "merged", "valid_span"]

# A contrast row (`Contrast`) is made only when the marked spans cover at most this share
# of the sentence: a category marked on (nearly) the whole sentence, as PTC's doubt
# (median 99%), says nothing about which words carry it, and what is left is a fragment.
_MAX_COVER = 0.5
# ... and a category gets contrast rows only when at least this share of its marked
# sentences yields one: on PTC, doubt, appeal to fear and appeal to authority (spans of
# most of the sentence) lost 0.02-0.03 F1 with them, the local techniques gained.
_MIN_LOCAL = 0.5


class Contrast:
    """Contrast rows: a sentence with one category's marked spans cut out, as a negative
    for that category ("the label was in these words").

    Reviewers and corpora mark where a category sits (PTC technique spans, PolNeAR cue
    and source, Label Studio highlights). The sentence without those words no longer
    shows the category; training on both tells the linear model which words carry it,
    rather than everything else in a labelled sentence. Nested 5-fold CV grouped by
    article (`slant evaluate --cv 5`): PTC loaded language 0.445 -> 0.465, name calling
    0.358 -> 0.381, PolNeAR attribution (either) 0.833 -> 0.836 (docs/performance.md,
    Pre-labeling quality). Rows only where the spans cover at most `_MAX_COVER` of the
    sentence, for categories where at least `_MIN_LOCAL` of the marked sentences qualify.
    """

    def __init__(self, texts, Y, classes, spans):
        index = {c: j for j, c in enumerate(classes)}
        src, cls, rests = [], [], []
        marked = np.zeros(len(classes), dtype=np.int64)  # labelled sentences with spans, per class
        for i, sent_spans in enumerate(spans):
            if not sent_spans:
                continue
            by_class = {}
            for sp_ in sent_spans:
                j = index.get(sp_["label"])
                if j is not None and Y[i, j]:
                    by_class.setdefault(j, []).append((sp_["start"], sp_["end"]))
            for j, parts in by_class.items():
                marked[j] += 1
                rest = cut(texts[i], parts)
                if rest and covered(parts) <= _MAX_COVER * len(texts[i]):
                    src.append(i)
                    cls.append(j)
                    rests.append(rest)
        # A category whose spans are mostly whole sentences keeps the plain fit (`_MIN_LOCAL`).
        cls = np.array(cls, dtype=np.int64)
        keep = (np.bincount(cls, minlength=len(classes)) >= _MIN_LOCAL * np.maximum(marked, 1))[cls]
        self.src = np.array(src, dtype=np.int64)[keep]
        self.cls = cls[keep]
        self.texts = [t for t, k in zip(rests, keep) if k]
        self.classes = np.unique(self.cls)
        self.X = None

    def __len__(self):
        return len(self.texts)

    def fit(self, est, Xtr, ytr, wtr, train, j, w):
        """Class `j`'s binary model on the training rows plus its contrast rows from them."""
        mine = np.flatnonzero((self.cls == j) & np.isin(self.src, train))
        Xj = sp.vstack([Xtr, self.X[mine]], format="csr")
        yj = np.r_[ytr, np.zeros(len(mine), dtype=ytr.dtype)]
        base_w = np.ones(len(ytr)) if wtr is None else wtr
        src_w = np.ones(len(mine)) if w is None else w[self.src[mine]]
        wj = np.r_[base_w, est.span_contrast * src_w]
        model = clone(est._make_linear().estimator).set_params(C=est.span_C)
        return model.fit(Xj, yj, sample_weight=wj)


def valid_span(span, length):
    """True for a marked span ``{"label": str, "start": int, "end": int}`` with
    ``0 <= start < end <= length`` (offsets into a sentence of `length` characters)."""
    if not isinstance(span, dict) or not isinstance(span.get("label"), str):
        return False
    start, end = span.get("start"), span.get("end")
    return isinstance(start, Integral) and isinstance(end, Integral) and 0 <= start < end <= length


def merged(parts):
    """The character ranges `parts` sorted, overlapping ones merged."""
    out = []
    for start, end in sorted(parts):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out


def covered(parts):
    """Characters inside the union of the ranges `parts`."""
    return sum(end - start for start, end in merged(parts))


def cut(text, parts):
    """`text` without the character ranges `parts`, the pieces joined by one space ('' if no word is left)."""
    pieces, k = [], 0
    for start, end in merged(parts):
        pieces.append(text[k:start].strip())
        k = end
    pieces.append(text[k:].strip())
    rest = " ".join(p for p in pieces if p)
    return rest if any(ch.isalnum() for ch in rest) else ""
