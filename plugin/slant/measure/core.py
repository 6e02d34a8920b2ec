"""`measure`: corpus-level rates per category and group, three ways, and their differences.

>>> report = measure_files("corpus/", "audit.jsonl", by=["outlet"])   # doctest: +SKIP
>>> [r for r in report["estimates"] if r["method"] == "ppi"][0]        # doctest: +SKIP
{'category': 'loaded_language', 'group': {}, 'method': 'ppi', 'estimate': 0.14, ...}

Every row follows schemas/measure.schema.json. A group with fewer than `MIN_AUDIT`
audited sentences is still reported, with a ``warning``; one with fewer than two gets
no interval.
"""

from collections import Counter
from itertools import combinations

import numpy as np

from slant._version import __version__
from slant.errors import InputError
from slant.measure import estimate as est
from slant.measure.corpus import read_corpus
from slant.measure.data import read_audit

__all__ = ["MIN_AUDIT", "group_ids", "measure", "measure_files"]

MIN_AUDIT = 10
MAX_ALL_PAIRS = 10   # more groups than this: differences between neighbours in sort order only


def group_ids(corpus, by):
    """``(labels, gid)``: the sorted group values (tuples) and each corpus row's group number."""
    if not by:
        return [()], np.zeros(corpus.n, dtype=np.int64)
    cached = corpus.cache.get(("groups", tuple(by)))
    if cached is not None:
        return cached
    # Hash-encode each field (pyarrow; sorting a million Python strings takes seconds), rank its
    # values in sort order, and number the combinations: groups come out sorted by field values.
    import pyarrow as pa

    code = np.zeros(corpus.n, dtype=np.int64)
    values = []
    for f in by:
        enc = pa.array(corpus.groups[f], type=pa.string()).dictionary_encode()
        uniq = enc.dictionary.to_pylist()
        order = sorted(range(len(uniq)), key=uniq.__getitem__)
        rank = np.empty(len(uniq), dtype=np.int64)
        rank[order] = np.arange(len(uniq))
        code = code * len(uniq) + rank[enc.indices.to_numpy(zero_copy_only=False)]
        values.append([uniq[i] for i in order])
    combos, gid = np.unique(code, return_inverse=True)
    labels = []
    for c in combos.tolist():
        key = []
        for vals in reversed(values):
            c, r = divmod(c, len(vals))
            key.append(vals[r])
        labels.append(tuple(reversed(key)))
    out = labels, gid
    corpus.cache[("groups", tuple(by))] = out
    return out


def _check_categories(corpus, categories):
    if not categories:
        return list(corpus.categories)
    unknown = [c for c in categories if c not in corpus.categories]
    if unknown:
        raise InputError(f"--category {', '.join(unknown)}: not a category of the predictions; "
                         f"categories there: {', '.join(corpus.categories)}")
    return list(dict.fromkeys(categories))


def _unit(x):
    """A rate lies in [0, 1]: clipping an interval's ends (or a PPI estimate) there never uncovers it."""
    return None if x is None else min(1.0, max(0.0, x))


def _row(category, group, method, iv, n_audit, n_corpus, **extra):
    row = {"category": category, "group": group, "method": method,
           "estimate": _num(_unit(iv.estimate)), "ci_low": _num(_unit(iv.low)), "ci_high": _num(_unit(iv.high)),
           "n_audit": int(n_audit), "n_corpus": int(n_corpus)}
    row.update({k: v for k, v in extra.items() if v is not None})
    return row


def _num(x):
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def _warning(n_audit, y):
    if n_audit < 2:
        return f"{n_audit} audited sentences: no interval; audit more sentences of this group"
    if n_audit < MIN_AUDIT:
        return f"only {n_audit} audited sentences (fewer than {MIN_AUDIT}): the interval is unreliable"
    if y.sum() == 0:
        return "no audited sentence of this group carries the category: the normal-approximation interval is unreliable"
    return None


def _pairs(n_groups):
    if n_groups <= MAX_ALL_PAIRS:
        return list(combinations(range(n_groups), 2)), "all pairs"
    return [(i, i + 1) for i in range(n_groups - 1)], "neighbouring groups in sort order"


def measure(corpus, audit, *, by=(), categories=None, confidence=0.95, differences=True):
    """The measurement report for `corpus` (a `Corpus`) and `audit` (an `Audit`)."""
    by = list(by)
    cats = _check_categories(corpus, categories)
    est.z_value(confidence)
    labels, gid = group_ids(corpus, by)
    gid_a = gid[audit.rows]
    uniform = audit.design == "uniform"
    design = None if uniform else est.design_of(audit.p, audit.strata)
    groups = [({}, np.ones(corpus.n, bool), np.ones(audit.n, bool))]
    if by:
        groups += [(dict(zip(by, key)), gid == g, gid_a == g) for g, key in enumerate(labels)]
    estimates, diffs = [], []
    for c in cats:
        yhat_all, lab_all, y = corpus.scores[c], corpus.labels[c], audit.y[c]
        yhat_a = yhat_all[audit.rows]
        fitted = []
        for group, in_corpus, dom in groups:
            na, nc = int(dom.sum()), int(in_corpus.sum())
            if uniform:
                ppi = est.ppi_uniform(y[dom], yhat_a[dom], yhat_all[in_corpus], confidence)
                classical = est.classical_uniform(y[dom], confidence)
            else:
                mean_hat = float(yhat_all[in_corpus].mean()) if nc else 0.0
                ppi = est.stratified(y, yhat_a, audit.p, audit.strata, dom, mean_hat, confidence, design=design)
                classical = est.stratified(y, yhat_a, audit.p, audit.strata, dom, mean_hat, confidence, lam=0.0,
                                           design=design)
            fitted.append((group, ppi, classical, dom))
            warn = _warning(na, y[dom])
            ess = None
            if ppi.se and classical.se:
                ess = round(na * (classical.se / ppi.se) ** 2, 1)
            estimates.append(_row(c, group, "ppi", ppi, na, nc, lam=_num(ppi.lam), ess=ess,
                                  gain=None if ess is None else round(ess / na, 3), warning=warn))
            estimates.append(_row(c, group, "classical", classical, na, nc, warning=warn))
            estimates.append(_row(c, group, "naive", est.naive(lab_all[in_corpus], confidence), na, nc))
        if differences and len(fitted) > 2:
            pairs, _ = _pairs(len(fitted) - 1)
            for i, j in pairs:
                (ga, pa, ca, da), (gb, pb, cb, db) = fitted[i + 1], fitted[j + 1]
                for method, a, b in (("ppi", pa, pb), ("classical", ca, cb)):
                    kw = {} if uniform else {"y": y, "yhat": yhat_a, "p": audit.p, "dom_a": da, "dom_b": db,
                                             "design": design}
                    d = est.difference(a, b, confidence, **kw)
                    diffs.append({"category": c, "group_a": ga, "group_b": gb, "method": method,
                                  "estimate": _num(d.estimate), "ci_low": _num(d.low), "ci_high": _num(d.high),
                                  "excludes_zero": None if d.low is None else bool(d.low > 0 or d.high < 0)})
    return {
        "schema_version": "1.0", "generator": f"slant {__version__}",
        "settings": {"by": by, "categories": cats, "confidence": confidence,
                     "differences": _pairs(len(labels))[1] if by and len(labels) > 1 else None},
        "corpus": {"source": corpus.source, "sentences": int(corpus.n), "model_versions": dict(corpus.model_versions)},
        "audit": _audit_summary(audit),
        "estimates": estimates,
        "differences": diffs,
        "notes": list(corpus.notes) + list(audit.notes) + _stratum_notes(audit),
    }


def _stratum_notes(audit):
    if audit.design != "stratified":
        return []
    lone = sorted(s for s, n in Counter(audit.strata.tolist()).items() if n < 2)
    return [f"strata with a single audited sentence: {', '.join(repr(s) for s in lone)}; their sampling variance "
            "cannot be estimated and counts as 0, so intervals are too narrow: audit at least two sentences "
            "per stratum"] if lone else []


def _audit_summary(audit):
    strata = Counter(audit.strata.tolist())
    p_of = {}
    for s, q in zip(audit.strata.tolist(), audit.p.tolist()):
        p_of.setdefault(s, q)
    return {"sentences": int(audit.n), "design": audit.design, "assumed_uniform": bool(audit.assumed_uniform),
            "strata": [{"stratum": s, "n": int(n), "p": round(float(p_of[s]), 8)} for s, n in sorted(strata.items())]}


def measure_files(predictions, audit, *, by=(), categories=None, confidence=0.95, period="month",
                  assume_uniform=False, taxonomy=None):
    """`measure` over files: PREDICTIONS (Parquet dir or JSONL) and a reviewed JSONL audit.

    Adds ``methods``: coders, their agreement on the audit, taxonomy and model versions.
    """
    from slant.measure.methods import methods_info

    corpus = read_corpus(predictions, by=by, period=period)
    _check_categories(corpus, categories)
    sample = read_audit(audit, corpus, assume_uniform=assume_uniform)
    report = measure(corpus, sample, by=by, categories=categories, confidence=confidence)
    report["settings"]["period"] = period
    report["audit"]["source"] = str(audit)
    report["methods"] = methods_info(sample, corpus, taxonomy=taxonomy, categories=report["settings"]["categories"])
    return report
