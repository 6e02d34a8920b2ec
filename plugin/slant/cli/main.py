"""Command line: thin commands over the library functions.

`build_parser` assembles one module per command group (slant.cli.taxonomy, agreement,
measure, studio, model, serve, models); `main` runs the command and turns a `SlantError` into
one message on standard error and exit status 1. Shared options, the environment and
output checks live in slant.cli.common.
"""

import argparse
import sys

from slant._version import __version__
from slant.cli.agreement import add_agreement
from slant.cli.measure import add_measure
from slant.cli.model import add_model
from slant.cli.models import add_models
from slant.cli.serve import add_serve
from slant.cli.studio import add_import, add_pull, add_studio
from slant.cli.taxonomy import add_taxonomy
from slant.errors import SlantError

__all__ = ["main", "build_parser"]


def build_parser():
    parser = argparse.ArgumentParser(prog="slant", description="Bias-and-rhetoric analysis for Label Studio.")
    parser.add_argument("--version", action="version", version=f"slant {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_taxonomy(sub)
    add_agreement(sub)
    add_measure(sub)
    add_pull(sub)
    add_import(sub)
    add_studio(sub)
    add_model(sub)
    add_serve(sub)
    add_models(sub)
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
