"""cli.main: the parser knows every command, and a `SlantError` is one line and exit 1."""

import pytest

from slant.cli.main import build_parser, main

COMMANDS = {"taxonomy", "agreement", "pull", "import", "studio", "push", "demo", "model", "analyze", "train", "evaluate",
            "serve", "models", "team", "adjudicate", "measure"}


def test_every_command_is_registered():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == COMMANDS


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("slant ")


@pytest.mark.parametrize("argv, message", [
    (["push", "--project", "p"], "slant push: pass one or more FILEs to push, --from DIR"),
    (["push", "f.txt", "--project", "p", "--overlap-share", "0.5"], "--overlap-share goes with --overlap K"),
    (["push", "f.txt", "--project", "p", "--overlap", "0"], "--overlap 0: the number of coders per task must be 1 or more"),
    (["push", "f.txt", "--project", "p", "--overlap", "2", "--overlap-share", "1.5"], "--overlap-share 1.5: a share of the tasks, in (0, 1]"),
    (["studio", "--database", "sqlite", "--database-url", "postgresql://u@h/db"], "--database-url names a PostgreSQL server"),
    (["push", "f.txt", "--project", "p", "--refresh"], "--refresh adds predictions"),
    (["push", "--project", "p", "--refresh", "--select", "3"], "--refresh and --select do different things"),
    (["push", "f.txt", "--project", "p", "--strategy", "margin"], "--strategy goes with --select N"),
    (["agreement"], "pass a reviewed-label FILE.jsonl"),
    (["train", "d.jsonl", "--plot", "x.png"], "--plot OUT.png goes with --curve"),
    (["train", "d.jsonl", "--curve", "--out", "d"], "--curve trains throw-away models and writes none"),
    (["train", "d.jsonl", "--encoder-epochs", "2"], "--encoder-epochs goes with --encoder minilm"),
    (["taxonomy", "check", "/no/such/taxonomy.json"], "taxonomy"),
], ids=["push-nothing", "share-alone", "overlap-0", "share-1.5", "sqlite-url", "refresh-files", "refresh-select", "strategy", "agreement-nothing", "plot", "curve-out",
        "encoder-epochs", "missing-taxonomy"])
def test_slant_errors_are_one_message_and_exit_1(capsys, argv, message):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_bad_usage_is_argparse_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["analyze"])
    assert exc.value.code == 2 and "the following arguments are required: INPUT" in capsys.readouterr().err


def test_help_imports_no_heavy_library():
    """Start-up: `slant --help` (and building the parser for any command) imports neither
    numpy, scikit-learn, scipy nor jsonschema; commands import what they use when they run."""
    import subprocess
    import sys

    code = ("import sys, contextlib, io\n"
            "from slant.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            "        main(['--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print(sorted(m for m in ('numpy', 'sklearn', 'scipy', 'jsonschema', 'label_studio_sdk', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
@pytest.mark.parametrize("argv, prog, typo, suggestion", [
    (["anlyze", "a.txt"], "slant", "anlyze", "'analyze'"),
    (["analyse", "a.txt"], "slant", "analyse", "'analyze'"),
    (["models", "promte", "v1"], "slant models", "promte", "'promote'"),
    (["taxonomy", "chek"], "slant taxonomy", "chek", "'check'"),
], ids=["typo", "british", "models-sub", "taxonomy-sub"])
def test_a_mistyped_command_gets_the_closest_one(capsys, argv, prog, typo, suggestion):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert f"{prog}: error: unknown command {typo!r}; did you mean {suggestion}?" in err
    assert "invalid choice" not in err


def test_an_unknown_command_with_nothing_close_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["zzzz"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "unknown command 'zzzz'; the commands are taxonomy, agreement" in err


def test_a_bad_option_choice_keeps_argparse_message(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "--format", "tabel", "a.txt"])
    assert "invalid choice: 'tabel'" in capsys.readouterr().err


def test_bare_slant_prints_the_short_help_and_exits_2(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: slant") and "analyze" in err and "label the sentences of documents" in err
    assert "the following arguments are required" not in err
