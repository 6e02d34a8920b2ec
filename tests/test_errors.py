"""errors: one family of user-facing errors, and the CLI contract around it: a `SlantError`
becomes one "error: ..." message on stderr and exit 1; anything else is a bug and is not
hidden; Ctrl-C is exit 130."""

import pytest

import slant.cli.models
import slant.errors
from slant.cli.main import main
from slant.errors import DataError, InputError, ModelError, SlantError, StudioError, TaxonomyError

SUBCLASSES = [TaxonomyError, InputError, ModelError, StudioError, DataError]


def test_all_names_the_family():
    assert set(slant.errors.__all__) == {"SlantError", *(c.__name__ for c in SUBCLASSES)}
    assert all(hasattr(slant.errors, name) for name in slant.errors.__all__)


@pytest.mark.parametrize("cls", SUBCLASSES, ids=lambda c: c.__name__)
def test_every_error_is_a_slant_error(cls):
    assert issubclass(cls, SlantError) and issubclass(SlantError, Exception)
    with pytest.raises(SlantError, match="^fix it like so$"):
        raise cls("fix it like so")


def test_the_kinds_are_distinct():
    for a in SUBCLASSES:
        for b in SUBCLASSES:
            assert issubclass(a, b) == (a is b)


def test_taxonomy_error_keeps_its_problems():
    exc = TaxonomyError("taxonomy t.json has 2 problems", (f"problem {i}" for i in range(2)))
    assert str(exc) == "taxonomy t.json has 2 problems" and exc.problems == ["problem 0", "problem 1"]
    assert TaxonomyError("bad").problems == []
    assert TaxonomyError("bad").problems is not TaxonomyError("bad").problems  # no shared default list


def test_library_errors_are_slant_errors(tmp_path):
    from slant.records.reviewed import load_reviewed
    from slant.taxonomy.core import load_taxonomy

    with pytest.raises(InputError, match="no such file"):
        load_reviewed(tmp_path / "nope.jsonl", taxonomy=load_taxonomy())
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(DataError, match=r"bad.jsonl:1: not valid JSON"):
        load_reviewed(tmp_path / "bad.jsonl", taxonomy=load_taxonomy())
    with pytest.raises(TaxonomyError, match="no such file"):
        load_taxonomy(tmp_path / "nope.json")


def _raising(exc):
    def command(args):
        raise exc
    return command


@pytest.mark.parametrize("cls", [SlantError, *SUBCLASSES], ids=lambda c: c.__name__)
def test_main_prints_one_message_and_exits_1(capsys, monkeypatch, cls):
    monkeypatch.setattr(slant.cli.models, "_cmd_list", _raising(cls("registry r: something is off; do this")))
    assert main(["models", "list"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "error: registry r: something is off; do this\n" and captured.out == ""


def test_a_multi_line_message_is_printed_whole(capsys, monkeypatch):
    monkeypatch.setattr(slant.cli.models, "_cmd_list", _raising(ModelError("refused\ntable row 1\ntable row 2")))
    assert main(["models", "list"]) == 1
    assert capsys.readouterr().err == "error: refused\ntable row 1\ntable row 2\n"


def test_other_exceptions_are_bugs_and_propagate(monkeypatch):
    monkeypatch.setattr(slant.cli.models, "_cmd_list", _raising(ValueError("a bug")))
    with pytest.raises(ValueError, match="a bug"):
        main(["models", "list"])


def test_interrupt_is_exit_130(capsys, monkeypatch):
    monkeypatch.setattr(slant.cli.models, "_cmd_list", _raising(KeyboardInterrupt()))
    assert main(["models", "list"]) == 130
    assert capsys.readouterr().err == "interrupted\n"
