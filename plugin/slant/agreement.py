"""Inter-annotator agreement for reviewed-label records.

Units are sentences (records), coders are annotators; each sentence-level category is a
binary one-vs-rest variable. Every coefficient is computed from per-unit counts with
numpy, so 100,000 units and 1,000 bootstrap replicates take seconds. docs/agreement.md
gives the formulas and their references.

>>> rep = compute_agreement(records)                      # doctest: +SKIP
>>> rep["categories"][0]["alpha"], rep["categories"][0]["alpha_ci"]   # doctest: +SKIP
"""

from collections import Counter
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from .errors import DataError, InputError

__all__ = ["agreement_from_file", "compute_agreement", "krippendorff_alpha", "span_agreement"]

_NOTE_TWO = "agreement needs at least two annotators per unit"


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


# --- ratings: long arrays, one row per annotation ---------------------------------------

@dataclass
class _Ratings:
    unit: np.ndarray      # (rows,) compact unit index, sorted
    coder: np.ndarray     # (rows,) annotator index
    Y: np.ndarray         # (rows, categories) bool
    spans: dict           # row -> [(span category index, start, end)]
    coders: list          # annotator names
    n_units: int

    def subset(self, keep_units):
        """The ratings of the units where `keep_units` (bool, per unit) is true."""
        rows = keep_units[self.unit]
        remap = np.cumsum(keep_units) - 1
        old_rows = np.flatnonzero(rows)
        new_index = {int(r): i for i, r in enumerate(old_rows)} if self.spans else {}
        return _Ratings(remap[self.unit[rows]], self.coder[rows], self.Y[rows],
                        {new_index[r]: s for r, s in self.spans.items() if r in new_index},
                        self.coders, int(keep_units.sum()))


def _label_columns(taxonomy, ids):
    """Every accepted label value (id, display name, migrated id) -> its columns in `ids`."""
    col = {c: i for i, c in enumerate(ids)}
    lookup = {}
    for c in taxonomy.categories:
        lookup[c.id] = lookup[c.name] = (c.id,)
    for m in taxonomy.migrations:
        for old in m["from"] if isinstance(m["from"], list) else [m["from"]]:
            lookup.setdefault(old, tuple(taxonomy.migrate_labels([old])[0]))
    return {label: tuple(col[c] for c in cids if c in col) for label, cids in lookup.items()}


class _Columns:
    """Label lists -> column indices; unknown labels are counted, not dropped silently."""

    def __init__(self, taxonomy, ids, where):
        self.map, self.where, self.unknown = _label_columns(taxonomy, ids), where, Counter()

    def __call__(self, labels, i, what, j=None):
        if type(labels) is list:
            try:
                return [c for label in labels for c in self.map[label]]
            except (KeyError, TypeError):
                pass
        # the slow path: say what is wrong
        what = what if j is None else what.format(j)
        if not isinstance(labels, list):
            raise DataError(f"{self.where(i)}: {what} must be a list of category ids, "
                            f"not {type(labels).__name__}; fix the record")
        known = [x for x in labels if isinstance(x, str) and x in self.map]
        self.unknown.update(str(x) for x in labels if not (isinstance(x, str) and x in self.map))
        return [c for label in known for c in self.map[label]]


def _span_rows(spans, cols, i, j):
    if not isinstance(spans, list):
        raise DataError(f"{cols.where(i)}: annotations[{j}].spans must be a list of {{start, end, label}}")
    out = []
    for s in spans:
        if not (isinstance(s, dict) and type(s.get("start")) is int and type(s.get("end")) is int):
            raise DataError(f"{cols.where(i)}: annotations[{j}].spans entries need integer 'start', 'end' and a 'label'")
        if isinstance(s.get("label"), str) and ":" in s["label"]:
            continue  # a corpus label kept on purpose by the importers ("ptc:Slogans"), no category
        out.extend((c, s["start"], s["end"]) for c in cols([s.get("label")], i, "span label"))
    return out


def _parse(records, taxonomy, where, ids):
    """Records -> (_Ratings, unit -> record, adjudicated, predicted, model versions, repeats)."""
    cols, span_cols = _Columns(taxonomy, ids, where), _Columns(taxonomy, taxonomy.span_ids, where)
    span_cols.unknown, label_map = cols.unknown, cols.map
    coders, rows_u, rows_c, row_len, cells_c, spans = {}, [], [], [], [], {}
    unit_record, adj_len, adj_c, pred_len, pred_c, versions, duplicates = [], [], [], [], [], [], 0
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise DataError(f"{where(i)}: expected a JSON object (a reviewed-label record), got {type(rec).__name__}")
        anns = rec.get("annotations") or []
        if not isinstance(anns, list):
            raise DataError(f"{where(i)}: 'annotations' must be a list of {{annotator, labels, spans}} objects")
        rec_tax = rec.get("taxonomy")
        if isinstance(rec_tax, dict) and rec_tax.get("id", taxonomy.id) != taxonomy.id:
            raise DataError(f"{where(i)}: record was labelled with taxonomy {rec_tax['id']!r}, not "
                            f"{taxonomy.id!r}; pass --taxonomy FILE with the taxonomy the project used")
        per_coder = {}
        for j, a in enumerate(anns):
            try:
                name, labels = a["annotator"], a["labels"]
            except (KeyError, TypeError):
                name = None
            if name is None or name == "":
                raise DataError(f"{where(i)}: annotations[{j}] needs 'annotator' and 'labels' "
                                "(see schemas/reviewed.schema.json)")
            try:  # the common case inline; cols() explains anything else
                cs = [c for label in labels for c in label_map[label]] if type(labels) is list else None
            except (KeyError, TypeError):
                cs = None
            cs = cols(labels, i, "annotations[{}].labels", j) if cs is None else cs
            sp = a.get("spans")
            name = str(name)
            duplicates += name in per_coder
            # a repeated annotator: the last annotation counts
            per_coder[name] = (cs, _span_rows(sp, span_cols, i, j) if sp else ())
        pred = rec.get("prediction")
        if pred is not None and not isinstance(pred, dict):
            raise DataError(f"{where(i)}: 'prediction' must be an object {{labels, scores, model_version}} or null")
        versions.append(str(pred.get("model_version") or rec.get("model_version") or "unknown") if pred else None)
        for labels, what, lens, out in ((rec.get("labels", []), "labels", adj_len, adj_c),
                                        (pred.get("labels", []) if pred else [], "prediction.labels", pred_len, pred_c)):
            try:
                found = [c for label in labels for c in label_map[label]] if type(labels) is list else None
            except (KeyError, TypeError):
                found = None
            found = cols(labels, i, what) if found is None else found
            lens.append(len(found))
            out.extend(found)
        if not per_coder:
            continue
        u = len(unit_record)
        unit_record.append(i)
        for name, (cs, sp) in per_coder.items():
            r = len(rows_c)
            rows_u.append(u)
            rows_c.append(coders.setdefault(name, len(coders)))
            row_len.append(len(cs))
            cells_c.extend(cs)
            if sp:
                spans[r] = sp
    if cols.unknown:
        shown = ", ".join(f"{k!r} ({v})" for k, v in cols.unknown.most_common(10))
        raise DataError(f"labels unknown to taxonomy {taxonomy.id} {taxonomy.version}: {shown}"
                        f"{' and more' if len(cols.unknown) > 10 else ''}; these records come from another taxonomy "
                        "(or a renamed category): pass --taxonomy FILE for the taxonomy they were labelled with")
    k = len(ids)
    names = sorted(coders)  # report annotators in name order, whatever order the file has
    rank = np.empty(len(names), dtype=np.intp)
    rank[[coders[x] for x in names]] = np.arange(len(names))
    ratings = _Ratings(np.asarray(rows_u, dtype=np.intp), rank[np.asarray(rows_c, dtype=np.intp)],
                       _matrix(k, row_len, cells_c), spans, names, len(unit_record))
    return (ratings, np.asarray(unit_record, dtype=np.intp), _matrix(k, adj_len, adj_c),
            _matrix(k, pred_len, pred_c), versions, duplicates)


def _matrix(n_cols, lengths, cols):
    """Bool matrix with one row per entry of `lengths`, True at that row's `cols`."""
    out = np.zeros((len(lengths), n_cols), dtype=bool)
    out[np.repeat(np.arange(len(lengths)), lengths), np.asarray(cols, dtype=np.intp)] = True
    return out


# --- binary coefficients from per-unit sums ---------------------------------------------

def _unit_counts(r):
    """Coders per unit (m) and coders marking each category per unit (K1)."""
    m = np.bincount(r.unit, minlength=r.n_units)
    K1 = np.zeros((r.n_units, r.Y.shape[1]), dtype=np.int64)
    if len(r.unit):
        starts = np.flatnonzero(np.r_[True, r.unit[1:] != r.unit[:-1]])
        K1[r.unit[starts]] = np.add.reduceat(r.Y.astype(np.int64), starts, axis=0)
    return m, K1


def _unit_stats(m, K1):
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


def _coefficients(sums, n_cat):
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


def _bootstrap_sums(stats, replicates, seed):
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


def _ci(reps, confidence):
    """Percentile interval (Efron & Tibshirani 1993, ch. 13) per column; NaN replicates dropped."""
    tail = (1 - confidence) / 2 * 100
    with np.errstate(invalid="ignore"), _quiet():
        lo, hi = np.nanpercentile(reps, [tail, 100 - tail], axis=0)
    return lo, hi, np.isnan(reps).sum(0)


class _quiet:
    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def _nanmean(x, axis=None):
    with _quiet():
        return np.nanmean(x, axis=axis)


def _num(x):
    """JSON number or None for undefined (NaN) values."""
    return None if x is None or not np.isfinite(x) else float(x)


# --- pairwise Cohen, label-set alphas, annotators ----------------------------------------

def _coder_rows(r):
    order = np.argsort(r.coder, kind="stable")  # stable: rows stay sorted by unit
    return np.split(order, np.cumsum(np.bincount(r.coder, minlength=len(r.coders)))[:-1])


def _cohen(r):
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
            ya, yb = r.Y[rows[a][ia]], r.Y[rows[b][ib]]
            po = 1 - (ya ^ yb).mean(0)
            pa, pb = ya.mean(0), yb.mean(0)
            pe = pa * pb + (1 - pa) * (1 - pb)
            with np.errstate(divide="ignore", invalid="ignore"):
                kappa[:, a, b] = kappa[:, b, a] = np.where(pe < 1, (po - pe) / (1 - pe), np.nan)
    return kappa, shared


def _masi_table(n_cat):
    """MASI distance (Passonneau 2006) for every (|A & B|, |A|, |B|): it depends on nothing else."""
    inter, size_a, size_b = np.ogrid[:n_cat + 1, :n_cat + 1, :n_cat + 1]
    union = size_a + size_b - inter
    monotonicity = np.select([inter == union, inter == np.minimum(size_a, size_b), inter > 0], [1, 2 / 3, 1 / 3], 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return 1 - jaccard * monotonicity  # entries with |A & B| > min(|A|, |B|) are never looked up


def _set_alphas(r, m):
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


def _annotators(r, m, K1):
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
             "agreement_with_majority": _num(po[a]), "kappa_with_majority": _num(kappa[a]),
             "labels_per_task": _num(marks[a])} for a, name in enumerate(r.coders)]


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


def _spans(r, span_ids):
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
                    "exact_f1": _num(2 * exact / regions) if regions else None,
                    "overlap_f1": _num(2 * overlap / regions) if regions else None})
    pairs, exact, overlap, regions = totals.sum(0)
    overall = {"pairs": int(pairs), "regions": int(regions),
               "exact_f1": _num(2 * exact / regions) if regions else None,
               "overlap_f1": _num(2 * overlap / regions) if regions else None}
    return {"categories": out, "overall": overall}


# --- model as an annotator --------------------------------------------------------------

def _model_block(P, A, ids, human):
    n = len(P)
    tp, pp, ap, po = (P & A).sum(0), P.sum(0), A.sum(0), (P == A).mean(0)
    # two coders on every unit: the summed unit stats of _unit_stats follow from the confusion counts
    differ = pp + ap - 2 * tp
    sums = np.concatenate([[n, 2 * n, n], pp + ap, differ, n - differ, (pp + ap) / 2])
    coef = {k: v[0] for k, v in _coefficients(sums, len(ids)).items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        pe = (pp / n) * (ap / n) + (1 - pp / n) * (1 - ap / n)
        kappa = np.where(pe < 1, (po - pe) / (1 - pe), np.nan)
        prec, rec = tp / pp, tp / ap
        f1 = 2 * tp / (pp + ap)
    cats = [{"id": c, "alpha": _num(coef["alpha"][i]), "human_alpha": human.get(c),
             "cohen_kappa": _num(kappa[i]), "ac1": _num(coef["ac1"][i]),
             "observed_agreement": _num(po[i]), "precision": _num(prec[i]), "recall": _num(rec[i]),
             "f1": _num(f1[i])} for i, c in enumerate(ids)]
    return {"units": int(len(P)), "categories": cats,
            "mean_alpha": _num(_nanmean(coef["alpha"])), "mean_kappa": _num(_nanmean(kappa))}


def _model(P, A, versions, ids, human):
    has = np.array([v is not None for v in versions], dtype=bool)
    if not has.any():
        return None
    vs = np.array([v or "" for v in versions], dtype=object)
    out = {"units": int(has.sum()), "all": _model_block(P[has], A[has], ids, human), "versions": []}
    for v in sorted(set(vs[has])):
        sel = vs == v
        out["versions"].append({"model_version": v, **_model_block(P[sel], A[sel], ids, human)})
    return out


# --- the report -------------------------------------------------------------------------

def _category_table(r, taxonomy, ids, bootstrap, seed, confidence, warnings, label="", adjudicated=None):
    m, K1 = _unit_counts(r)
    stats = _unit_stats(m, K1)
    point = {k: v[0] for k, v in _coefficients(stats.sum(0), len(ids)).items()}
    kappa, shared = _cohen(r)
    with _quiet():
        pairs = np.triu(shared > 0, 1)
        cohen = np.array([np.nanmean(kappa[c][pairs]) if pairs.any() else np.nan for c in range(len(ids))])
    # Means cover the categories that vary (alpha defined): a category nobody used carries no
    # information and would pull AC1 and observed agreement towards 1.
    used = np.isfinite(point["alpha"])
    ci = {}
    if bootstrap:
        coef = _coefficients(_bootstrap_sums(stats, bootstrap, seed), len(ids))
        for key in ("alpha", "ac1"):
            reps = np.column_stack([coef[key], _nanmean(coef[key][:, used], axis=1)])
            lo, hi, dropped = _ci(reps, confidence)
            ci[key] = (lo, hi)
            for c in np.flatnonzero(dropped[:-1] > 0):
                warnings.append(f"{label}{ids[c]}: {key} undefined in {dropped[c]} of {bootstrap} bootstrap "
                                "replicates (no unit marked the category); its interval uses the others")
    rated = m >= 1
    prevalence = K1[rated].sum(0) / max(m.sum(), 1)
    cats = []
    for c, cid in enumerate(ids):
        cat = taxonomy.category(cid)
        row = {"id": cid, "name": cat.name, "level": cat.level, "units": int((m >= 2).sum()),
               "prevalence": _num(prevalence[c]),
               "prevalence_adjudicated": None if adjudicated is None else _num(adjudicated[c]),
               "observed_agreement": _num(point["observed_agreement"][c]), "cohen_kappa": _num(cohen[c]),
               "cohen_pairs": int(np.isfinite(kappa[c][pairs]).sum()), "fleiss_kappa": _num(point["fleiss_kappa"][c]),
               "alpha": _num(point["alpha"][c]), "alpha_ci": None, "ac1": _num(point["ac1"][c]), "ac1_ci": None}
        for key in ci:
            lo, hi = ci[key][0][c], ci[key][1][c]
            row[f"{key}_ci"] = [_num(lo), _num(hi)] if np.isfinite(lo) and np.isfinite(hi) else None
        cats.append(row)
    flat = [c["id"] for c in cats if c["alpha"] is None and c["units"]]
    if flat:
        warnings.append(f"{label}no variation in {', '.join(flat)}: every annotator gave the same answer on every "
                        "unit, so alpha and kappa are undefined, AC1 is 1 by construction, and the means leave "
                        "these categories out")
    mean = {k: _num(_nanmean(point[k][used])) for k in ("observed_agreement", "fleiss_kappa", "alpha", "ac1")}
    mean.update(cohen_kappa=_num(_nanmean(cohen[used])), alpha_ci=None, ac1_ci=None, categories=int(used.sum()))
    for key in ci:
        lo, hi = ci[key][0][-1], ci[key][1][-1]
        mean[f"{key}_ci"] = [_num(lo), _num(hi)] if np.isfinite(lo) and np.isfinite(hi) else None
    return cats, mean, (m, K1, kappa, shared)


def _check_units(r, source):
    if r.n_units == 0:
        raise DataError(f"{source}: no record has annotations, so there are no units to compare; "
                        f"{_NOTE_TWO}: pull a Label Studio project whose tasks were annotated by two or more people")
    multi = np.bincount(r.unit, minlength=r.n_units) >= 2
    if not multi.any():
        who = ", ".join(r.coders[:5]) + (" ..." if len(r.coders) > 5 else "")
        what = (f"only one annotator ({who}) labelled the {r.n_units} units" if len(r.coders) == 1 else
                f"none of the {r.n_units} annotated units was labelled by two annotators ({who})")
        raise DataError(f"{source}: {_NOTE_TWO}; {what}. Have a second annotator label the same tasks "
                        "(Label Studio: Settings > Annotation > overlap) and pull again")


def compute_agreement(records, taxonomy=None, *, by=None, bootstrap=1000, seed=0, confidence=0.95,
                      source="records", where=None):
    """The agreement report (a dict following schemas/agreement.schema.json).

    `records` are reviewed-label records (schemas/reviewed.schema.json) with
    ``annotations: [{annotator, labels, spans}]``; `taxonomy` a `Taxonomy` (default:
    the built-in one). `by` names a task-data field to repeat the table for each of its
    values; `bootstrap` replicates (0 for none) give percentile intervals for alpha and
    AC1. `where(i)` names record i in error messages (default "record i+1").
    """
    from .taxonomy import load_taxonomy

    if not (isinstance(bootstrap, (int, np.integer)) and bootstrap >= 0):
        raise InputError(f"bootstrap={bootstrap!r}: the number of replicates must be 0 (no intervals) or more, e.g. 1000")
    if not 0 < confidence < 1:
        raise InputError(f"confidence={confidence!r}: must lie between 0 and 1, e.g. 0.95")
    taxonomy = taxonomy or load_taxonomy()
    where = where or (lambda i: f"record {i + 1}")
    records = records if isinstance(records, list) else list(records)
    if not records:
        raise DataError(f"{source}: no records; run `slant pull` first or check the file")
    # One BLAS thread: the matrix products here are small, and idle BLAS threads spin,
    # doubling CPU time and stalling on a busy machine.
    with threadpool_limits(1):
        return _compute(records, taxonomy, by, bootstrap, seed, confidence, source, where)


def _compute(records, taxonomy, by, bootstrap, seed, confidence, source, where):
    from . import __version__
    ids = list(taxonomy.sentence_ids)
    r, unit_record, adjudicated, predicted, versions, duplicates = _parse(records, taxonomy, where, ids)
    _check_units(r, source)
    warnings = []
    if duplicates:
        warnings.append(f"{duplicates} repeated annotations by the same annotator on a unit: the last one was used")
    cats, mean, (m, K1, kappa, shared) = _category_table(r, taxonomy, ids, bootstrap, seed, confidence, warnings,
                                                         adjudicated=adjudicated.mean(0))
    set_nominal, set_masi, n_sets = _set_alphas(r, m)
    with _quiet():
        kappa_mean = np.nanmean(kappa, axis=0) if len(ids) else np.full(shared.shape, np.nan)
    per_unit = np.bincount(m[m >= 1])
    return {
        "schema_version": "1.0", "generator": f"slant {__version__}", "source": str(source),
        "taxonomy": {"id": taxonomy.id, "version": taxonomy.version},
        "settings": {"bootstrap": int(bootstrap), "seed": int(seed), "confidence": float(confidence), "by": by},
        "summary": {"records": len(records), "units": r.n_units, "units_multi": int((m >= 2).sum()),
                    "annotators": len(r.coders), "annotations": int(len(r.unit)),
                    "annotators_per_unit": {str(k): int(v) for k, v in enumerate(per_unit) if k and v}},
        "categories": cats,
        "overall": {"mean": mean, "alpha_label_sets": _num(set_nominal), "alpha_masi": _num(set_masi),
                    "distinct_label_sets": int(n_sets)},
        "pairwise": {"annotators": r.coders, "shared_units": shared.tolist(),
                     "cohen_kappa_mean": [[_num(x) for x in row] for row in kappa_mean],
                     "cohen_kappa": {cid: [[_num(x) for x in row] for row in kappa[c]] for c, cid in enumerate(ids)}},
        "annotators": _annotators(r, m, K1),
        "spans": _spans(r, list(taxonomy.span_ids)) if taxonomy.span_ids else None,
        "model": _model(predicted, adjudicated, versions, ids, {c["id"]: c["alpha"] for c in cats}),
        "groups": _groups(records, r, unit_record, adjudicated, by, taxonomy, ids, bootstrap, seed, confidence, warnings),
        "warnings": warnings,
    }


def _group_value(rec, field):
    data = rec.get("data") if isinstance(rec.get("data"), dict) else {}
    value = data.get(field, rec.get(field))
    return "(missing)" if value is None else str(value)


def _groups(records, r, unit_record, adjudicated, by, taxonomy, ids, bootstrap, seed, confidence, warnings):
    if not by:
        return None
    record_value = np.array([_group_value(rec, by) for rec in records], dtype=object)
    unit_values, record_values = record_value[unit_record], Counter(record_value)
    if set(record_values) == {"(missing)"}:
        raise DataError(f"--by {by}: no record has a data field {by!r}; use a field of the task data, e.g. "
                        f"{', '.join(sorted((records[0].get('data') or {}).keys())[:5]) or 'doc_id'}")
    out = []
    for value in sorted(record_values):
        keep = unit_values == value
        sub = r.subset(keep)
        in_group = record_value == value
        entry = {"value": value, "records": record_values[value], "units": int(keep.sum())}
        if (np.bincount(sub.unit, minlength=sub.n_units) >= 2).any():
            cats, mean, _ = _category_table(sub, taxonomy, ids, bootstrap, seed, confidence, warnings,
                                            f"{by}={value}: ", adjudicated[in_group].mean(0))
            entry.update(units_multi=cats[0]["units"] if cats else 0, categories=cats, mean=mean)
        else:
            entry.update(units_multi=0, categories=[], mean=None)
            warnings.append(f"{by}={value}: no unit with two annotators; no agreement figures")
        out.append(entry)
    return {"field": by, "values": out}


def agreement_from_file(path, *, taxonomy=None, by=None, bootstrap=1000, seed=0, confidence=0.95):
    """`compute_agreement` over a reviewed-label JSONL file.

    `dataset.iter_reviewed` reads and validates the lines against
    schemas/reviewed.schema.json, so malformed records are reported as file:line.
    `taxonomy` is a `Taxonomy` or the path of a taxonomy file (default: built-in).
    """
    from .dataset import iter_reviewed
    from .taxonomy import load_taxonomy

    tax = taxonomy if taxonomy is None or hasattr(taxonomy, "categories") else load_taxonomy(taxonomy)
    records = list(iter_reviewed(path))  # labels stay as found: unknown ones are reported below, by name
    return compute_agreement(records, tax, by=by, bootstrap=bootstrap, seed=seed, confidence=confidence,
                             source=str(path), where=lambda i: f"{path}: record {i + 1}")
