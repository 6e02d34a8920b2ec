"""Charts of a measurement report as inline SVG: a forest plot per category, a line over time.

Text in the SVG is written as ``<text>`` elements (``svg.fonttype: none``), which
matplotlib's SVG writer escapes; no date or other metadata goes into the file, so the same
report gives the same bytes.
"""

import io

from slant.measure.data import is_date_field

__all__ = ["forest_svg", "time_series", "timeline_svg"]

METHODS = (("ppi", "prediction-powered (PPI++)", "#1f5fa8", "o"),
           ("classical", "classical (audit only)", "#8a8a8a", "s"),
           ("naive", "naive (model labels counted)", "#c0392b", "^"))


def _svg(fig):
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "slant"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def group_label(group):
    return ", ".join(f"{k}={v or '(missing)'}" for k, v in group.items()) if group else "all sentences"


def forest_svg(report, category):
    """Groups (rows) x the three estimates with their intervals, for one category."""
    from matplotlib.figure import Figure

    rows = [r for r in report["estimates"] if r["category"] == category]
    groups = []
    for r in rows:
        if r["group"] not in groups:
            groups.append(r["group"])
    fig = Figure(figsize=(7.5, 0.9 + 0.42 * len(groups)))
    ax = fig.add_subplot()
    for k, (method, label, color, marker) in enumerate(METHODS):
        xs, ys, lo, hi = [], [], [], []
        for g, group in enumerate(groups):
            r = next((x for x in rows if x["group"] == group and x["method"] == method), None)
            if r is None or r["estimate"] is None:
                continue
            y = g + (k - 1) * 0.22
            xs.append(r["estimate"])
            ys.append(y)
            lo.append(r["estimate"] - (r["ci_low"] if r["ci_low"] is not None else r["estimate"]))
            hi.append((r["ci_high"] if r["ci_high"] is not None else r["estimate"]) - r["estimate"])
        ax.errorbar(xs, ys, xerr=[lo, hi], fmt=marker, color=color, label=label, capsize=2, markersize=4)
    ax.set_yticks(range(len(groups)), [group_label(g) + _flag(rows, g) for g in groups])
    ax.invert_yaxis()
    ax.set_xlabel(f"share of sentences ({round(100 * report['settings']['confidence'])}% CI)")
    ax.set_title(category)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), ncol=3, fontsize="small", frameon=False)
    return _svg(fig)


def _flag(rows, group):
    return " (!)" if any(r["group"] == group and r.get("warning") for r in rows) else ""


def time_series(report, category):
    """{series label: [(period, row by method)]} when a --by field is a date field; else {}."""
    by = report["settings"]["by"]
    dates = [f for f in by if is_date_field(f)]
    if not dates:
        return {}
    when = dates[0]
    series = {}
    for r in report["estimates"]:
        if r["category"] != category or when not in r["group"] or not r["group"][when]:
            continue
        rest = {k: v for k, v in r["group"].items() if k != when}
        points = series.setdefault(group_label(rest) if rest else "all sentences", {})
        points.setdefault(r["group"][when], {})[r["method"]] = r
    return {k: sorted(v.items()) for k, v in sorted(series.items())}


def timeline_svg(report, category):
    """The prediction-powered rate over time with its band (plus classical and naive for one series)."""
    from matplotlib.figure import Figure

    series = time_series(report, category)
    if not series:
        return ""
    fig = Figure(figsize=(7.5, 3.4))
    ax = fig.add_subplot()
    periods = sorted({p for pts in series.values() for p, _ in pts})
    pos = {p: i for i, p in enumerate(periods)}
    single = len(series) == 1
    for name, pts in series.items():
        methods = METHODS if single else METHODS[:1]
        for method, label, color, marker in methods:
            got = [(pos[p], m[method]) for p, m in pts if method in m and m[method]["estimate"] is not None]
            if not got:
                continue
            xs = [x for x, _ in got]
            line = ax.plot(xs, [r["estimate"] for _, r in got], marker=marker, markersize=3,
                           label=label if single else name, **({"color": color} if single else {}),
                           linestyle="-" if method == "ppi" else ":")
            if method == "ppi":
                band = [(x, r) for x, r in got if r["ci_low"] is not None]
                ax.fill_between([x for x, _ in band], [r["ci_low"] for _, r in band], [r["ci_high"] for _, r in band],
                                alpha=0.18, color=line[0].get_color())
    step = max(1, len(periods) // 12)
    ax.set_xticks(range(0, len(periods), step), periods[::step], rotation=45, ha="right", fontsize="small")
    ax.set_ylabel("share of sentences")
    ax.set_title(f"{category} over time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", frameon=False)
    return _svg(fig)
