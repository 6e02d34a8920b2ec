"""Explanation spans: the characters of a sentence that drove each predicted category.

Every word token gets its share of the linear score (`Scorer.token_contributions`: its
unigram, its character n-grams and half of each bigram it is in, i.e. ``coef × tfidf``
mapped back to the word's offsets); cue hits add ``coef × cue value``. Runs of
high-scoring adjacent words and cue hits are merged (overlaps add up) and ranked per
predicted label.
"""

from itertools import compress

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from slant.model.cues import CUE_CATEGORY
from slant.text.tokens import word_spans

__all__ = ["explain_rows"]

# Words that explain nothing to a reader at the edge of a span.
_STOP = ENGLISH_STOP_WORDS | {"said", "says", "say", "told", "would", "could", "also"}
# Cue families that are context, not evidence a reader could look at.
_NOT_SPANS = frozenset({"quote", "question", "exclamation", "comparison", "first_person", "reporting_verbs"})


def _merge(cands):
    """Merge overlapping ``[start, end, weight, cue, cue weight]`` candidates; weights add up."""
    cands.sort(key=lambda c: (c[0], -c[1]))
    out = []
    for s, e, w, cue, cw in cands:
        if out and s < out[-1][1]:
            last = out[-1]
            last[1] = max(last[1], e)
            last[2] += w
            if cue is not None and (last[3] is None or cw > last[4]):
                last[3], last[4] = cue, cw
        else:
            out.append([s, e, w, cue, cw])
    return out


def _token_runs(col, ws, pos, spans):
    """Runs of adjacent tokens scoring at least 30% of the best, stop words trimmed.

    Plain Python on a list: for ~25 numbers it is faster than numpy calls.
    """
    top = max(col) if col else 0.0
    if top <= 0:
        return []
    cut = 0.3 * top
    kept = [j for j, v in enumerate(col) if v >= cut]
    cands = []
    k = 0
    while k < len(kept):
        j = k
        while j + 1 < len(kept) and kept[j + 1] == kept[j] + 1 and pos[kept[j + 1]] == pos[kept[j]] + 1:
            j += 1
        p, q = kept[k], kept[j]
        a, b = p, q
        # "that", "had", "the" at the edges of a run explain nothing to a reader.
        while a <= b and ws[a] in _STOP:
            a += 1
        while b >= a and ws[b] in _STOP:
            b -= 1
        if a <= b:
            cands.append([spans[pos[a]][0], spans[pos[b]][1], sum(col[p:q + 1]), None, 0.0])
        k = j + 1
    return cands


def explain_rows(clf, scorer, texts, batch, label_rows):
    """Spans per sentence: ``[[{start, end, label, text, weight, cue}, ...], ...]``.

    `label_rows[i]` lists the class indices to explain for sentence i (the predicted
    ones); sentences with none cost nothing.
    """
    fam_index = scorer.matcher.index
    qc = scorer.cue_coef.tolist()
    classes = clf.classes_.tolist()
    max_spans = clf.max_spans
    out = [[] for _ in label_rows]
    rows = [i for i, labels in enumerate(label_rows) if len(labels)]
    if not rows:
        return out
    contrib, start = scorer.token_contributions(batch, rows)
    # The token shares of each (sentence, label) pair, gathered in one numpy step and
    # turned into one flat list: per-sentence slices and lists cost more than the work.
    ks = [label_rows[i].tolist() for i in rows]
    n_labels = np.fromiter(map(len, ks), dtype=np.int64, count=len(rows))
    pair_row = np.repeat(np.arange(len(rows)), n_labels)
    pair_len = np.diff(start)[pair_row]
    pair_start = np.zeros(len(pair_row) + 1, dtype=np.int64)
    np.cumsum(pair_len, out=pair_start[1:])
    token = np.arange(pair_start[-1]) + np.repeat(start[pair_row] - pair_start[:-1], pair_len)
    shares = contrib[token, np.repeat(np.concatenate(ks), pair_len)].tolist()
    pair_start = pair_start.tolist()
    cue_rows = batch.Xq[rows].tolist()
    p = 0  # the next pair
    for r, i in enumerate(rows):
        text = texts[i]
        words = batch.toks[i][1]
        pos = list(compress(range(len(words)), words))  # tokens that are words
        ws = batch.words[i]
        labels = ks[r]
        placed = len(ws) == len(pos)
        if not placed:
            # Only when str.lower changed the text's length: n-gram tokens cannot be
            # placed on the text; cue spans still can.
            ws, pos = [], []
        scanned = batch.scans[i]
        spans = scanned[3] or word_spans(text, words)  # kept when cue matching needed them
        cues = scorer.matcher.find(text, scanned=scanned, spans=spans)
        counts = {}
        for c in cues:
            counts[c.family] = counts.get(c.family, 0) + 1
        qrow = cue_rows[r]
        shown = [(c, fam_index[c.family], qrow[fam_index[c.family]] / counts[c.family])
                 for c in cues if c.family not in _NOT_SPANS and c.end - c.start >= 2]
        sent = out[i]
        for k in labels:
            label = classes[k]
            cands = _token_runs(shares[pair_start[p]:pair_start[p + 1]] if placed else [], ws, pos, spans)
            p += 1
            qk = qc[k]
            for c, f, value in shown:
                w = qk[f] * value
                mapped = CUE_CATEGORY.get(c.family) == label
                if w > 0 or mapped:
                    w = max(w, 0.0)
                    cands.append([c.start, c.end, w, c.family, w + (1.0 if mapped else 0.0)])
            if not cands:
                continue
            merged = _merge(cands)
            merged.sort(key=lambda m: -m[2])
            floor = 0.25 * merged[0][2]
            for s0, e0, w, cue, _ in merged[:max_spans]:
                if (w <= 0 or w < floor) and not (cue is not None and CUE_CATEGORY.get(cue) == label):
                    continue
                sent.append({"start": s0, "end": e0, "label": label, "text": text[s0:e0],
                             "weight": round(w, 4), "cue": cue})
    return out
