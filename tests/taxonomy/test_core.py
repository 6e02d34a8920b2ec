"""Taxonomies (slant.taxonomy.core): loading, validation with paths and fixes, migrations, hash."""

import copy
import json
import re

import pytest

from slant._files import default_taxonomy_path
from slant.cli.main import main
from slant.errors import TaxonomyError
from slant.taxonomy.core import load_taxonomy, taxonomy_from_data

REQUIRED_IDS = [
    "loaded_language", "name_calling", "exaggeration", "attribution_named", "attribution_vague",
    "unattributed_claim", "omission", "epistemic_framing", "scare_quotes", "appeal_to_fear",
    "appeal_to_authority", "doubt",
]
PTC = {
    "loaded_language": "Loaded_Language", "name_calling": "Name_Calling,Labeling",
    "exaggeration": "Exaggeration,Minimisation", "doubt": "Doubt",
    "appeal_to_fear": "Appeal_to_fear-prejudice", "appeal_to_authority": "Appeal_to_Authority",
}


@pytest.fixture
def default_data():
    return json.loads(default_taxonomy_path().read_text(encoding="utf-8"))


def _write(tmp_path, data, name="tax.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_default_taxonomy_is_valid_and_complete():
    tax = load_taxonomy()
    assert set(REQUIRED_IDS) <= set(tax.ids)
    assert len(tax.categories) >= 12 and len(tax.groups) >= 4
    for c in tax.categories:
        assert len(c.positive) >= 2 and len(c.negative) >= 1, c.id
        if c.id in PTC:
            assert PTC[c.id] in c.mappings["ptc"]


def test_check_command_accepts_default(capsys):
    assert main(["taxonomy", "check", str(default_taxonomy_path())]) == 0
    assert "ok, taxonomy rhetoric" in capsys.readouterr().out


def _mutate(data, fn):
    data = copy.deepcopy(data)
    fn(data)
    return data


BROKEN = [
    ("missing-field", lambda d: d["categories"][0].pop("description"), r"categories\[0\]: 'description' is a required property; add the missing field"),
    ("wrong-type", lambda d: d["categories"][1].__setitem__("examples", "none"), r"categories\[1\]\.examples: 'none' is not of type 'object'"),
    ("bad-id", lambda d: d["categories"][3].__setitem__("id", "Loaded Language"), r"categories\[3\]\.id: 'Loaded Language' must be snake_case, e\.g\. 'loaded_language'"),
    ("duplicate-id", lambda d: d["categories"][2].__setitem__("id", "loaded_language"), r"categories\[2\]\.id: duplicate id 'loaded_language' \(also categories\[0\]\); rename one"),
    ("duplicate-hotkey", lambda d: d["categories"][4].__setitem__("hotkey", "l"), r"categories\[4\]\.hotkey: duplicate hotkey 'l' \(also categories\[0\]\)"),
    ("unknown-group", lambda d: d["categories"][5].__setitem__("group", "tone"), r"categories\[5\]\.group: unknown group 'tone'; use one of"),
    ("bad-level", lambda d: d["categories"][0].__setitem__("level", "paragraph"), r"categories\[0\]\.level: 'paragraph' is not one of .*; use one of the allowed values"),
    ("bad-version", lambda d: d.__setitem__("version", "v1"), r"version: 'v1' must be a semantic version such as '1\.0\.0'"),
    ("migration-unknown-target", lambda d: d.__setitem__("migrations", [{"from_version": "0.9.0", "op": "rename", "from": "slur", "to": "slurs"}]), r"migrations\[0\]\.to: 'slurs' is not a category of this version"),
    ("migration-version-not-older", lambda d: d.__setitem__("migrations", [{"from_version": "1.0.0", "op": "rename", "from": "slur", "to": "name_calling"}]), r"migrations\[0\]\.from_version: 1\.0\.0 is not older than the taxonomy version 1\.0\.0; raise 'version'"),
    ("migration-bad-op", lambda d: d.__setitem__("migrations", [{"from_version": "0.9.0", "op": "delete", "from": "slur"}]), r"migrations\[0\]\.op: 'delete' is not one of"),
    ("unknown-field", lambda d: d["categories"][0].__setitem__("colour", "#ffffff"), r"categories\[0\]: Additional properties are not allowed \('colour' was unexpected\)"),
    ("control-in-name", lambda d: d["categories"][0].__setitem__("name", "Loaded\x07language"), r"categories\[0\]\.name: 'Loaded\\x07language' holds the control character U\+0007.*remove it"),
    ("newline-in-name", lambda d: d["categories"][0].__setitem__("name", "Loaded language\n"), r"categories\[0\]\.name: .* holds the control character U\+000A"),
    ("control-in-group", lambda d: d["groups"][0].__setitem__("name", "Tone\x1b[31m"), r"groups\[0\]\.name: .* holds the control character U\+001B"),
    ("control-in-description", lambda d: d["categories"][1].__setitem__("description", "Emotive words\x00 chosen to sway."), r"categories\[1\]\.description: .* holds the control character U\+0000"),
    ("surrogate-in-example", lambda d: d["categories"][1]["examples"]["positive"].append("bad \ud800"), r"categories\[1\]\.examples\.positive\[\d+\]: .* holds the control character U\+D800"),
    ("dollar-name", lambda d: d["categories"][0].__setitem__("name", "$text"), r"categories\[0\]\.name: '\$text' starts with '\$'"),
]


@pytest.mark.parametrize("mutate,message", [(m, msg) for _, m, msg in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_taxonomy_is_reported_with_path_and_fix(tmp_path, capsys, default_data, mutate, message):
    path = _write(tmp_path, _mutate(default_data, mutate))
    assert main(["taxonomy", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert "Traceback" not in err


FILE_CASES = [
    ("non-json", b'{"id": "x",, }', r"not valid JSON at line 1 column 12 .*; fix the syntax"),
    ("empty", b"", r"the file is empty; it must hold a JSON object"),
    ("whitespace-only", b"  \n\n", r"the file is empty"),
    ("latin-1", '{"id": "caf\u00e9"}'.encode("latin-1"), r"not UTF-8 \(byte 11\); re-save it as UTF-8"),
    ("not-an-object", b"[1, 2]", r"must be a JSON object, not list"),
]


@pytest.mark.parametrize("content,message", [(c, m) for _, c, m in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_unreadable_taxonomy_files(tmp_path, capsys, content, message):
    path = tmp_path / "tax.json"
    path.write_bytes(content)
    assert main(["taxonomy", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert str(path) in err


def test_missing_file(tmp_path, capsys):
    assert main(["taxonomy", "check", str(tmp_path / "nope.json")]) == 1
    assert "no such file; check the path" in capsys.readouterr().err


def test_all_problems_are_listed_at_once(tmp_path, default_data):
    def several(d):
        d["categories"][0]["id"] = "Bad Id"
        d["categories"][1]["hotkey"] = "l"
        d["categories"][2]["group"] = "nowhere"
        d["version"] = "1"

    with pytest.raises(TaxonomyError, match=r"4 problems") as info:
        load_taxonomy(_write(tmp_path, _mutate(default_data, several)))
    paths = {p.path for p in info.value.problems}
    assert paths == {"categories[0].id", "categories[2].group", "version", "categories[1].hotkey"}


def test_migrations_map_old_labels(tmp_path, default_data):
    def migrate(d):
        d["version"] = "1.1.0"
        d["migrations"] = [
            {"from_version": "1.0.0", "op": "rename", "from": "labelling", "to": "name_calling"},
            {"from_version": "1.0.0", "op": "merge", "from": ["hype", "overstatement"], "to": "exaggeration"},
            {"from_version": "1.0.0", "op": "retire", "from": "sarcasm"},
        ]

    tax = load_taxonomy(_write(tmp_path, _mutate(default_data, migrate)))
    labels, unknown = tax.migrate_labels(["labelling", "hype", "sarcasm", "loaded_language", "mystery"])
    assert labels == ["loaded_language", "name_calling", "exaggeration"]
    assert unknown == ["mystery"]


def test_hash_ignores_wording_but_not_ids(tmp_path, default_data):
    base = load_taxonomy().hash
    reworded = load_taxonomy(_write(tmp_path, _mutate(default_data, lambda d: d["categories"][0].update(description="Other words for annotators."))))
    renamed = load_taxonomy(_write(tmp_path, _mutate(default_data, lambda d: d["categories"][0].update(id="charged_language")), "b.json"))
    assert reworded.hash == base
    assert renamed.hash != base


def test_taxonomy_from_data_round_trips_raw_and_lists_every_problem(default_data):
    tax = load_taxonomy()
    again = taxonomy_from_data(tax.raw, "again")
    assert again.ids == tax.ids and again.hash == tax.hash and again.source == "again"
    broken = copy.deepcopy(default_data)
    broken["categories"][1]["id"] = broken["categories"][0]["id"]
    broken["version"] = "one"
    with pytest.raises(TaxonomyError, match=r"taxonomy <memory>: 2 problems") as info:
        taxonomy_from_data(broken)
    assert {p.path for p in info.value.problems} == {"categories[1].id", "version"}


def test_package_api():
    import slant.taxonomy as api

    assert sorted(api.__all__) == ["Taxonomy", "check_taxonomy", "load_taxonomy", "render_config", "render_docs", "taxonomy_from_data"]
    assert api.load_taxonomy is load_taxonomy and api.check_taxonomy({}) != []


def test_config_refuses_a_control_character_and_writes_nothing(tmp_path, capsys, default_data):
    path = _write(tmp_path, _mutate(default_data, lambda d: d["categories"][0].__setitem__("name", "Loaded\x0blanguage")))
    out = tmp_path / "config.xml"
    assert main(["taxonomy", "config", str(path), "-o", str(out)]) == 1
    assert "U+000B" in capsys.readouterr().err
    assert not out.exists()
