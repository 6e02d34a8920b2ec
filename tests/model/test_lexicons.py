"""Lexicon files: loading, format, errors."""

import pytest

from slant.errors import InputError
from slant.model.lexicons import lexicon_entries, lexicon_files, load_lexicons


def test_packaged_lexicons_load_lowercase_without_comments():
    lex = load_lexicons()
    for family in ("charged", "derogatory", "intensifiers", "reporting_verbs", "vague_sources",
                   "factive", "hedges", "fear", "authority", "doubt"):
        assert lex[family], family
        assert all(p == p.lower() and not p.startswith("#") and p.strip() == p for p in lex[family])


def test_packaged_lexicon_files_list_each_entry_once():
    """Duplicates load harmlessly but mean the file was edited carelessly."""
    for path in lexicon_files().values():
        entries = lexicon_entries(path.read_text(encoding="utf-8"))
        dupes = sorted({e for e in entries if entries.count(e) > 1})
        assert not dupes, f"{path.name}: {dupes}"


def test_lexicon_directory_errors(tmp_path):
    with pytest.raises(InputError, match=r"lexicon directory .*missing: not found; reinstall slant"):
        load_lexicons(tmp_path / "missing")
    with pytest.raises(InputError, match=r"lexicon directory .*: no \*\.txt lexicon files; add one entry per line"):
        load_lexicons(tmp_path)
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match=r"lexicon .*bad\.txt: not UTF-8 text; save it as UTF-8"):
        load_lexicons(tmp_path)


def test_lexicon_file_format(tmp_path):
    (tmp_path / "charged.txt").write_text("# comment\nSlammed  Hard # trailing\n\nscheme\nscheme\n", encoding="utf-8")
    assert load_lexicons(tmp_path) == {"charged": ("slammed hard", "scheme")}
