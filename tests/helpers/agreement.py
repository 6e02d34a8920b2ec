"""Shared data of the agreement tests: the default taxonomy's ids, reference settings,
worked examples and builders of annotated records (imported as `helpers.agreement`)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from slant.taxonomy.core import Category, Taxonomy, load_taxonomy

TAX = load_taxonomy()
IDS = list(TAX.sentence_ids)
REFERENCE_WARNINGS = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")
HYP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, values 1-5, None = missing. Nominal alpha = 0.743.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def tiny_taxonomy(ids, level="sentence"):
    cats = tuple(Category(id=c, name=c.title(), group="g", description=c, level=level) for c in ids)
    return Taxonomy(id="tiny", version="1.0.0", title="tiny", groups=({"id": "g", "name": "G"},), categories=cats)


def records_from(matrix, ids=IDS, coders=None):
    """Records from a coders x units x categories array of 0/1 (-1 = the coder skipped the unit)."""
    matrix = np.asarray(matrix)
    coders = coders or [f"c{i}" for i in range(matrix.shape[0])]
    out = []
    for u in range(matrix.shape[1]):
        anns = [{"annotator": coders[c], "labels": [ids[k] for k in np.flatnonzero(matrix[c, u] == 1)]}
                for c in range(matrix.shape[0]) if matrix[c, u, 0] >= 0]
        out.append({"id": f"s{u}", "doc_id": "d", "text": "A sentence.", "labels": [], "annotations": anns})
    return out


def binary_data(n_coders, n_units, n_cats, seed, p_missing=0.3, min_per_unit=0):
    rng = np.random.default_rng(seed)
    truth = rng.random((n_units, n_cats)) < rng.uniform(0.1, 0.6, n_cats)
    data = (truth[None] ^ (rng.random((n_coders, n_units, n_cats)) < 0.25)).astype(int)
    missing = rng.random((n_coders, n_units)) < p_missing
    if min_per_unit:
        for u in range(n_units):  # keep exactly min_per_unit coders on every unit
            keep = rng.choice(n_coders, min_per_unit, replace=False)
            missing[:, u] = True
            missing[keep, u] = False
    data[missing] = -1
    return data


def reliability(matrix, k):
    out = matrix[:, :, k].astype(float)
    out[out < 0] = np.nan
    return out



def rec(i, anns, labels, pred=None, version="m1", **data):
    return {"id": i, "doc_id": "d", "text": "t", "labels": labels, "data": data,
            "annotations": [{"annotator": a, "labels": lab} for a, lab in anns],
            "prediction": None if pred is None else {"labels": pred, "scores": {}, "model_version": version}}
