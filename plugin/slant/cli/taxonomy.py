"""`slant taxonomy check|config|docs`."""

from slant._words import counted
from slant.cli.common import add_output_option, check_output, write_out

__all__ = ["add_taxonomy"]


def _cmd_check(args):
    from slant.taxonomy.core import load_taxonomy

    tax = load_taxonomy(args.file)
    print(f"{args.file or tax.source}: ok, taxonomy {tax.id} {tax.version}, {counted(len(tax.categories), 'category', 'categories')} "
          f"in {counted(len(tax.groups), 'group')}")
    return 0


def _cmd_config(args):
    from slant.taxonomy import load_taxonomy, render_config

    check_output(args.out)
    write_out(render_config(load_taxonomy(args.file)), args.out)
    return 0


def _cmd_docs(args):
    from slant.taxonomy import load_taxonomy, render_docs

    check_output(args.out)
    write_out(render_docs(load_taxonomy(args.file)), args.out)
    return 0


def add_taxonomy(sub):
    p = sub.add_parser("taxonomy", help="check and render taxonomies")
    tsub = p.add_subparsers(dest="taxonomy_command", required=True)
    c = tsub.add_parser("check", help="validate a taxonomy file; lists every problem")
    c.add_argument("file", nargs="?", help="taxonomy JSON (default: the bundled labels/rhetoric.json)")
    c.set_defaults(func=_cmd_check)
    c = tsub.add_parser("config", help="print the Label Studio labeling config (XML)")
    c.add_argument("file")
    add_output_option(c)
    c.set_defaults(func=_cmd_config)
    c = tsub.add_parser("docs", help="print a Markdown table of the categories")
    c.add_argument("file")
    add_output_option(c)
    c.set_defaults(func=_cmd_docs)
