"""cli.taxonomy: `slant taxonomy check|config|docs`."""

import json

from slant._files import default_taxonomy_path
from slant.cli.main import main


def test_check_the_bundled_taxonomy(capsys):
    assert main(["taxonomy", "check"]) == 0
    out = capsys.readouterr().out
    assert ": ok, taxonomy " in out and " categories in " in out


def test_check_lists_every_problem(tmp_path, capsys):
    data = json.loads(default_taxonomy_path().read_text(encoding="utf-8"))
    data["categories"][0]["group"] = "no-such-group"
    data["categories"][1]["id"] = data["categories"][2]["id"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["taxonomy", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no-such-group" in err and "Traceback" not in err


def test_config_to_standard_output_and_to_a_file(tmp_path, capsys):
    assert main(["taxonomy", "config", str(default_taxonomy_path())]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("<View") and 'name="categories"' in printed
    out = tmp_path / "config.xml"
    assert main(["taxonomy", "config", str(default_taxonomy_path()), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").strip() == printed.strip()


def test_docs_is_a_markdown_table(capsys):
    assert main(["taxonomy", "docs", str(default_taxonomy_path())]) == 0
    assert "|" in capsys.readouterr().out
