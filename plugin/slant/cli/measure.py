"""`slant measure`: corpus-level rates with prediction-powered intervals (docs/measure.md)."""

import sys

from slant.cli.common import add_output_option, add_taxonomy_option, check_output, write_out
from slant.errors import InputError

__all__ = ["add_measure"]


def _by(value):
    return [f.strip() for f in value.split(",") if f.strip()] if value else []


def _cmd_measure(args):
    from slant.measure.report import render

    if not args.audit:
        raise InputError("slant measure: pass --audit REVIEWED.jsonl (the audit sample pulled with `slant pull`); "
                         "see docs/measure.md")
    check_output(args.out)
    by = _by(args.by)
    if args.plan:
        from slant.measure.corpus import read_corpus
        from slant.measure.data import read_audit
        from slant.measure.plan import plan, render_plan

        if args.width is None:
            raise InputError("slant measure --plan: pass --width W, the full width of the interval you want "
                             "(a share, e.g. 0.04 for plus or minus 2 points)")
        corpus = read_corpus(args.predictions, by=by, period=args.period)
        sample = read_audit(args.audit, corpus, every_record=True)
        result = plan(corpus, sample, width=args.width, confidence=args.confidence, categories=args.category,
                      by=by)
        write_out(render_plan(result, "json" if args.format == "json" else "md"), args.out)
        return 0
    from slant.measure.core import measure_files

    report = measure_files(args.predictions, args.audit, by=by, categories=args.category, confidence=args.confidence,
                           period=args.period, assume_uniform=args.assume_uniform, taxonomy=args.taxonomy)
    write_out(render(report, args.format), args.out)
    for note in report["notes"]:
        print(f"note: {note}", file=sys.stderr)
    small = sum(1 for r in report["estimates"] if r["method"] == "ppi" and r.get("warning"))
    if small:
        print(f"note: {small} rows carry a warning (too few audited sentences, or none with the category); "
              "they are marked in the report", file=sys.stderr)
    return 0


def add_measure(sub):
    p = sub.add_parser("measure", help="corpus-level rates per group with prediction-powered intervals "
                                       "(docs/measure.md)")
    p.add_argument("predictions", metavar="PREDICTIONS",
                   help="the Parquet directory from `slant analyze --out`, or a JSONL of prediction records")
    p.add_argument("--audit", metavar="REVIEWED.jsonl", help="the audit sample's reviewed records (`slant pull`)")
    p.add_argument("--by", metavar="FIELD[,FIELD]", help="group by these metadata fields (dates by month or week)")
    p.add_argument("--category", action="append", metavar="ID", help="only this category (repeatable)")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level of the intervals (default 0.95)")
    p.add_argument("--period", choices=["month", "week"], default="month", help="bucket for date fields")
    p.add_argument("--assume-uniform", action="store_true",
                   help="treat reviewed records without an inclusion probability as a uniform random sample")
    p.add_argument("--format", choices=["json", "csv", "md", "html"], default="md")
    add_output_option(p, "write the report here instead of standard output")
    add_taxonomy_option(p, "taxonomy for the coders' agreement in the methods paragraph (default: built-in)")
    p.add_argument("--plan", action="store_true",
                   help="instead of measuring: how many audit sentences an interval of --width needs")
    p.add_argument("--width", type=float, metavar="W", help="with --plan: full interval width wanted, e.g. 0.04")
    p.set_defaults(func=_cmd_measure)
