"""A coding team on Label Studio Community: annotator accounts, blind double-coding
settings, and the adjudication tab of the Data Manager.

Label Studio Community has no annotator role and no per-project membership: every member
of the organisation reaches every project. `create_account` therefore makes an
organisation member; the project only decides which label stream the coder is sent to.

>>> account = create_account(studio, "ana@example.org")      # doctest: +SKIP
>>> set_overlap(studio, project, overlap=2, share=0.25)      # doctest: +SKIP
"""

import secrets
from dataclasses import dataclass, field

import httpx

from slant.errors import StudioError

__all__ = ["ADJUDICATION_VIEW_TITLE", "Account", "Member", "create_account", "ensure_adjudication_view", "invite_link",
           "list_members", "set_overlap", "update_task_data"]

ADJUDICATION_VIEW_TITLE = "Adjudication — coders disagree"


@dataclass(frozen=True)
class Member:
    """A member of the server's organisation."""

    id: int
    email: str
    name: str = ""
    last_activity: str = ""


@dataclass(frozen=True)
class Account:
    """A freshly created login: shown to nobody, written to a 0600 file by the caller."""

    id: int
    email: str
    password: str = field(repr=False)
    api_key: str = field(default="", repr=False)


def list_members(studio):
    """Every user of the token's organisation, by id."""
    users = studio.call("list users", studio.sdk.users.list)
    return sorted((Member(id=int(u.id), email=u.email or "", name=" ".join(x for x in (u.first_name, u.last_name) if x),
                          last_activity=str(u.last_activity or "")) for u in users if u.id is not None),
                  key=lambda m: m.id)


def invite_link(studio):
    """The organisation's sign-up link (anyone holding it can join: pass it on privately)."""
    invite = studio.call("read the invite link", studio.sdk.organizations.invites.get_invite_link)
    return f"{studio.url}{invite.invite_url}"


def create_account(studio, email, *, password=None):
    """Sign `email` up through the organisation's invite link; an `Account` with a working password and token.

    Community's ``POST /api/users/`` makes users without a usable password (its serializer
    has no password field), so the only working path is the invite sign-up form, which the
    SDK does not cover: that form is posted with httpx here.
    """
    password = password or secrets.token_urlsafe(15)
    invite = studio.call("read the invite link", studio.sdk.organizations.invites.get_invite_link)
    with httpx.Client(base_url=studio.url, timeout=120, follow_redirects=False) as web:
        try:
            web.get(invite.invite_url)
            csrf = web.cookies.get("csrftoken", "")
            r = web.post(invite.invite_url, data={"email": email, "password": password, "csrfmiddlewaretoken": csrf},
                         headers={"Referer": f"{studio.url}{invite.invite_url}"})
            if r.status_code != 302:
                raise StudioError(f"Label Studio at {studio.url} did not create an account for {email!r} (HTTP "
                                  f"{r.status_code}{': ' + _form_error(r.text) if r.status_code == 200 else ''}); "
                                  "check the address, or create it by hand with the invite link "
                                  "(`slant team invite`)")
            token = web.get("/api/current-user/token")
            me = web.get("/api/current-user/whoami")
        except httpx.TransportError as exc:
            raise StudioError(f"Label Studio at {studio.url} stopped answering while creating {email!r} "
                              f"({exc.__class__.__name__}); rerun the command: existing accounts are kept") from None
    api_key = token.json().get("token", "") if token.status_code == 200 else ""  # legacy tokens may be off
    if me.status_code != 200:
        raise StudioError(f"the new account {email!r} cannot log in to {studio.url} (HTTP {me.status_code})")
    return Account(id=int(me.json()["id"]), email=email, password=password, api_key=api_key)


def _form_error(html):
    for needle in ("already exists", "too short", "too common", "entirely numeric", "Invalid email", "valid email"):
        if needle in html:
            return needle
    return "the sign-up form refused it"


def set_overlap(studio, project, *, overlap, share=1.0):
    """Blind multiple coding: `overlap` coders for a `share` of the tasks, those tasks first.

    With more than one coder per task the pre-annotations are hidden too
    (``show_collab_predictions`` off), so that no coder starts from a model that may have
    learnt another coder's answer; see docs/team.md for what Community does not enforce.
    """
    if not isinstance(overlap, int) or overlap < 1:
        raise StudioError(f"--overlap {overlap!r}: the number of coders per task must be 1 or more")
    if not 0 < share <= 1:
        raise StudioError(f"--overlap-share {share!r}: the share of tasks coded {overlap} times must be in (0, 1]")
    settings = {"maximum_annotations": overlap, "overlap_cohort_percentage": max(1, round(share * 100)),
                "show_overlap_first": overlap > 1, "show_collab_predictions": overlap == 1}
    studio.call(f"set {overlap} coders per task", studio.sdk.projects.update, id=project.id, **settings)
    return settings


def update_task_data(studio, task_id, data):
    """Replace a task's data (Label Studio keeps its annotations)."""
    studio.call(f"update task {task_id}", studio.sdk.tasks.update, id=task_id, data=data)


def ensure_adjudication_view(studio, project, flag_field, open_value):
    """The id of the Data Manager tab listing tasks whose ``data[flag_field]`` is `open_value` (created when missing)."""
    data = {"title": ADJUDICATION_VIEW_TITLE,
            "filters": {"conjunction": "and", "items": [{"filter": f"filter:tasks:data.{flag_field}",
                                                         "operator": "equal", "type": "String", "value": open_value}]}}
    for v in studio.call("list Data Manager tabs", studio.sdk.views.list, project=project.id):
        if (v.data or {}).get("title") == ADJUDICATION_VIEW_TITLE:
            return int(v.id)
    return int(studio.call("create the adjudication tab", studio.sdk.views.create, project=project.id, data=data).id)
