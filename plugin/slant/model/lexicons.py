"""Lexicons: the word lists of the cue families (``labels/lexicons/*.txt``, one entry per
line, ``#`` comments), read into ``{family: (phrase, ...)}`` for `slant.model.cues.CueMatcher`."""

from slant._files import labels_dir
from slant.errors import InputError

__all__ = ["lexicon_entries", "lexicon_files", "load_lexicons"]


def lexicon_files(directory=None):
    """The lexicon files, ``{family: path}``; the packaged ``labels/lexicons`` by default."""
    root = labels_dir() / "lexicons" if directory is None else directory
    try:
        files = {p.name[:-4]: p for p in root.iterdir() if p.name.endswith(".txt")}
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"lexicon directory {root}: not found; reinstall slant or pass a directory of *.txt lexicons") from None
    if not files:
        raise InputError(f"lexicon directory {root}: no *.txt lexicon files; add one entry per line")
    return dict(sorted(files.items()))


def load_lexicons(directory=None):
    """Read the lexicons: ``{family: (phrase, ...)}``, lowercase, comments dropped.

    One entry per line; ``#`` starts a comment; blank lines are ignored.
    """
    out = {}
    for family, path in lexicon_files(directory).items():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"lexicon {path}: not UTF-8 text; save it as UTF-8") from None
        out[family] = tuple(dict.fromkeys(lexicon_entries(text)))
    return out


def lexicon_entries(text):
    """The entries of one lexicon file's `text`, in order, repeats kept: comments dropped,
    whitespace collapsed, lowercase, curly apostrophes straightened."""
    entries = []
    for line in text.splitlines():
        line = " ".join(line.split("#", 1)[0].split()).lower().replace("\u2019", "'")
        if line:
            entries.append(line)
    return entries
