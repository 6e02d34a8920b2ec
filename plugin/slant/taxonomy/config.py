"""A taxonomy rendered: the Label Studio labeling config (`render_config`) and the
Markdown table of docs/taxonomy.md (`render_docs`).

>>> from slant.taxonomy.core import load_taxonomy
>>> render_docs(load_taxonomy()).splitlines()[2]
'| Group | Id | Name | Level | Hotkey | PTC | Definition |'
"""

from xml.etree import ElementTree as ET

from slant._words import counted
from slant.taxonomy.core import CHOICES_NAME, NOTE_NAME, SPANS_NAME, TEXT_NAME

__all__ = ["PALETTE", "REGIONS_CSS", "render_config", "render_docs"]

# Colours of span labels without their own, in category order; `slant analyze` uses them too.
PALETTE = ["#d62728", "#9467bd", "#ff7f0e", "#2ca02c", "#17becf", "#1f77b4", "#e377c2", "#8c564b", "#bcbd22", "#7f7f7f"]


# The Regions list of Label Studio 1.23 cuts each region's text to one short line
# ("squande..."), beside a label name that wraps: the label goes on its own line and the
# text below it, whole and wrapped. (Its <Style> tag is the config's only way to style
# the editor; class names are those of Label Studio 1.23's outliner.)
REGIONS_CSS = (
    ".lsf-outliner-item__title{flex-direction:column;align-items:flex-start;gap:0}"
    ".lsf-outliner-item__text{white-space:normal;overflow:visible;text-overflow:clip;word-break:break-word;"
    "max-width:none}"
    ".lsf-tree-treenode{height:auto!important;min-height:40px}"
)


def render_config(taxonomy):
    """The Label Studio labeling config for a taxonomy, as an XML string.

    ElementTree escapes every attribute, so any category name round-trips.
    """
    view = ET.Element("View")
    ET.SubElement(view, "Style").text = REGIONS_CSS
    ET.SubElement(view, "Header", value="$doc_title", size="6")
    ctx = ET.SubElement(view, "View", style="color:#666;font-size:90%;margin-bottom:4px")
    ET.SubElement(ctx, "Text", name="context_before", value="$context_before", granularity="word")
    box = ET.SubElement(view, "View", style="border-left:4px solid #1f77b4;padding:6px 10px;font-size:110%;background:#f7f9fc")
    span_cats = [c for c in taxonomy.categories if c.span_level]
    if span_cats:
        labels = ET.SubElement(view, "Labels", name=SPANS_NAME, toName=TEXT_NAME, showInline="true")
        for i, c in enumerate(span_cats):
            ET.SubElement(labels, "Label", value=c.name, background=c.color or PALETTE[i % len(PALETTE)], hint=c.description)
        # Labels must precede the object in document order for a tidy layout.
        view.remove(labels)
        view.insert(list(view).index(box), labels)
    ET.SubElement(box, "Text", name=TEXT_NAME, value="$text", granularity="symbol")
    ctx_after = ET.SubElement(view, "View", style="color:#666;font-size:90%;margin-top:4px")
    ET.SubElement(ctx_after, "Text", name="context_after", value="$context_after", granularity="word")
    ET.SubElement(view, "Header", value="Sentence-level categories (select all that apply)", size="6")
    choices = ET.SubElement(view, "Choices", name=CHOICES_NAME, toName=TEXT_NAME, choice="multiple", showInline="false")
    for c in taxonomy.categories:
        if not c.sentence_level:
            continue
        attrs = {"value": c.name, "hint": c.description}
        if c.hotkey:
            attrs["hotkey"] = c.hotkey
        ET.SubElement(choices, "Choice", **attrs)
    ET.SubElement(view, "TextArea", name=NOTE_NAME, toName=TEXT_NAME, placeholder="Reviewer note (optional)", rows="2", maxSubmissions="1", editable="true")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def _md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_docs(taxonomy):
    """A Markdown table of the taxonomy's categories, grouped."""
    lines = [
        "| Group | Id | Name | Level | Hotkey | PTC | Definition |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    gnames = {g["id"]: g["name"] for g in taxonomy.groups}
    for g in taxonomy.groups:
        for c in taxonomy.categories:
            if c.group != g["id"]:
                continue
            ptc = ", ".join(c.mappings.get("ptc", [])) or "-"
            lines.append(
                f"| {_md_cell(gnames[c.group])} | `{c.id}` | {_md_cell(c.name)} | {c.level} | "
                f"{c.hotkey or '-'} | {_md_cell(ptc)} | {_md_cell(c.description)} |"
            )
    head = (f"Taxonomy `{taxonomy.id}` version {taxonomy.version}: {counted(len(taxonomy.categories), 'category', 'categories')} "
            f"in {counted(len(taxonomy.groups), 'group')}.")
    return head + "\n\n" + "\n".join(lines) + "\n"
