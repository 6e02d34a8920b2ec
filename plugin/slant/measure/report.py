"""Render a measurement report as JSON, CSV, Markdown or self-contained HTML.

HTML escapes every value taken from the data (group values, category ids, file names)
and inlines its charts as SVG (`slant.measure.plots`); nothing is fetched when it opens.
"""

import csv
import html
import io
import json

from slant.measure.methods import REFERENCES, methods_paragraph
from slant.measure.plots import forest_svg, group_label, timeline_svg

__all__ = ["FORMATS", "render"]

FORMATS = ("json", "csv", "md", "html")
_METHOD_NAMES = {"ppi": "PPI++", "classical": "classical", "naive": "naive"}


def _pct(x):
    return "" if x is None else f"{100 * x:.1f}%"


def _ci(r):
    return "" if r["ci_low"] is None else f"{_pct(r['ci_low'])} – {_pct(r['ci_high'])}"


def _render_csv(report):
    buf = io.StringIO()
    cols = ["table", "category", "group", "group_b", "method", "estimate", "ci_low", "ci_high", "n_audit", "n_corpus",
            "lam", "ess", "gain", "warning"]
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in report["estimates"]:
        w.writerow({"table": "estimate", **{k: r.get(k) for k in cols[1:]}, "group": _flat(r["group"]), "group_b": ""})
    for d in report["differences"]:
        w.writerow({"table": "difference", "category": d["category"], "group": _flat(d["group_a"]),
                    "group_b": _flat(d["group_b"]), "method": d["method"], "estimate": d["estimate"],
                    "ci_low": d["ci_low"], "ci_high": d["ci_high"]})
    return buf.getvalue()


def _ess(r):
    return f"{r['ess']} (x{r['gain']:.2f})" if r.get("ess") is not None and r.get("gain") is not None else ""


def _flat(group):
    return ";".join(f"{k}={v}" for k, v in group.items())


def _by_category(report):
    cats = {}
    for r in report["estimates"]:
        cats.setdefault(r["category"], []).append(r)
    return cats


def _summary_lines(report):
    a, c = report["audit"], report["corpus"]
    return [f"Corpus: {c['sentences']:,} sentences ({c.get('source', '')}); model "
            f"{', '.join(c.get('model_versions') or {}) or 'version not recorded'}.",
            f"Audit: {a['sentences']} sentences, {a['design']} design"
            + (" (assumed uniform)" if a.get("assumed_uniform") else "") + ".",
            f"Intervals: {round(100 * report['settings']['confidence'])}% confidence."]


def _md_cell(x):
    return str(x).replace("|", "\\|").replace("\n", " ")


def _render_md(report):
    out = ["# Measurement report", ""] + [f"- {_md_cell(x)}" for x in _summary_lines(report)]
    for note in report.get("notes") or ():
        out.append(f"- Note: {_md_cell(note)}")
    for cat, rows in _by_category(report).items():
        out += ["", f"## {_md_cell(cat)}", "", "| group | method | estimate | CI | n audit | n corpus | ESS (gain) | note |",
                "| --- | --- | ---: | --- | ---: | ---: | ---: | --- |"]
        for r in rows:
            out.append(f"| {_md_cell(group_label(r['group']))} | {_METHOD_NAMES[r['method']]} | {_pct(r['estimate'])} | "
                       f"{_ci(r)} | {r['n_audit']} | {r['n_corpus']} | {_ess(r)} | "
                       f"{'**' + _md_cell(r['warning']) + '**' if r.get('warning') else ''} |")
        diffs = [d for d in report["differences"] if d["category"] == cat and d["method"] == "ppi"]
        if diffs:
            out += ["", "| difference (PPI++) | estimate | CI | excludes 0 |", "| --- | ---: | --- | --- |"]
            for d in diffs:
                out.append(f"| {_md_cell(group_label(d['group_a']))} − {_md_cell(group_label(d['group_b']))} | "
                           f"{_pct(d['estimate'])} | {_ci(d)} | {'yes' if d['excludes_zero'] else 'no'} |")
    out += ["", "## Methods", "", methods_paragraph(report), "", "References:", ""]
    out += [f"- {ref}" for ref in REFERENCES]
    return "\n".join(out) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}td,th{border:1px solid #ccc;padding:.25em .55em}
th{background:#f2f2f2}td.n{text-align:right}tr.warn td{background:#fff4e0}.warn b{color:#a05a00}
.note{background:#fff4e0;padding:.4em .7em}.methods{background:#f6f8fb;padding:.8em 1em}svg{max-width:100%;height:auto}"""


def _render_html(report):
    e = html.escape
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
             "<title>slant measurement report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Measurement report</h1><ul>"]
    parts += [f"<li>{e(x)}</li>" for x in _summary_lines(report)] + ["</ul>"]
    for note in report.get("notes") or ():
        parts.append(f"<p class=\"note\">{e(note)}</p>")
    for cat, rows in _by_category(report).items():
        parts.append(f"<h2>{e(cat)}</h2>")
        parts.append(forest_svg(report, cat))
        line = timeline_svg(report, cat)
        if line:
            parts.append(line)
        parts.append("<table><tr><th>group</th><th>method</th><th>estimate</th><th>CI</th><th>n audit</th>"
                     "<th>n corpus</th><th>ESS (gain)</th><th>note</th></tr>")
        for r in rows:
            cls = " class=\"warn\"" if r.get("warning") else ""
            parts.append(f"<tr{cls}><td>{e(group_label(r['group']))}</td><td>{e(_METHOD_NAMES[r['method']])}</td>"
                         f"<td class=\"n\">{e(_pct(r['estimate']))}</td><td>{e(_ci(r))}</td>"
                         f"<td class=\"n\">{r['n_audit']}</td><td class=\"n\">{r['n_corpus']}</td>"
                         f"<td class=\"n\">{e(_ess(r))}</td>"
                         f"<td>{'<b>' + e(r['warning']) + '</b>' if r.get('warning') else ''}</td></tr>")
        parts.append("</table>")
        diffs = [d for d in report["differences"] if d["category"] == cat and d["method"] == "ppi"]
        if diffs:
            parts.append("<table><tr><th>difference (PPI++)</th><th>estimate</th><th>CI</th><th>excludes 0</th></tr>")
            for d in diffs:
                parts.append(f"<tr><td>{e(group_label(d['group_a']))} − {e(group_label(d['group_b']))}</td>"
                             f"<td class=\"n\">{e(_pct(d['estimate']))}</td><td>{e(_ci(d))}</td>"
                             f"<td>{'yes' if d['excludes_zero'] else 'no'}</td></tr>")
            parts.append("</table>")
    parts.append(f"<h2>Methods</h2><p class=\"methods\">{e(methods_paragraph(report))}</p><h3>References</h3><ul>")
    parts += [f"<li>{e(ref)}</li>" for ref in REFERENCES]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"


def render(report, fmt="json"):
    """The report as text in `fmt` (json, csv, md, html)."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _render_csv(report)
    if fmt == "md":
        return _render_md(report)
    if fmt == "html":
        return _render_html(report)
    raise ValueError(f"unknown format {fmt!r}")
