"""cli.models: `slant models list|show|promote|rollback` on a registry filled by `slant train`
on tiny data written here: listings (table and JSON), cards, a gate that refuses a candidate
trained on wrong labels, forced promotion, rollback to the previous version, and the errors."""

import json
from pathlib import Path

import pytest

from slant.cli.main import main
from slant.loop.registry import STATE_FILE
from slant.loop.train import heldout_documents

IDS = ["loaded_language", "attribution_vague"]
TOPICS = ["library", "transit", "water", "school", "park", "housing", "road", "clinic", "port", "museum"]


def _records(invert_training=False):
    """Ten documents of four sentences; with `invert_training` the documents the gate does
    not hold out get their labels swapped (loaded sentences none, plain ones loaded)."""
    held = heldout_documents([f"d{d}" for d in range(len(TOPICS))], 0.2)
    out = []
    for d, topic in enumerate(TOPICS):
        rows = [(f"The council slashed the {topic} budget in a shameful late-night vote.", ["loaded_language"]),
                (f"Critics say the {topic} plan will fail within a year.", ["attribution_vague"]),
                (f"The {topic} board met on Tuesday and approved the minutes.", []),
                (f"A public hearing on the {topic} project is scheduled for next month.", [])]
        if invert_training and f"d{d}" not in held:
            rows = [(text, [] if labels else ["loaded_language"]) for text, labels in rows]
        out += [{"id": f"d{d}-{i}", "doc_id": f"d{d}", "text": text, "labels": labels} for i, (text, labels) in enumerate(rows)]
    return out


@pytest.fixture(scope="module")
def tax(sub_taxonomy):
    return str(sub_taxonomy("climodels", IDS))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One cache for the module: the gate's current model (the seed model) is built once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path, cache):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(cache))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def registry(tmp_path):
    return str(tmp_path / "models")


@pytest.fixture
def train(capsys, tmp_path, tax, registry):
    """``train(records, name)``: `slant train` into the registry; returns the version."""
    def run(records, name="reviewed.jsonl"):
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        assert main(["train", str(path), "--base", "none", "--cv", "2", "--models", registry, "--taxonomy", tax]) == 0
        out = capsys.readouterr().out
        version = out.split()[1]
        assert version.startswith("trained-") and f"next: `slant models promote {version} --models {registry}`" in out
        return version
    return run


def _fails(capsys, argv, *needles):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("error: ") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def test_list_an_empty_registry(capsys, registry):
    assert main(["models", "list", "--models", registry]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"registry {registry}; current: the default seed model",
                                "no versions yet; train one with `slant train reviewed.jsonl`"]
    assert main(["models", "list", "--models", registry, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"registry": registry, "current": None, "versions": []}


def test_list_defaults_to_the_data_directory(capsys, tmp_path):
    assert main(["models", "list"]) == 0
    assert capsys.readouterr().out.startswith(f"registry {tmp_path / 'xdg' / 'slant' / 'models'}; ")


def test_list_and_show_a_trained_version(capsys, train, registry):
    version = train(_records())
    assert main(["models", "list", "--models", registry]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"registry {registry}; current: the default seed model"
    assert "macro F1" in lines[1] and lines[2].split()[0] == version  # no '*': not promoted
    assert main(["models", "list", "--models", registry, "--format", "json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    [info] = listing["versions"]
    assert info["version"] == version and info["current"] is False and info["base"] == "none"
    assert info["reviewed"] + info["heldout"] == 40 and info["heldout"] > 0
    for ref in (version, "latest"):
        assert main(["models", "show", ref, "--models", registry]) == 0
        card = json.loads(capsys.readouterr().out)
        assert card["model_version"] == version and card["heldout"]["sentences"] == info["heldout"]


def test_the_gate_refuses_a_candidate_trained_on_wrong_labels(capsys, train, registry, tax):
    version = train(_records(invert_training=True))
    err = _fails(capsys, ["models", "promote", version, "--models", registry, "--taxonomy", tax],
                 "the promotion gate refused the candidate", f"{version} vs current seed-", "refused: ")
    assert "FAIL" in err and "Traceback" not in err
    assert main(["models", "list", "--models", registry, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["current"] is None  # nothing changed
    assert main(["models", "promote", version, "--models", registry, "--taxonomy", tax, "--force"]) == 0
    assert f"promoted {version} (forced past the gate)" in capsys.readouterr().out
    assert main(["models", "list", "--models", registry]) == 0
    assert f"current: {version}" in capsys.readouterr().out


def test_rollback_returns_to_the_previous_promotion(capsys, train, registry, tax):
    first = train(_records())
    records = _records()
    records[0] = {**records[0], "text": "The council gutted the library budget in a disgraceful midnight vote."}
    second = train(records, name="more.jsonl")
    assert first != second
    for version in (first, second):
        assert main(["models", "promote", version, "--models", registry, "--taxonomy", tax, "--force"]) == 0
        assert f"promoted {version}" in capsys.readouterr().out
    assert main(["models", "list", "--models", registry]) == 0
    assert f"* {second}" in capsys.readouterr().out
    assert main(["models", "rollback", "--models", registry]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"rolled back; current model: {first}\n") and "slant push --refresh" in out
    assert main(["models", "rollback", "--models", registry]) == 0
    assert "current model: the default seed model" in capsys.readouterr().out
    _fails(capsys, ["models", "rollback", "--models", registry], "nothing is promoted")


def test_unknown_versions(capsys, train, registry, tax):
    version = train(_records())
    for argv in (["show", "trained-000000"], ["promote", "trained-000000", "--taxonomy", tax]):
        _fails(capsys, ["models", *argv, "--models", registry], "model version 'trained-000000' is not in the registry",
               version)


@pytest.mark.parametrize("command", [["list"], ["show", "latest"], ["promote", "latest"], ["rollback"]],
                         ids=lambda c: c[0])
def test_a_registry_path_that_is_a_file(capsys, tmp_path, command):
    afile = tmp_path / "models"
    afile.write_text("not a directory")
    _fails(capsys, ["models", *command, "--models", str(afile)], f"model registry {afile}: is a file, not a directory")
    _fails(capsys, ["models", *command, "--models", str(afile / "below")], f"{afile} is a file, not a directory")


def test_a_corrupt_registry_state(capsys, train, registry):
    train(_records())
    state = Path(registry) / STATE_FILE
    state.write_text("{not json", encoding="utf-8")
    _fails(capsys, ["models", "list", "--models", registry], f"model registry {state}: not valid JSON", "move it away")


def test_analyze_uses_the_promoted_model_unless_told_otherwise(capsys, train, registry, tax, tmp_path):
    # one rule for analyze and push: --model wins, else the promoted model, else the seed model
    article = tmp_path / "a.txt"
    article.write_text("The council slashed the budget in a shameful vote.\n", encoding="utf-8")

    def version_used(*extra):
        out = tmp_path / "p.jsonl"
        assert main(["analyze", str(article), "--format", "jsonl", "-o", str(out), "--taxonomy", tax, *extra]) == 0
        capsys.readouterr()
        return json.loads(out.read_text(encoding="utf-8").splitlines()[0])["model_version"]

    assert version_used("--models", registry).startswith("seed-")  # nothing promoted yet
    version = train(_records())
    assert main(["models", "promote", version, "--models", registry, "--taxonomy", tax, "--force"]) == 0
    capsys.readouterr()
    assert version_used("--models", registry) == version
    assert version_used("--models", registry, "--model", "latest") == version
    seed_dir = tmp_path / "seed-copy"
    assert main(["model", "build", "--taxonomy", tax, "--out", str(seed_dir)]) == 0
    capsys.readouterr()
    assert version_used("--models", registry, "--model", str(seed_dir)).startswith("seed-")


@pytest.mark.parametrize("command", ["analyze", "push"])
def test_analyze_and_push_state_the_same_model_rule(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default: the registry's promoted model (see --models), else the built-in seed model" in text
