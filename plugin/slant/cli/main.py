"""Command line: thin commands over the library functions.

`build_parser` assembles one module per command group (slant.cli.taxonomy, agreement,
measure, studio, model, serve, models, team); `main` runs the command and turns a `SlantError` into
one message on standard error and exit status 1. Shared options, the environment and
output checks live in slant.cli.common.
"""

import argparse
import difflib
import sys

from slant._version import __version__
from slant.cli.agreement import add_agreement
from slant.cli.measure import add_measure
from slant.cli.model import add_model
from slant.cli.models import add_models
from slant.cli.serve import add_serve
from slant.cli.studio import add_import, add_pull, add_studio
from slant.cli.taxonomy import add_taxonomy
from slant.cli.team import add_adjudicate, add_team
from slant.errors import SlantError

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistyped command gets the closest one suggested (difflib) instead of
    "invalid choice" and a list of every command. Sub-parsers inherit the class."""

    def _check_value(self, action, value):
        # A sub-command action's choices map names to parsers; options with choices keep argparse's message.
        if isinstance(action.choices, dict) and value not in action.choices:
            close = difflib.get_close_matches(value, list(action.choices), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"the commands are {', '.join(action.choices)}"
            self.error(f"unknown command {value!r}; {hint} (see `{self.prog} --help`)")
        super()._check_value(action, value)


def build_parser():
    parser = _Parser(prog="slant", description="Bias-and-rhetoric analysis for Label Studio.")
    parser.add_argument("--version", action="version", version=f"slant {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_taxonomy(sub)
    add_agreement(sub)
    add_measure(sub)
    add_pull(sub)
    add_import(sub)
    add_studio(sub)
    add_model(sub)
    add_serve(sub)
    add_models(sub)
    add_team(sub)
    add_adjudicate(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        # Bare `slant`: the short help (the commands, one line each) rather than argparse's
        # "the following arguments are required". Exit 2 as for any other usage error, so a
        # script that calls slant without a command still fails.
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except SlantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
