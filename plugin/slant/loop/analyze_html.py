"""`slant analyze --format html`: one standalone page (inline CSS, no external assets)
with each document's sentences in their paragraphs, their labels highlighted, a legend of
the taxonomy with each category's threshold, and a table of every sentence, whole, with
its probabilities set against those thresholds. Every text is escaped."""

import html
import io

from slant.taxonomy.config import PALETTE
from slant.text.boilerplate import NON_BODY_KINDS

__all__ = ["label_colors", "model_thresholds", "render_document_html", "render_html_page", "write_html"]


def label_colors(taxonomy):
    """{category id: colour}: the category's own colour, else the palette's in category order."""
    return {c.id: (c.color or PALETTE[i % len(PALETTE)]) for i, c in enumerate(taxonomy.categories)}


def model_thresholds(model):
    """{category id: threshold} of a fitted model ({} for one without thresholds)."""
    est = getattr(model, "estimator", None)
    classes, cuts = getattr(est, "classes_", None), getattr(est, "thresholds_", None)
    if classes is None or cuts is None:
        return {}
    return {str(c): float(t) for c, t in zip(classes, cuts)}


_THRESHOLD_NOTE = (
    "Each category has its own threshold (after the ≥ in the legend), chosen in cross-validation for that "
    "category's best F1: a sentence gets the label when the probability reaches it. Rare or subtle categories "
    "have low thresholds, so a 0.17 can be labelled while a 0.39 of a category with a higher threshold is not."
)

_CSS = """
body{font:16px/1.6 Georgia,serif;margin:0;background:#fafafa;color:#222}
header{background:#fff;border-bottom:1px solid #ddd;padding:12px 32px;position:sticky;top:0;z-index:2}
header h1{font:600 20px system-ui,sans-serif;margin:0 0 4px}
.meta{font:13px system-ui,sans-serif;color:#666;margin:0 0 6px}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;list-style:none;margin:0;padding:0;font:13px system-ui,sans-serif}
.legend li{display:flex;align-items:center;gap:5px}
.swatch{display:inline-block;width:14px;height:14px;border-radius:3px}
main{max-width:860px;margin:24px auto;padding:0 24px}
article{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:16px 28px;margin-bottom:28px}
article h2{font:700 24px Georgia,serif;margin:8px 0}
.source,.byline{font:13px system-ui,sans-serif;color:#666}
.sent{border-radius:2px;padding:1px 0}
.sent.flagged{background:#fffbe6}
mark{background:transparent;border-radius:2px;padding:0 1px;color:inherit}
.scores{width:100%;border-collapse:collapse;font:13px system-ui,sans-serif;margin-top:16px}
.scores th,.scores td{border-top:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
.chip{display:inline-block;border-radius:9px;padding:0 7px;margin:1px 2px;color:#fff;font-size:12px}
.num{color:#555;white-space:nowrap}
.cut{color:#888;font-size:11px}
.note{font:13px system-ui,sans-serif;color:#555;margin:4px 0 8px;max-width:900px}
.p-yes{font-weight:600}
.p-no{color:#777}
"""


def _highlight(text, spans, colors):
    """Sentence text with each span wrapped in <mark>; overlapping spans share segments."""
    cuts = {0, len(text)}
    for s in spans:
        cuts.update((s["start"], s["end"]))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    out = []
    for a, b in zip(points, points[1:]):
        piece = html.escape(text[a:b])
        covering = [s for s in spans if s["start"] <= a and b <= s["end"]]
        if not covering:
            out.append(piece)
            continue
        labels = list(dict.fromkeys(s["label"] for s in covering))
        first = colors.get(labels[0], "#999999")
        style = f"background:{first}40;border-bottom:3px solid {colors.get(labels[-1], first)}"
        tip = "; ".join(f"{s['label']}" + (f" ({s['cue']})" if s.get("cue") else "") for s in covering)
        out.append(
            f'<mark class="hl" data-labels="{html.escape(" ".join(labels))}" style="{html.escape(style)}" '
            f'title="{html.escape(tip)}">{piece}</mark>'
        )
    return "".join(out)


def _chips(labels, colors, names):
    return "".join(
        f'<span class="chip" style="background:{html.escape(colors.get(lab, "#999999"))}" title="{html.escape(lab)}">'
        f"{html.escape(names.get(lab, lab))}</span>"
        for lab in labels
    )


def _probabilities(pred, names, thresholds):
    """The labelled categories and the next most probable ones, each against its threshold."""
    top = [k for k, _ in sorted(pred.scores.items(), key=lambda kv: -kv[1])[:3]]
    shown = list(dict.fromkeys([*pred.labels, *top]))
    rows = []
    for k in shown:
        v, t = pred.scores.get(k, 0.0), thresholds.get(k)
        yes = k in pred.labels
        d = 3 if t is not None and f"{v:.2f}" == f"{t:.2f}" else 2  # 0.189 < 0.190, not "0.19 < 0.19"
        versus = "" if t is None else f" {'≥' if yes else '<'} {t:.{d}f}"
        rows.append(f'<span class="{"p-yes" if yes else "p-no"}">{html.escape(names.get(k, k))} {v:.{d}f}'
                    f'<span class="cut">{html.escape(versus)}</span></span>')
    return "<br>".join(rows)


def render_document_html(doc, pairs, taxonomy, thresholds=None):
    """One <article> with the highlighted text in its paragraphs and a per-sentence table."""
    thresholds = thresholds or {}
    colors = label_colors(taxonomy)
    names = {c.id: c.name for c in taxonomy.categories}
    parts = [f'<article class="doc" data-doc-id="{html.escape(str(doc.id))}">']
    if doc.source:
        parts.append(f'<p class="source">{html.escape(str(doc.source))}</p>')
    paragraph, body = None, []

    def close():
        if body:
            parts.append("<p>" + " ".join(body) + "</p>")
            body.clear()

    for s, p in pairs:
        flagged = " flagged" if p.labels else ""
        scores = ", ".join(f"{k} {v:.2f}" for k, v in sorted(p.scores.items(), key=lambda kv: -kv[1]) if v >= 0.05)
        inner = (f'<span class="sent{flagged}" id="s-{html.escape(str(doc.id))}-{s.index}" data-index="{s.index}" '
                 f'data-labels="{html.escape(" ".join(p.labels))}" title="{html.escape(scores or "no category")}">'
                 f"{_highlight(s.text, p.spans, colors)}</span>")
        if s.kind == "title":
            close()
            parts.append(f"<h2>{inner}</h2>")
            continue
        if s.kind in NON_BODY_KINDS:  # byline, heading, related box, licence, bio: shown apart, not pushed
            close()
            parts.append(f'<p class="byline {s.kind}">{inner}</p>')
            continue
        if paragraph is not None and s.paragraph != paragraph:
            close()
        paragraph = s.paragraph
        body.append(inner)
    close()
    parts.append('<table class="scores"><thead><tr><th>#</th><th>Sentence</th><th>Labels</th>'
                 '<th>Probability vs threshold</th></tr></thead><tbody>')
    for s, p in pairs:
        parts.append(
            f'<tr data-index="{s.index}"><td class="num">{s.index}</td><td>{html.escape(s.text)}</td>'
            f"<td>{_chips(p.labels, colors, names)}</td><td class=\"num\">{_probabilities(p, names, thresholds)}</td></tr>"
        )
    parts.append("</tbody></table></article>")
    return "\n".join(parts)


def _html_head(model, taxonomy, title):
    colors, thresholds = label_colors(taxonomy), model_thresholds(model)
    legend = "".join(
        f'<li data-label="{html.escape(c.id)}"><span class="swatch" style="background:{html.escape(colors[c.id])}"></span>'
        f'<span title="{html.escape(c.description)}">{html.escape(c.name)}</span>'
        + (f'<span class="cut">≥ {thresholds[c.id]:.2f}</span>' if c.id in thresholds else "") + "</li>"
        for c in taxonomy.categories
    )
    note = f'<p class="note">{html.escape(_THRESHOLD_NOTE)}</p>' if thresholds else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>\n<header><h1>{html.escape(title)}</h1>"
        f"<p class=\"meta\">model {html.escape(model.model_version)} · taxonomy {html.escape(taxonomy.id)} "
        f"{html.escape(taxonomy.version)} · hover a sentence for its scores</p>"
        f"{note}<ul class=\"legend\">{legend}</ul></header>\n<main>\n"
    )


def render_html_page(results, model, *, title="slant analysis"):
    """A standalone HTML page (inline CSS, no external assets) for ``[(doc, pairs)]``."""
    buf = io.StringIO()
    write_html(results, model, buf, title=title)
    return buf.getvalue()


def write_html(results, model, fh, *, title="slant analysis"):
    """Write the page for ``[(doc, pairs)]`` to the text file `fh`, one document at a time."""
    fh.write(_html_head(model, model.taxonomy, title))
    thresholds = model_thresholds(model)
    for doc, pairs in results:
        fh.write(render_document_html(doc, pairs, model.taxonomy, thresholds) + "\n")
    fh.write("</main></body></html>\n")
