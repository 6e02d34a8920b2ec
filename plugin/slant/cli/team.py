"""Coding-team commands: `slant team add|list|invite` and `slant adjudicate` (docs/team.md)."""

from slant._files import config_dir
from slant.cli.common import add_studio_target_options, add_taxonomy_option, studio_target

__all__ = ["add_adjudicate", "add_team"]


def _connect(args):
    from slant.studio.client import connect

    return connect(*studio_target(args))


def _cmd_team_add(args):
    from slant.loop.team import add_members, team_file

    studio = _connect(args)
    result = add_members(studio, args.emails, store=team_file(config_dir(), studio.url), project=args.project)
    print(result.format())
    return 0


def _cmd_team_list(args):
    from slant.loop.team import read_team_file, team_file
    from slant.studio.team import list_members

    studio = _connect(args)
    mine = read_team_file(team_file(config_dir(), studio.url))
    members = list_members(studio)
    print(f"{len(members)} members of the organisation at {studio.url}:")
    for m in members:
        made = " (made by slant team add; login in the team file)" if m.email.lower() in mine else ""
        print(f"  {m.id:>5}  {m.email}{made}")
    return 0


def _cmd_team_invite(args):
    from slant.studio.team import invite_link

    # The link is a standing sign-up key for the organisation: shown only when asked for.
    print(invite_link(_connect(args)))
    return 0


def add_team(sub):
    p = sub.add_parser("team", help="annotator accounts on a Label Studio server (docs/team.md)")
    tsub = p.add_subparsers(dest="team_command", required=True)
    a = tsub.add_parser("add", help="create coder accounts (password and token kept in a 0600 file, never printed)")
    a.add_argument("emails", nargs="+", metavar="EMAIL", help="the coders' email addresses (their logins)")
    a.add_argument("--project", metavar="NAME", help="the project they will code (checked; its address is printed)")
    add_studio_target_options(a)
    a.set_defaults(func=_cmd_team_add)
    lst = tsub.add_parser("list", help="list the organisation's members")
    add_studio_target_options(lst)
    lst.set_defaults(func=_cmd_team_list)
    inv = tsub.add_parser("invite", help="print the organisation's sign-up link (coders choose their own password)")
    add_studio_target_options(inv)
    inv.set_defaults(func=_cmd_team_invite)


def _cmd_adjudicate(args):
    from slant.loop.adjudicate import open_adjudication
    from slant.taxonomy.core import load_taxonomy

    summary = open_adjudication(_connect(args), project=args.project, taxonomy=load_taxonomy(args.taxonomy),
                                adjudicator=args.adjudicator)
    print(summary.format())
    return 0


def add_adjudicate(sub):
    p = sub.add_parser("adjudicate", help="open the tasks whose coders disagree for an adjudicator")
    p.add_argument("--project", required=True, metavar="NAME", help="project title or id")
    p.add_argument("--adjudicator", metavar="EMAIL",
                   help="whose annotation settles a disagreement (default: the API token's user)")
    add_taxonomy_option(p)
    add_studio_target_options(p)
    p.set_defaults(func=_cmd_adjudicate)
