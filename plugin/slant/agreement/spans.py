"""Span-level agreement (pairwise F1, exact and overlap matching) and the model as one
more annotator (its predictions against the adjudicated labels). Used by `slant.agreement.core`.
"""

from collections import Counter

import numpy as np

from slant.agreement.coefficients import binary_coefficients, json_number, nanmean

__all__ = ["model_agreement", "pairwise_span_f1", "span_agreement"]


# --- spans ------------------------------------------------------------------------------

def _overlap_matching(a, b):
    """Size of a maximum one-to-one matching of overlapping regions (Kuhn's algorithm).

    A maximum matching's size does not depend on the order regions are listed in.
    """
    adj = [[j for j, (s2, e2) in enumerate(b) if (s < e2 and s2 < e) or (s, e) == (s2, e2)] for s, e in a]
    owner = [-1] * len(b)

    def augment(i, seen):
        for j in adj[i]:
            if j not in seen:
                seen.add(j)
                if owner[j] < 0 or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return sum(augment(i, set()) for i in range(len(a)))


def span_agreement(spans_a, spans_b):
    """Matches between two annotators' regions of one category: ``(exact, overlap, total)``.

    `spans_a`, `spans_b` are lists of ``(start, end)``; F1 = 2 * matches / total.
    Exact matching counts identical offsets; overlap matching pairs overlapping regions
    one-to-one. Neither depends on the order of the regions.
    """
    a, b = [tuple(x) for x in spans_a], [tuple(x) for x in spans_b]
    if not a or not b:
        return 0, 0, len(a) + len(b)
    exact = sum((Counter(a) & Counter(b)).values())
    overlap = exact if exact == min(len(a), len(b)) else _overlap_matching(a, b)
    return exact, overlap, len(a) + len(b)


def pairwise_span_f1(r, span_ids):
    """Pairwise span F1 per span category, pooled over annotator pairs and units."""
    totals = [[0, 0, 0, 0] for _ in span_ids]  # pairs compared, exact, overlap, regions
    by_row = {}
    for row, spans in r.spans.items():
        cats = by_row[row] = {}
        for c, s, e in spans:
            cats.setdefault(c, []).append((s, e))
    starts = np.searchsorted(r.unit, np.arange(r.n_units + 1)).tolist()
    for u in sorted({int(r.unit[row]) for row in r.spans}):
        rows = range(starts[u], starts[u + 1])
        for x in rows:
            for y in rows:
                if y <= x or (x not in by_row and y not in by_row):
                    continue
                a, b = by_row.get(x, {}), by_row.get(y, {})
                for c in a.keys() | b.keys():
                    t, (exact, overlap, regions) = totals[c], span_agreement(a.get(c, ()), b.get(c, ()))
                    t[0] += 1
                    t[1] += exact
                    t[2] += overlap
                    t[3] += regions
    totals = np.array(totals, dtype=float).reshape(len(span_ids), 4)
    out = []
    for c, cid in enumerate(span_ids):
        pairs, exact, overlap, regions = totals[c]
        out.append({"id": cid, "pairs": int(pairs), "regions": int(regions),
                    "exact_f1": json_number(2 * exact / regions) if regions else None,
                    "overlap_f1": json_number(2 * overlap / regions) if regions else None})
    pairs, exact, overlap, regions = totals.sum(0)
    overall = {"pairs": int(pairs), "regions": int(regions),
               "exact_f1": json_number(2 * exact / regions) if regions else None,
               "overlap_f1": json_number(2 * overlap / regions) if regions else None}
    return {"categories": out, "overall": overall}


# --- model as an annotator --------------------------------------------------------------

def _model_block(P, A, ids, human):
    n = len(P)
    tp, pp, ap, po = (P & A).sum(0), P.sum(0), A.sum(0), (P == A).mean(0)
    # two coders on every unit: the summed unit stats of unit_stats follow from the confusion counts
    differ = pp + ap - 2 * tp
    sums = np.concatenate([[n, 2 * n, n], pp + ap, differ, n - differ, (pp + ap) / 2])
    coef = {k: v[0] for k, v in binary_coefficients(sums, len(ids)).items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        pe = (pp / n) * (ap / n) + (1 - pp / n) * (1 - ap / n)
        kappa = np.where(pe < 1, (po - pe) / (1 - pe), np.nan)
        prec, rec = tp / pp, tp / ap
        f1 = 2 * tp / (pp + ap)
    cats = [{"id": c, "alpha": json_number(coef["alpha"][i]), "human_alpha": human.get(c),
             "cohen_kappa": json_number(kappa[i]), "ac1": json_number(coef["ac1"][i]),
             "observed_agreement": json_number(po[i]), "precision": json_number(prec[i]), "recall": json_number(rec[i]),
             "f1": json_number(f1[i])} for i, c in enumerate(ids)]
    return {"units": int(len(P)), "categories": cats,
            "mean_alpha": json_number(nanmean(coef["alpha"])), "mean_kappa": json_number(nanmean(kappa))}


def model_agreement(P, A, versions, ids, human):
    has = np.array([v is not None for v in versions], dtype=bool)
    if not has.any():
        return None
    vs = np.array([v or "" for v in versions], dtype=object)
    out = {"units": int(has.sum()), "all": _model_block(P[has], A[has], ids, human), "versions": []}
    for v in sorted(set(vs[has])):
        sel = vs == v
        out["versions"].append({"model_version": v, **_model_block(P[sel], A[sel], ids, human)})
    return out
