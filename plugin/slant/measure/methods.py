"""What a paper's methods section says about a measurement: the facts and the paragraph.

`methods_info` gathers the coders of the audit and their agreement (Cohen's kappa and
Krippendorff's alpha from `slant.agreement` where audited sentences carry two or more
coders' annotations), the codebook (taxonomy id and version) and the model versions;
`methods_paragraph` turns a report into prose ready to paste.
"""

from collections import Counter

from slant.errors import SlantError

__all__ = ["REFERENCES", "methods_info", "methods_paragraph"]

REFERENCES = [
    "Angelopoulos, A. N., Bates, S., Fannjiang, C., Jordan, M. I., & Zrnic, T. (2023). "
    "Prediction-powered inference. Science, 382(6671), 669-674.",
    "Angelopoulos, A. N., Duchi, J. C., & Zrnic, T. (2024). PPI++: Efficient prediction-powered inference. "
    "arXiv:2311.01453.",
]


def methods_info(audit, corpus, *, taxonomy=None, categories=()):
    """Coders, their agreement on the audit, codebook and model versions (a JSON-ready dict)."""
    coders = Counter()
    multi = 0
    taxa = Counter()
    for r in audit.records:
        anns = [a for a in r.get("annotations") or () if isinstance(a, dict)]
        coders.update(str(a.get("annotator")) for a in anns)
        multi += len({str(a.get("annotator")) for a in anns}) >= 2
        t = r.get("taxonomy") if isinstance(r.get("taxonomy"), dict) else {}
        if t.get("id"):
            taxa[f"{t['id']} {t.get('version', '')}".strip()] += 1
    info = {"coders": len(coders), "annotations": sum(coders.values()), "multiply_coded": multi,
            "agreement": None, "taxonomy": [k for k, _ in taxa.most_common()],
            "model_versions": [k for k, _ in corpus.model_versions.most_common()]}
    if multi:
        info["agreement"] = _agreement(audit.records, taxonomy, categories)
    return info


def _agreement(records, taxonomy, categories):
    from slant.agreement.core import compute_agreement
    from slant.taxonomy.core import load_taxonomy

    try:
        tax = taxonomy if taxonomy is not None and not isinstance(taxonomy, str) else load_taxonomy(taxonomy)
        rep = compute_agreement(records, tax, bootstrap=0, source="audit")
    except SlantError as exc:
        return {"error": str(exc)}
    cats = {c["id"]: {"cohen_kappa": c["cohen_kappa"], "alpha": c["alpha"], "units": c["units"]}
            for c in rep["categories"] if not categories or c["id"] in categories}
    return {"units": rep["summary"]["units_multi"], "categories": cats,
            "mean_cohen_kappa": _mean(v["cohen_kappa"] for v in cats.values()),
            "mean_alpha": _mean(v["alpha"] for v in cats.values())}


def _mean(values):
    got = [v for v in values if v is not None]
    return round(sum(got) / len(got), 4) if got else None


def _pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def methods_paragraph(report):
    """A methods paragraph (plain text) describing how the report's figures were obtained."""
    c, a, m, s = report["corpus"], report["audit"], report.get("methods") or {}, report["settings"]
    conf = round(100 * s["confidence"])
    if a["design"] == "uniform":
        design = (f"a simple random sample of {a['sentences']} sentences"
                  + (" (treated as uniform by assumption)" if a.get("assumed_uniform") else ""))
    else:
        parts = ", ".join(f"{x['stratum'] or '(none)'}: {x['n']} (p = {x['p']:.4g})" for x in a["strata"])
        design = (f"a stratified random sample of {a['sentences']} sentences with unequal inclusion probabilities "
                  f"({parts}), weighted by the inverse of each sentence's inclusion probability")
    text = [f"We measured the share of sentences in each rhetorical category over a corpus of {c['sentences']:,} "
            f"sentences" + (f", by {', '.join(s['by'])}" if s["by"] else "") + "."]
    tax = m.get("taxonomy") or []
    text.append(f"Sentences were labelled with the codebook {', '.join(tax) or '(taxonomy not recorded)'} by a "
                f"classifier (model version {', '.join(m.get('model_versions') or []) or 'not recorded'}) over the "
                f"whole corpus, and by human coders on {design}.")
    if m.get("coders"):
        agree = m.get("agreement") or {}
        if agree.get("units"):
            cats = agree.get("categories") or {}
            if 0 < len(cats) <= 3:
                how = "; ".join(f"{c}: Cohen's kappa {_fmt(v['cohen_kappa'])}, Krippendorff's alpha {_fmt(v['alpha'])}"
                                for c, v in cats.items())
            else:
                how = (f"mean Cohen's kappa {_fmt(agree.get('mean_cohen_kappa'))} and Krippendorff's alpha "
                       f"{_fmt(agree.get('mean_alpha'))} across the measured categories")
            text.append(f"{m['coders']} coders made {m['annotations']} annotations; {agree['units']} audited sentences "
                        f"were coded by two or more of them ({how}).")
        else:
            text.append(f"{m['coders']} coders made {m['annotations']} annotations; each audited sentence was coded "
                        "once, so inter-coder agreement on the audit is not available.")
    est = ("the inverse-probability-weighted (Hajek) form of the prediction-powered estimator with a stratified "
           "variance" if a["design"] == "stratified" else "the prediction-powered estimator")
    text.append(f"Rates and {conf}% confidence intervals were computed with {est}, with power tuning (PPI++), "
                "which combines the classifier's scores on every sentence with the human codes on the audit and "
                "remains valid whatever the classifier's errors (Angelopoulos et al., 2023; Angelopoulos, Duchi & "
                "Zrnic, 2024). For comparison we report the classical estimate from the audit alone and the naive "
                "share of classifier labels, whose interval assumes the classifier is never wrong.")
    ppi = [r for r in report["estimates"] if r["method"] == "ppi" and not r["group"] and r.get("ess")]
    if ppi:
        gain = sum(r["ess"] / max(r["n_audit"], 1) for r in ppi) / len(ppi)
        text.append(f"Across categories, the prediction-powered intervals correspond to an effective audit "
                    f"{gain:.2f} times the size of the actual one.")
    text.append(f"Computed with {report['generator']}.")
    return " ".join(text)


def _fmt(x):
    return "n/a" if x is None else f"{x:.2f}"
