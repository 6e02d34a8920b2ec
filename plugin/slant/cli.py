"""Command line: thin commands over the library functions.

Environment variables are read here and nowhere else in the library.
"""

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .errors import SlantError

__all__ = ["main", "build_parser"]


def _write_out(text, out):
    if out in (None, "-"):
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)


# --- taxonomy -------------------------------------------------------------------------

def _cmd_taxonomy_check(args):
    from .taxonomy import load_taxonomy

    tax = load_taxonomy(args.file)
    print(f"{args.file or tax.source}: ok, taxonomy {tax.id} {tax.version}, {len(tax.categories)} categories in {len(tax.groups)} groups")
    return 0


def _cmd_taxonomy_config(args):
    from .taxonomy import load_taxonomy, render_config

    _write_out(render_config(load_taxonomy(args.file)), args.out)
    return 0


def _cmd_taxonomy_docs(args):
    from .taxonomy import load_taxonomy, render_docs

    _write_out(render_docs(load_taxonomy(args.file)), args.out)
    return 0


def _add_taxonomy(sub):
    p = sub.add_parser("taxonomy", help="check and render taxonomies")
    tsub = p.add_subparsers(dest="taxonomy_command", required=True)
    c = tsub.add_parser("check", help="validate a taxonomy file; lists every problem")
    c.add_argument("file", nargs="?", help="taxonomy JSON (default: the bundled labels/rhetoric.json)")
    c.set_defaults(func=_cmd_taxonomy_check)
    c = tsub.add_parser("config", help="print the Label Studio labeling config (XML)")
    c.add_argument("file")
    c.add_argument("-o", "--out")
    c.set_defaults(func=_cmd_taxonomy_config)
    c = tsub.add_parser("docs", help="print a Markdown table of the categories")
    c.add_argument("file")
    c.add_argument("-o", "--out")
    c.set_defaults(func=_cmd_taxonomy_docs)


# --- parser ---------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(prog="slant", description="Bias-and-rhetoric analysis for Label Studio.")
    parser.add_argument("--version", action="version", version=f"slant {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_taxonomy(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except SlantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
