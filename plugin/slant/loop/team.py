"""`slant team`: annotator accounts on a Label Studio server, with their logins kept private.

Each new account gets a random password and its API token; both go to one JSON file per
server, ``~/.config/slant/team/<host>-<port>.json`` (mode 0600), and are never printed:
pass each coder their line of that file. A rerun skips the accounts that already exist
(on the server or in the file), so nothing is created twice.

>>> result = add_members(studio, ["ana@example.org"], store=team_file(config_dir, studio.url))  # doctest: +SKIP
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from slant._files import atomic_write_text
from slant.errors import InputError
from slant.studio.projects import resolve_project
from slant.studio.team import create_account, list_members

__all__ = ["TeamResult", "add_members", "read_team_file", "team_file"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def team_file(config_dir, url):
    """Where the logins for the server at `url` are kept."""
    parts = urlsplit(url)
    name = re.sub(r"[^A-Za-z0-9.-]", "_", f"{parts.hostname}-{parts.port or (443 if parts.scheme == 'https' else 80)}")
    return Path(config_dir) / "team" / f"{name}.json"


def read_team_file(path):
    """``{email: {"id", "password", "api_key", "created"}}`` from `path` (empty when absent)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a slant team file ({exc}); move it away and rerun `slant team add`") from None
    return data.get("accounts", {}) if isinstance(data, dict) else {}


def _write(path, url, accounts):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write_text(path, json.dumps({"url": url, "accounts": accounts}, indent=2), perms=0o600)


@dataclass
class TeamResult:
    created: list = field(default_factory=list)
    existing: list = field(default_factory=list)
    store: str = ""
    project_url: str = ""

    def format(self):
        lines = []
        if self.created:
            lines.append(f"created {len(self.created)} accounts: {', '.join(self.created)}")
            lines.append(f"  their passwords and API tokens are in {self.store} (readable by you only); "
                         "pass each coder their own entry privately")
        if self.existing:
            lines.append(f"already members (left as they are): {', '.join(self.existing)}")
        if self.project_url:
            lines.append(f"coders start at {self.project_url} ('Label All Tasks'); Label Studio Community "
                         "lets every member reach every project (docs/team.md)")
        return "\n".join(lines)


def add_members(studio, emails, *, store, project=None):
    """Create an account for each new address in `emails`; returns a `TeamResult`."""
    bad = [e for e in emails if not _EMAIL.match(e)]
    if bad:
        raise InputError(f"not an email address: {', '.join(repr(e) for e in bad)}; pass addresses like ana@example.org")
    proj = resolve_project(studio, project) if project else None  # a wrong name stops before any account is made
    known = {m.email.lower() for m in list_members(studio)}
    accounts = read_team_file(store)
    result = TeamResult(store=str(store), project_url=studio.project_url(proj) if proj else "")
    for email in dict.fromkeys(e.lower() for e in emails):
        if email in known:
            result.existing.append(email)
            continue
        account = create_account(studio, email)
        accounts[email] = {"id": account.id, "password": account.password, "api_key": account.api_key,
                           "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        _write(store, studio.url, accounts)  # after each one: an interrupted run loses no login
        result.created.append(email)
    return result
