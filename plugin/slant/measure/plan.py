"""How many audit sentences a target interval width needs (`slant measure --plan`).

From reviewed records joined to the corpus predictions we measure, per category, how the
human label ``Y`` and the model's score ``Yhat`` vary together. The PPI++ estimator's
variance with an audit of ``n`` out of a corpus of ``N`` sentences is

    Var = Var(Y - lam Yhat) / n + lam^2 Var(Yhat) / N,    lam = Cov(Y, Yhat) / Var(Yhat)

(clipped to [0, 1]), so a two-sided interval of full width ``W`` at confidence ``1 - a``
needs ``n = z^2 Var(Y - lam Yhat) / ((W / 2)^2 - z^2 lam^2 Var(Yhat) / N)``; the classical
audit-only interval needs ``n = z^2 Var(Y) / (W / 2)^2``. Written by hand because
``ppi_py.ppi_mean_power`` trades labelled against unlabelled sample sizes under a cost
budget, while here the unlabelled set is the whole corpus, fixed.
"""

import math

import numpy as np

from slant.errors import InputError
from slant.measure.core import MIN_AUDIT, group_ids
from slant.measure.estimate import z_value

__all__ = ["ASSUMPTIONS", "plan", "render_plan"]

ASSUMPTIONS = [
    "the audit will be a uniform random sample of the corpus (per-group numbers: of each group; a stratified "
    "audit needs the per-group numbers summed over its strata)",
    "the model agrees with the human coders on the new audit as it did on the reviewed records measured here; "
    "records from the review queue (least certain first) disagree more than random ones, which makes the "
    "numbers pessimistic",
    "the normal approximation holds: the interval is symmetric and rates very near 0 or 1 need more sentences",
    "the model's weight lam is tuned as PPI++ does; with few reviewed records the measured variances are rough",
]


def _need(y, yhat, var_corpus, big_n, half, z):
    var_y = float(np.var(y, ddof=1))
    var_h = float(np.var(yhat, ddof=1))
    lam = float(np.clip(np.cov(y, yhat)[0, 1] / var_h, 0, 1)) if var_h > 0 else 0.0
    resid = var_y - 2 * lam * float(np.cov(y, yhat)[0, 1]) + lam ** 2 * var_h
    room = half ** 2 - z ** 2 * lam ** 2 * var_corpus / big_n
    n_ppi = math.ceil(z ** 2 * resid / room) if room > 0 else None
    n_classical = math.ceil(z ** 2 * var_y / half ** 2)
    corr = float(np.corrcoef(y, yhat)[0, 1]) if var_y > 0 and var_h > 0 else None
    return {"rate": round(float(np.mean(y)), 4), "correlation": None if corr is None else round(corr, 4),
            "lam": round(lam, 4), "residual_variance": round(resid, 6),
            "n_ppi": None if n_ppi is None else min(n_ppi, big_n), "n_classical": min(n_classical, big_n)}


def plan(corpus, audit, *, width, confidence=0.95, categories=None, by=()):
    """Audit sizes for an interval of full width `width`, per category (and group with `by`)."""
    if not 0 < width < 1:
        raise InputError(f"--width {width}: the full width of the interval as a share, between 0 and 1, e.g. 0.04")
    if audit.n < 2:
        raise InputError(f"only {audit.n} reviewed records match the predictions; --plan needs at least {MIN_AUDIT}")
    z, half = z_value(confidence), width / 2
    cats = categories or corpus.categories
    labels, gid = group_ids(corpus, list(by))
    gid_a = gid[audit.rows]
    rows = []
    for c in cats:
        y, yhat_all = audit.y[c], corpus.scores[c]
        yhat = yhat_all[audit.rows]
        overall = _need(y, yhat, float(np.var(yhat_all)), corpus.n, half, z)
        rows.append({"category": c, "group": {}, "reviewed": int(audit.n), "n_corpus": int(corpus.n), **overall})
        for g, key in enumerate(labels if by else []):
            dom, in_corpus = gid_a == g, gid == g
            own = dom.sum() >= MIN_AUDIT and np.var(y[dom]) > 0
            ys, hs = (y[dom], yhat[dom]) if own else (y, yhat)
            need = _need(ys, hs, float(np.var(yhat_all[in_corpus])), int(in_corpus.sum()), half, z)
            rows.append({"category": c, "group": dict(zip(by, key)), "reviewed": int(dom.sum()),
                         "n_corpus": int(in_corpus.sum()), **need,
                         **({} if own else {"note": "too few or uniform reviewed labels in this group: "
                                                    "the corpus-wide agreement was used"})})
    return {"width": width, "confidence": confidence, "reviewed": int(audit.n), "rows": rows,
            "assumptions": list(ASSUMPTIONS)}


def render_plan(result, fmt="md"):
    """The plan as Markdown (also readable as plain text) or JSON."""
    import json

    if fmt == "json":
        return json.dumps(result, indent=2) + "\n"
    conf = round(100 * result["confidence"])
    out = [f"Audit sentences needed for a {conf}% interval {100 * result['width']:.1f} points wide "
           f"(from {result['reviewed']} reviewed sentences joined to the predictions):", "",
           "| category | group | rate | corr(model, human) | lam | n PPI++ | n classical | note |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in result["rows"]:
        group = ", ".join(f"{k}={v}" for k, v in r["group"].items()) or "all"
        n_ppi = r["n_ppi"] if r["n_ppi"] is not None else "not reachable"
        out.append(f"| {r['category']} | {group} | {100 * r['rate']:.1f}% | {r['correlation']} | {r['lam']} | "
                   f"{n_ppi} | {r['n_classical']} | {r.get('note', '')} |")
    out += ["", "Assumptions:"] + [f"- {a}" for a in result["assumptions"]]
    return "\n".join(out) + "\n"
