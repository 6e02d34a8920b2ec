"""Agreement coefficients from per-unit counts: Krippendorff's alpha, observed agreement,
Fleiss' kappa, Gwet's AC1, pairwise Cohen's kappa, label-set alphas, per-annotator
agreement with the majority, and the bootstrap over units.

Used by `slant.agreement.core`; docs/agreement.md gives the formulas and their references.
"""

import numpy as np

__all__ = [
    "annotator_agreement", "binary_coefficients", "bootstrap_sums", "cohen_kappa", "cohen_kappas", "json_number", "krippendorff_alpha",
    "nanmean", "percentile_ci", "quiet_warnings", "set_alphas", "unit_counts", "unit_stats",
]


def krippendorff_alpha(reliability_data):
    """Krippendorff's nominal alpha of a coders x units array (NaN = missing value).

    Same input as ``krippendorff.alpha(reliability_data=...)``; values may be any
    numbers. Units with fewer than two values are not pairable and drop out.
    """
    data = np.asarray(reliability_data, dtype=float)
    present = ~np.isnan(data)
    found = data[present]
    as_int = found.astype(np.int64)
    if len(found) and (as_int == found).all() and 0 <= as_int.min() and as_int.max() < 1 << 16:
        values = np.flatnonzero(np.bincount(as_int))  # small integer codes: no sort needed
    else:
        values = np.unique(found)
    m = present.sum(0)
    pairable = (m >= 2).astype(float)
    weight = pairable / np.maximum(m - 1, 1)
    if len(values) <= 16:  # one comparison pass per value beats building a (units x values) index
        columns = [(data == v).sum(0).astype(float) for v in values]
    else:
        codes = np.searchsorted(values, found)
        units = np.broadcast_to(np.arange(data.shape[1]), data.shape)[present]
        counts = np.bincount(units * len(values) + codes, minlength=data.shape[1] * len(values))
        columns = counts.reshape(data.shape[1], len(values)).T.astype(float)
    # elementwise sums, not BLAS dot products: BLAS threads spin and stall on a busy machine
    n = float((m * pairable).sum())
    agree = sum(float((c * (c - 1) * weight).sum()) for c in columns)  # sum of coincidences o_vv
    expected = n * n - sum(float((c * pairable).sum()) ** 2 for c in columns)
    return float("nan") if expected == 0 else float(1 - (n - 1) * (n - agree) / expected)


# --- binary coefficients from per-unit sums ---------------------------------------------

def unit_counts(r):
    """Coders per unit (m) and coders marking each category per unit (K1)."""
    m = np.bincount(r.unit, minlength=r.n_units)
    K1 = np.zeros((r.n_units, r.Y.shape[1]), dtype=np.int64)
    if len(r.unit):
        starts = np.flatnonzero(np.r_[True, r.unit[1:] != r.unit[:-1]])
        K1[r.unit[starts]] = np.add.reduceat(r.Y.astype(np.int64), starts, axis=0)
    return m, K1


def unit_stats(m, K1):
    """Per-unit additive contributions: every coefficient below is a function of their sums.

    Columns: pairable, n (values in pairable units), rated; then per category the
    positives in pairable units, the 0-1 coincidences k0*k1/(m-1), the share of agreeing
    coder pairs, and the unit's share of positives.
    """
    m = m.astype(float)[:, None]
    k1 = K1.astype(float)
    k0 = m - k1
    pair = (m >= 2).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv1 = np.where(m >= 2, 1 / (m - 1), 0.0)
        invmm = np.where(m >= 2, 1 / (m * (m - 1)), 0.0)
        share = np.where(m >= 1, k1 / m, 0.0)
    n_cat = k1.shape[1]
    out = np.empty((len(k1), 3 + 4 * n_cat))
    out[:, :3] = np.hstack([pair, m * pair, (m >= 1)])
    for i, col in enumerate((k1 * pair, k0 * k1 * inv1, (k1 * (k1 - 1) + k0 * (k0 - 1)) * invmm, share)):
        out[:, 3 + i * n_cat: 3 + (i + 1) * n_cat] = col
    return out


def binary_coefficients(sums, n_cat):
    """Alpha, observed agreement, Fleiss' kappa and AC1 from summed unit stats (rows = samples)."""
    sums = np.atleast_2d(sums)
    n_pair, n, n_rated = sums[:, 0:1], sums[:, 1:2], sums[:, 2:3]
    n1, o01, agree, share = (sums[:, 3 + k * n_cat: 3 + (k + 1) * n_cat] for k in range(4))
    n0 = n - n1
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(n0 * n1 > 0, 1 - (n - 1) * o01 / (n0 * n1), np.nan)
        observed = np.where(n_pair > 0, agree / n_pair, np.nan)
        # Fleiss' kappa and AC1 share p_a and pi, as in Gwet (2014) for missing ratings;
        # only the chance model differs. With equal ratings per unit this is Fleiss (1971).
        pi = share / n_rated
        pe_fleiss = pi ** 2 + (1 - pi) ** 2
        fleiss = np.where(pe_fleiss < 1, (observed - pe_fleiss) / (1 - pe_fleiss), np.nan)
        pe_gwet = 2 * pi * (1 - pi)  # (1/(Q-1)) * sum_q pi_q (1 - pi_q) with Q = 2
        ac1 = (observed - pe_gwet) / (1 - pe_gwet)
    return {"alpha": alpha, "observed_agreement": observed, "fleiss_kappa": fleiss, "ac1": ac1}


def bootstrap_sums(stats, replicates, seed):
    """Summed unit stats of `replicates` resamples of the units (with replacement).

    Each resample is a row of multinomial unit counts, so a block of replicates is one
    matrix product; float32 keeps the product fast and its error far below 1e-4.
    """
    rng = np.random.default_rng(seed)
    n_units = len(stats)
    block = max(1, min(replicates, 2_000_000 // max(n_units, 1)))
    s32 = np.ascontiguousarray(stats.T, dtype=np.float32)
    out = np.empty((replicates, stats.shape[1]))
    counts = np.empty((block, n_units), dtype=np.float32)
    for lo in range(0, replicates, block):
        b = min(block, replicates - lo)
        draws = rng.integers(0, n_units, size=(b, n_units), dtype=np.uint32 if n_units < 2**32 else np.int64)
        for r in range(b):
            counts[r] = np.bincount(draws[r], minlength=n_units)
        # (stats x units) @ (units x b): OpenBLAS is ~10x slower with the operands the other way
        out[lo:lo + b] = (s32 @ counts[:b].T).T
    return out


def percentile_ci(reps, confidence):
    """Percentile interval (Efron & Tibshirani 1993, ch. 13) per column; NaN replicates dropped."""
    tail = (1 - confidence) / 2 * 100
    with np.errstate(invalid="ignore"), quiet_warnings():
        lo, hi = np.nanpercentile(reps, [tail, 100 - tail], axis=0)
    return lo, hi, np.isnan(reps).sum(0)


class quiet_warnings:
    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def nanmean(x, axis=None):
    with quiet_warnings():
        return np.nanmean(x, axis=axis)


def json_number(x):
    """JSON number or None for undefined (NaN) values."""
    return None if x is None or not np.isfinite(x) else float(x)


# --- pairwise Cohen, label-set alphas, annotators ----------------------------------------

def _coder_rows(r):
    order = np.argsort(r.coder, kind="stable")  # stable: rows stay sorted by unit
    return np.split(order, np.cumsum(np.bincount(r.coder, minlength=len(r.coders)))[:-1])


def cohen_kappas(r):
    """Cohen's kappa per category for every annotator pair on the units they share."""
    k, n_cat = len(r.coders), r.Y.shape[1]
    kappa = np.full((n_cat, k, k), np.nan)
    shared = np.zeros((k, k), dtype=np.int64)
    rows = _coder_rows(r)
    for a in range(k):
        for b in range(a + 1, k):
            _, ia, ib = np.intersect1d(r.unit[rows[a]], r.unit[rows[b]], assume_unique=True, return_indices=True)
            shared[a, b] = shared[b, a] = len(ia)
            if not len(ia):
                continue
            kappa[:, a, b] = kappa[:, b, a] = cohen_kappa(r.Y[rows[a][ia]], r.Y[rows[b][ib]])
    return kappa, shared


def cohen_kappa(ya, yb):
    """Cohen's kappa per column of two boolean matrices of the same units (nan where both
    raters are constant); `slant evaluate` uses it for the model against gold labels."""
    ya, yb = np.asarray(ya, dtype=bool), np.asarray(yb, dtype=bool)
    po = 1 - (ya ^ yb).mean(0)
    pa, pb = ya.mean(0), yb.mean(0)
    pe = pa * pb + (1 - pa) * (1 - pb)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pe < 1, (po - pe) / (1 - pe), np.nan)


def _masi_table(n_cat):
    """MASI distance (Passonneau 2006) for every (|A & B|, |A|, |B|): it depends on nothing else."""
    inter, size_a, size_b = np.ogrid[:n_cat + 1, :n_cat + 1, :n_cat + 1]
    union = size_a + size_b - inter
    monotonicity = np.select([inter == union, inter == np.minimum(size_a, size_b), inter > 0], [1, 2 / 3, 1 / 3], 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return 1 - jaccard * monotonicity  # entries with |A & B| > min(|A|, |B|) are never looked up


def set_alphas(r, m):
    """Alpha over whole label sets: nominal (exact set) and MASI distance (partial credit)."""
    rows = np.flatnonzero(m[r.unit] >= 2)
    if not len(rows):
        return np.nan, np.nan, 0
    unit, Y = r.unit[rows], r.Y[rows]
    starts = np.flatnonzero(np.r_[True, unit[1:] != unit[:-1]])
    size = np.diff(np.r_[starts, len(unit)])
    first, msz = np.repeat(starts, size), np.repeat(size, size)
    pos = np.arange(len(unit)) - first
    # every ordered pair of coders within a unit, as (i, j) row offsets
    i = np.concatenate([np.flatnonzero(msz > d) for d in range(1, size.max())])
    j = np.concatenate([first[s] + (pos[s] + d) % msz[s] for d in range(1, size.max())
                        for s in [np.flatnonzero(msz > d)]])
    w = 1 / (msz[i] - 1)
    n = float(len(rows))
    if Y.shape[1] <= 62:  # label sets as integer bit masks: sorting ints is far faster than rows
        keys, code, n_v = np.unique(Y @ (1 << np.arange(Y.shape[1], dtype=np.int64)), return_inverse=True,
                                    return_counts=True)
        V = (keys[:, None] >> np.arange(Y.shape[1])) & 1 == 1
    else:
        keys, code, n_v = np.unique(np.packbits(Y, axis=1), axis=0, return_inverse=True, return_counts=True)
        V = np.unpackbits(keys, axis=1, count=Y.shape[1]).astype(bool)
    code = code.ravel()
    nominal_e = (n * n - (n_v.astype(float) ** 2).sum()) / (n * (n - 1))
    nominal_o = (w * (code[i] != code[j])).sum() / n
    masi, size = _masi_table(Y.shape[1]), Y.sum(1)
    masi_o = (w * masi[(Y[i] & Y[j]).sum(1), size[i], size[j]]).sum() / n
    Vf, vsize, n_v = V.astype(np.float32), V.sum(1), n_v.astype(float)
    masi_e = sum(float(n_v[lo:lo + 512] @ masi[(Vf[lo:lo + 512] @ Vf.T).astype(np.intp), vsize[lo:lo + 512, None],
                                                vsize[None]] @ n_v)
                 for lo in range(0, len(V), 512)) / (n * (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1 - nominal_o / nominal_e if nominal_e > 0 else np.nan,
                1 - masi_o / masi_e if masi_e > 0 else np.nan, len(V))


def annotator_agreement(r, m, K1):
    """Per annotator: tasks, and agreement and kappa with the others' majority (leave-one-out)."""
    others = (m[r.unit] - 1)[:, None]
    pos = K1[r.unit] - r.Y
    maj = 2 * pos > others
    decided = (maj | (2 * pos < others)) & (others >= 1)
    k = len(r.coders)

    def per(x):
        return np.bincount(r.coder, weights=x, minlength=k)

    n = per(decided.sum(1))
    y1, m1 = per((decided & r.Y).sum(1)), per((decided & maj).sum(1))
    agree = per((decided & (r.Y == maj)).sum(1))
    with np.errstate(divide="ignore", invalid="ignore"):
        po, pa, pm = agree / n, y1 / n, m1 / n
        pe = pa * pm + (1 - pa) * (1 - pm)
        kappa = np.where(pe < 1, (po - pe) / (1 - pe), np.nan)
    tasks, multi = np.bincount(r.coder, minlength=k), per(others[:, 0] >= 1)
    marks = per(r.Y.sum(1)) / np.maximum(tasks, 1)
    return [{"annotator": name, "tasks": int(tasks[a]), "shared_tasks": int(multi[a]), "decisions": int(n[a]),
             "agreement_with_majority": json_number(po[a]), "kappa_with_majority": json_number(kappa[a]),
             "labels_per_task": json_number(marks[a])} for a, name in enumerate(r.coders)]
