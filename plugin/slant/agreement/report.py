"""Agreement reports: terminal table, JSON, CSV, Markdown, standalone HTML and PNG plots.

Every renderer reads the report dict of `slant.agreement.core.compute_agreement` (see
schemas/agreement.schema.json); the text formats share one list of sections so they
always show the same figures.

>>> print(render(report, "md"))            # doctest: +SKIP
"""

import base64
import csv
import html
import io
import json
from pathlib import Path

from slant._words import counted
from slant.errors import InputError

__all__ = ["FORMATS", "render", "render_table", "to_csv", "to_html", "to_json", "to_markdown",
           "plot_alpha", "plot_kappa", "save_plots"]

FORMATS = ("table", "json", "csv", "md", "html")
_MAX_MATRIX = 20  # annotators beyond which the pairwise table is left to the JSON and the heatmap


def _f(x, digits=3):
    return "–" if x is None else f"{x:.{digits}f}"


def _pct(x):
    return "–" if x is None else f"{100 * x:.1f}%"


def _ci(ci):
    return "–" if not ci else f"{_f(ci[0])} to {_f(ci[1])}"


def _category_rows(cats, mean):
    rows = [[c["id"], str(c["units"]), _pct(c["prevalence"]), _f(c["observed_agreement"]), _f(c["cohen_kappa"]),
             _f(c["fleiss_kappa"]), _f(c["alpha"]), _ci(c["alpha_ci"]), _f(c["ac1"]), _ci(c["ac1_ci"])]
            for c in cats]
    if mean:
        rows.append([f"(mean of {mean['categories']})", "", "", _f(mean["observed_agreement"]), _f(mean["cohen_kappa"]),
                     _f(mean["fleiss_kappa"]), _f(mean["alpha"]), _ci(mean.get("alpha_ci")),
                     _f(mean["ac1"]), _ci(mean.get("ac1_ci"))])
    return rows


_CAT_HEAD = ["category", "units", "prevalence", "observed", "Cohen κ", "Fleiss κ", "α", "α interval", "AC1",
             "AC1 interval"]


def _sections(report):
    """The report as titled tables: dicts with id, title, headers, rows (strings) and notes."""
    s, conf = report["summary"], report["settings"]
    per_unit = ", ".join(f"{k}: {v}" for k, v in s["annotators_per_unit"].items())
    head = [["source", report["source"]], ["taxonomy", f"{report['taxonomy']['id']} {report['taxonomy']['version']}"],
            ["records", str(s["records"])], ["units (≥1 annotation)", str(s["units"])],
            ["units with ≥2 annotators", str(s["units_multi"])], ["annotators", str(s["annotators"])],
            ["annotations", str(s["annotations"])], ["annotators per unit", per_unit],
            ["bootstrap", f"{conf['bootstrap']} replicates over units, seed {conf['seed']}, "
                          f"{100 * conf['confidence']:.0f}% percentile intervals" if conf["bootstrap"] else "none"]]
    out = [{"id": "summary", "title": "Summary", "headers": ["", ""], "rows": head, "notes": []}]
    o = report["overall"]
    out.append({"id": "categories", "title": "Agreement per category (one-vs-rest)", "headers": _CAT_HEAD,
                "rows": _category_rows(report["categories"], o["mean"]),
                "notes": [f"Label sets as a whole: nominal α {_f(o['alpha_label_sets'])}, MASI α {_f(o['alpha_masi'])} "
                          f"({o['distinct_label_sets']} distinct label sets)."]})
    pw = report["pairwise"]
    names = pw["annotators"] if len(pw["annotators"]) <= _MAX_MATRIX else []
    out.append({"id": "pairwise", "title": "Cohen's κ per annotator pair (mean over categories; shared units)",
                "headers": ["annotator"] + names,
                "rows": [[a] + ["" if i == j else f"{_f(pw['cohen_kappa_mean'][i][j])} ({pw['shared_units'][i][j]})"
                                for j in range(len(names))] for i, a in enumerate(names)],
                "notes": [] if names else [f"{len(pw['annotators'])} annotators: too many for a table; "
                                           "see pairwise in the JSON report and the heatmap."]})
    out.append({"id": "annotators", "title": "Annotators (agreement with the others' majority, leave-one-out)",
                "headers": ["annotator", "tasks", "shared tasks", "decisions", "agreement", "κ vs majority",
                            "labels per task"],
                "rows": [[a["annotator"], str(a["tasks"]), str(a["shared_tasks"]), str(a["decisions"]),
                          _pct(a["agreement_with_majority"]), _f(a["kappa_with_majority"]), _f(a["labels_per_task"], 2)]
                         for a in report["annotators"]], "notes": []})
    if report["spans"]:
        sp = report["spans"]
        rows = [[c["id"], str(c["pairs"]), str(c["regions"]), _f(c["exact_f1"]), _f(c["overlap_f1"])]
                for c in sp["categories"]]
        rows.append(["(all)", str(sp["overall"]["pairs"]), str(sp["overall"]["regions"]),
                     _f(sp["overall"]["exact_f1"]), _f(sp["overall"]["overlap_f1"])])
        out.append({"id": "spans", "title": "Span agreement (pairwise F1)",
                    "headers": ["category", "pairs", "regions", "exact F1", "overlap F1"], "rows": rows, "notes": []})
    if report["model"]:
        m = report["model"]
        versions = m["versions"]
        rows = [[c["id"], _f(c["human_alpha"]), _f(c["alpha"]), _f(c["cohen_kappa"]), _f(c["f1"])]
                + [_f(v["categories"][i]["alpha"]) for v in versions]
                for i, c in enumerate(m["all"]["categories"])]
        out.append({"id": "model", "title": "Model as annotator: predictions shown vs adjudicated labels",
                    "headers": ["category", "human α", "model α", "model κ", "model F1"]
                    + [f"α {v['model_version']} (n={v['units']})" for v in versions],
                    "rows": rows, "notes": [f"{counted(m['units'], 'unit')} with a prediction."]})
    if report["groups"]:
        g = report["groups"]
        for v in g["values"]:
            out.append({"id": f"group-{v['value']}", "title": f"{g['field']} = {v['value']} "
                        f"({counted(v['records'], 'record')}, {counted(v['units_multi'], 'unit')} with ≥2 annotators)",
                        "headers": _CAT_HEAD, "rows": _category_rows(v["categories"], v["mean"]), "notes": []})
    if report["warnings"]:
        out.append({"id": "warnings", "title": "Warnings", "headers": ["warning"],
                    "rows": [[w] for w in report["warnings"]], "notes": []})
    return out


def render_table(report, *, color=False, width=132):
    """A readable terminal rendering (rich tables); plain text unless `color`."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="standard" if color else None)
    for sec in _sections(report):
        show_header = sec["id"] != "summary"
        table = Table(title=sec["title"], show_header=show_header, title_justify="left", title_style="bold",
                      box=box.SIMPLE_HEAD, pad_edge=False)
        for i, h in enumerate(sec["headers"]):
            left = i == 0 or sec["id"] in ("summary", "warnings")
            table.add_column(h, justify="left" if left else "right", overflow="fold", no_wrap=not left)
        for row in sec["rows"]:
            table.add_row(*row)
        console.print(table)
        for note in sec["notes"]:
            console.print(note)
        console.print()
    return buf.getvalue()


def to_json(report):
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


_CSV_KEYS = ["units", "prevalence", "prevalence_adjudicated", "observed_agreement", "cohen_kappa", "cohen_pairs",
             "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "ac1", "ac1_low", "ac1_high"]


def to_csv(report):
    """The per-category tables (overall, then one per --by value), full precision."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["group_field", "group_value", "category"] + _CSV_KEYS)
    blocks = [("", "", report["categories"], report["overall"]["mean"])]
    if report["groups"]:
        blocks += [(report["groups"]["field"], v["value"], v["categories"], v["mean"]) for v in report["groups"]["values"]]
    for field, value, cats, mean in blocks:
        for c in cats + ([dict(mean, id="(mean)")] if mean else []):
            flat = dict(c)
            for key in ("alpha", "ac1"):
                ci = c.get(f"{key}_ci") or [None, None]
                flat[f"{key}_low"], flat[f"{key}_high"] = ci
            w.writerow([field, value, c["id"]] + ["" if flat.get(k) is None else flat[k] for k in _CSV_KEYS])
    return buf.getvalue()


def _md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report):
    lines = [f"# Agreement report: {_md_cell(report['source'])}", ""]
    for sec in _sections(report):
        lines += [f"## {_md_cell(sec['title'])}", ""]
        headers = sec["headers"] if sec["id"] != "summary" else ["item", "value"]
        lines.append("| " + " | ".join(map(_md_cell, headers)) + " |")
        lines.append("| " + " | ".join("---" if i == 0 else "---:" for i in range(len(headers))) + " |")
        lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in sec["rows"]]
        lines += [""] + [_md_cell(n) for n in sec["notes"]] + ([""] if sec["notes"] else [])
    return "\n".join(lines) + "\n"


# --- plots ------------------------------------------------------------------------------

def _png(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)  # Agg canvas without pyplot: no global backend switch, no display
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def plot_alpha(report):
    """PNG: Krippendorff's alpha (and AC1) per category with bootstrap interval bars."""
    from matplotlib.figure import Figure

    cats = report["categories"]
    fig = Figure(figsize=(7.5, 0.42 * len(cats) + 1.6))
    ax = fig.add_subplot()
    for offset, key, style, label in ((-0.15, "alpha", dict(fmt="o", color="#1f77b4"), "Krippendorff's α"),
                                      (0.15, "ac1", dict(fmt="s", color="#ff7f0e", mfc="white"), "Gwet's AC1")):
        ys = [i + offset for i, c in enumerate(cats) if c[key] is not None]
        xs = [c[key] for c in cats if c[key] is not None]
        err = [[max(0.0, c[key] - c[f"{key}_ci"][0]) if c[f"{key}_ci"] else 0 for c in cats if c[key] is not None],
               [max(0.0, c[f"{key}_ci"][1] - c[key]) if c[f"{key}_ci"] else 0 for c in cats if c[key] is not None]]
        ax.errorbar(xs, ys, xerr=err, capsize=3, linestyle="none", label=label, **style)
    for x, ls in ((0.667, ":"), (0.8, "--")):
        ax.axvline(x, color="grey", linestyle=ls, linewidth=0.8)
    ax.set_yticks(range(len(cats)), [c["id"] for c in cats])
    ax.invert_yaxis()
    ax.set_xlim(min([0.0] + [c["alpha_ci"][0] for c in cats if c["alpha_ci"]]) - 0.05, 1.02)
    ax.set_xlabel(f"coefficient ({100 * report['settings']['confidence']:.0f}% bootstrap interval); "
                  "dotted 0.667, dashed 0.8")
    ax.set_title(f"Agreement per category ({counted(report['summary']['units_multi'], 'unit')}, "
                 f"{counted(report['summary']['annotators'], 'annotator')})")
    ax.legend(loc="lower left", fontsize="small")
    return _png(fig)


def plot_kappa(report):
    """PNG: heatmap of pairwise Cohen's kappa (mean over categories); None with < 2 annotators."""
    import numpy as np
    from matplotlib.figure import Figure

    pw = report["pairwise"]
    names = pw["annotators"]
    if len(names) < 2:
        return None
    k = np.array([[np.nan if x is None else x for x in row] for row in pw["cohen_kappa_mean"]], dtype=float)
    size = min(12.0, 1.6 + 0.6 * len(names))
    fig = Figure(figsize=(size + 1.2, size))
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(k), vmin=min(0.0, np.nanmin(k) if np.isfinite(k).any() else 0.0), vmax=1.0,
                   cmap="viridis")
    short = [n if len(n) <= 18 else n[:17] + "…" for n in names]
    ax.set_xticks(range(len(names)), short, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), short)
    if len(names) <= 15:
        for i in range(len(names)):
            for j in range(len(names)):
                if np.isfinite(k[i, j]):
                    ax.text(j, i, f"{k[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if k[i, j] < 0.6 else "black")
    fig.colorbar(im, ax=ax, shrink=0.8, label="Cohen's κ (mean over categories)")
    ax.set_title("Pairwise Cohen's κ")
    return _png(fig)


def save_plots(report, directory):
    """Write alpha.png and kappa.png into `directory`; returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, png in (("alpha.png", plot_alpha(report)), ("kappa.png", plot_kappa(report))):
        if png:
            (directory / name).write_bytes(png)
            written.append(directory / name)
    return written


# --- HTML -------------------------------------------------------------------------------

_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border-bottom:1px solid #ddd;padding:3px 9px}
th{background:#f3f5f8;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%}.note{color:#555}h2{margin-top:1.6em}"""


def to_html(report):
    """A standalone HTML page: every table, and the plots as embedded PNGs. All text is escaped."""
    e = html.escape
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Agreement report: {e(report['source'])}</title><style>{_CSS}</style></head><body>",
             f"<h1>Agreement report</h1><p class=\"note\">{e(report['generator'])}; see docs/agreement.md "
             "for what each coefficient means.</p>"]
    plots = [("alpha", "Agreement per category with bootstrap intervals", plot_alpha(report)),
             ("kappa", "Pairwise Cohen's kappa", plot_kappa(report))]
    for sec in _sections(report):
        parts.append(f'<section id="{e(sec["id"])}"><h2>{e(sec["title"])}</h2><table>')
        if sec["id"] != "summary":
            parts.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in sec["headers"]) + "</tr></thead>")
        parts.append("<tbody>")
        for row in sec["rows"]:
            parts.append("<tr>" + "".join(f'<td{"" if i == 0 or sec["id"] in ("summary", "warnings") else " class=n"}>'
                                          f"{e(cell)}</td>" for i, cell in enumerate(row)) + "</tr>")
        parts.append("</tbody></table>")
        parts += [f'<p class="note">{e(n)}</p>' for n in sec["notes"]]
        for pid, alt, png in plots:
            if png and ((pid == "alpha" and sec["id"] == "categories") or (pid == "kappa" and sec["id"] == "pairwise")):
                parts.append(f'<figure id="plot-{pid}"><img alt="{e(alt)}" '
                             f'src="data:image/png;base64,{base64.b64encode(png).decode()}"></figure>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render(report, fmt="table", *, color=False):
    """The report in one of FORMATS, as a string."""
    renderers = {"table": lambda r: render_table(r, color=color), "json": to_json, "csv": to_csv,
                 "md": to_markdown, "html": to_html}
    if fmt not in renderers:
        raise InputError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return renderers[fmt](report)
