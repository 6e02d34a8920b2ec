"""The labeling config and the docs table rendered from a taxonomy (slant.taxonomy.config)."""

import copy
import json
from pathlib import Path

import pytest
from label_studio_sdk.label_interface import LabelInterface

from slant._files import default_taxonomy_path
from slant.cli.main import main
from slant.taxonomy.config import PALETTE, render_config, render_docs
from slant.taxonomy.core import CHOICES_NAME, NOTE_NAME, SPANS_NAME, TEXT_NAME, load_taxonomy


@pytest.fixture
def default_data():
    return json.loads(default_taxonomy_path().read_text(encoding="utf-8"))


def _write(tmp_path, data, name="tax.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _mutate(data, fn):
    data = copy.deepcopy(data)
    fn(data)
    return data


def test_config_is_accepted_by_label_interface_with_every_category():
    tax = load_taxonomy()
    li = LabelInterface(render_config(tax))
    choices = li.get_control(CHOICES_NAME)
    spans = li.get_control(SPANS_NAME)
    assert set(choices.labels) == {c.name for c in tax.categories if c.sentence_level}
    assert set(spans.labels) == {c.name for c in tax.categories if c.span_level}
    assert {c.name for c in tax.categories} == set(choices.labels) | set(spans.labels)
    prediction = {
        "model_version": "test",
        "result": [
            {"from_name": CHOICES_NAME, "to_name": TEXT_NAME, "type": "choices",
             "value": {"choices": ["Loaded language", "Attribution to a vague source"]}},
            {"from_name": SPANS_NAME, "to_name": TEXT_NAME, "type": "labels",
             "value": {"start": 4, "end": 11, "text": "slashed", "labels": ["Loaded language"]}},
        ],
    }
    assert li.validate_prediction(prediction)
    bad = copy.deepcopy(prediction)
    bad["result"][0]["value"]["choices"] = ["loaded_language"]
    assert not li.validate_prediction(bad)


def test_config_escapes_hostile_names(tmp_path, default_data):
    name = '<b>"Us" & them</b>'
    hint = "Mark <script>alert('x')</script> & friends"
    path = _write(tmp_path, _mutate(default_data, lambda d: d["categories"][0].update(name=name, description=hint)))
    xml = render_config(load_taxonomy(path))
    assert "<b>" not in xml and "<script>" not in xml
    li = LabelInterface(xml)
    assert name in li.get_control(CHOICES_NAME).labels
    assert name in li.get_control(SPANS_NAME).labels


def test_config_command_writes_file(tmp_path):
    out = tmp_path / "config.xml"
    assert main(["taxonomy", "config", str(default_taxonomy_path()), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<View>")


def test_docs_table_lists_every_category():
    tax = load_taxonomy()
    md = render_docs(tax)
    for c in tax.categories:
        assert f"`{c.id}`" in md


def test_docs_taxonomy_md_is_current():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "taxonomy.md").read_text(encoding="utf-8")
    table = doc.split("<!-- BEGIN GENERATED TABLE -->\n", 1)[1].split("<!-- END GENERATED TABLE -->", 1)[0]
    assert table == render_docs(load_taxonomy()), "regenerate with: slant taxonomy docs labels/rhetoric.json"


def test_config_order_palette_and_note():
    tax = load_taxonomy()
    xml = render_config(tax)
    assert xml.index(f'name="{SPANS_NAME}"') < xml.index(f'name="{TEXT_NAME}"') < xml.index(f'name="{CHOICES_NAME}"')
    assert f'name="{NOTE_NAME}"' in xml and "$context_before" in xml and "$context_after" in xml
    span_cats = [c for c in tax.categories if c.span_level]
    for i, c in enumerate(span_cats):
        assert f'background="{c.color or PALETTE[i % len(PALETTE)]}"' in xml


def test_docs_cells_escape_pipes_and_newlines(tmp_path, default_data):
    data = _mutate(default_data, lambda d: d["categories"][0].update(description="Either this | or that,\non two lines."))
    md = render_docs(load_taxonomy(_write(tmp_path, data)))
    assert "Either this \\| or that, on two lines." in md
    assert md.startswith(f"Taxonomy `{data['id']}` version {data['version']}: {len(data['categories'])} categories")


def test_the_regions_list_shows_whole_region_texts():
    # Label Studio cut region texts to one short line ("squande..."); the config's <Style> lets them wrap
    from xml.etree import ElementTree as ET

    from slant.taxonomy.config import REGIONS_CSS

    root = ET.fromstring(render_config(load_taxonomy()))
    style = root.find("Style")
    assert style is not None and list(root)[0] is style and style.text == REGIONS_CSS
    assert ".lsf-outliner-item__text{white-space:normal;" in REGIONS_CSS and "text-overflow:clip" in REGIONS_CSS
    assert "<" not in REGIONS_CSS and "&" not in REGIONS_CSS
    LabelInterface(render_config(load_taxonomy()))  # still a config Label Studio's own parser reads
