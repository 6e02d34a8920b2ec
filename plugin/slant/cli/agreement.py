"""`slant agreement`: inter-annotator agreement of a reviewed-label file or a Label Studio project."""

import sys

from slant.cli.common import (
    add_output_option,
    add_studio_target_options,
    add_taxonomy_option,
    check_output,
    check_output_dir,
    studio_target,
    write_out,
)
from slant.errors import SlantError

__all__ = ["add_agreement"]


def _cmd_agreement(args):
    from slant.agreement.core import agreement_from_file
    from slant.agreement.report import render, save_plots

    if bool(args.file) == bool(args.project):
        raise SlantError("slant agreement: pass a reviewed-label FILE.jsonl (written by `slant pull`) "
                         "or --project NAME (a Label Studio project), not both")
    check_output(args.out)
    check_output_dir(args.plots, "--plots")
    if args.project:
        from slant.loop.pull import agreement_from_project
        from slant.studio.client import connect
        from slant.taxonomy.core import load_taxonomy

        report, _ = agreement_from_project(connect(*studio_target(args)), project=args.project,
                                           taxonomy=load_taxonomy(args.taxonomy), policy=args.policy, by=args.by,
                                           bootstrap=args.bootstrap, seed=args.seed)
    else:
        report = agreement_from_file(args.file, taxonomy=args.taxonomy, by=args.by, bootstrap=args.bootstrap,
                                     seed=args.seed)
    color = args.format == "table" and args.out in (None, "-") and sys.stdout.isatty()
    write_out(render(report, args.format, color=color), args.out)
    for path in save_plots(report, args.plots) if args.plots else ():
        print(f"wrote {path}", file=sys.stderr)
    return 0


def add_agreement(sub):
    p = sub.add_parser("agreement", help="inter-annotator agreement of reviewed labels (docs/agreement.md)")
    p.add_argument("file", nargs="?", help="reviewed-label records (.jsonl) from `slant pull`")
    p.add_argument("--format", choices=["table", "json", "csv", "md", "html"], default="table")
    add_output_option(p, "write the report here instead of standard output")
    p.add_argument("--plots", metavar="DIR", help="also write alpha.png and kappa.png into DIR")
    p.add_argument("--by", metavar="FIELD", help="repeat the per-category table for each value of a task-data field")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap replicates (0: no intervals)")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    add_taxonomy_option(p, "taxonomy the labels come from (default: built-in)")
    p.add_argument("--project", metavar="NAME", help="pull this Label Studio project (title or id) instead of reading FILE")
    p.add_argument("--policy", choices=["majority", "unanimous", "ground-truth", "any"], default="majority",
                   help="with --project: how the adjudicated labels (model comparison) are decided")
    add_studio_target_options(p)
    p.set_defaults(func=_cmd_agreement)
