"""The connection to Label Studio: `connect`, `Studio` and the `Project` it reports.

Only slant.studio imports `label_studio_sdk`; what comes back is turned into small
dataclasses at once. Environment variables are read by the CLI, not here.

>>> studio = connect("http://localhost:8080", api_key)           # checks the token first
>>> studio.find_project("Harbor review")
"""

import json
import re
import threading
import time
from dataclasses import dataclass

import httpx

from slant.errors import StudioError

__all__ = ["CHECK_TIMEOUT", "CONNECT_TIMEOUT", "Project", "Studio", "connect", "error_detail", "every_item"]

CONNECT_TIMEOUT = 10.0  # seconds to open a connection: a local or LAN server takes milliseconds
CHECK_TIMEOUT = 15.0    # seconds for the first, cheap call (whoami): a server that accepts but never answers
WAIT_NOTICE = 5.0       # seconds of silence before `on_wait` hears about it, then again every this often


@dataclass(frozen=True)
class Project:
    """A Label Studio project as slant sees it."""

    id: int
    title: str
    label_config: str
    description: str = ""
    model_version: str = ""
    sampling: str = ""
    task_count: int = 0
    created_at: str = ""

    @classmethod
    def _from_sdk(cls, p):
        return cls(
            id=int(p.id), title=p.title or "", label_config=p.label_config or "",
            description=p.description or "", model_version=p.model_version or "",
            sampling=str(p.sampling or ""), task_count=int(getattr(p, "task_number", 0) or 0),
            created_at=str(p.created_at or ""),
        )


# --- connection -----------------------------------------------------------------------

def error_detail(exc):
    """The server's own words from an SDK `ApiError` (its detail and validation errors), at most 500 characters."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        parts = [str(body.get("detail") or "")]
        if body.get("validation_errors"):
            parts.append(json.dumps(body["validation_errors"], ensure_ascii=False)[:500])
        return ": ".join(p for p in parts if p) or str(body)[:500]
    return str(body or exc)[:500]


def every_item(pager, page_size=None):
    """Every item of an SDK list pager, asking for no page past the last.

    The SDK asks for the next page until one comes back empty, and Label Studio answers a
    page past the end with 404, which its log and `slant serve`'s show as a failed
    request. This stops when the page's ``count`` (projects) or ``total`` (tasks) is
    reached, or, when the page gives no count, at a page shorter than `page_size` (the
    page size asked for): a server that caps the page size still gives its count.
    """
    items = []
    for page in pager.iter_pages():
        got = page.items or []
        items.extend(got)
        total = getattr(page.response, "count", None)
        if total is None:
            total = getattr(page.response, "total", None)
        if not got or (total is not None and len(items) >= total):
            break
        if total is None and page_size is not None and len(got) < page_size:
            break
    return items


class Studio:
    """A checked connection to one Label Studio server (see `connect`)."""

    def __init__(self, url, api_key, *, timeout=300.0, connect_timeout=CONNECT_TIMEOUT, on_wait=None):
        # The SDK's `LabelStudio` adds to this base client only conveniences slant does not
        # use (pandas exports, a LabelInterface per project), and importing them costs
        # ~2 s of every command's start-up (pandas, jsf, smart_open, cloud storage SDKs).
        from label_studio_sdk.base_client import LabelStudioBase as LabelStudio
        from label_studio_sdk.core import ApiError

        self.url = url.rstrip("/")
        self.timeout, self.on_wait = timeout, on_wait
        # Our own httpx client, so opening a connection has its own short limit; reads keep
        # `timeout` (a 1,000-task import can take a minute on a busy server).
        http = httpx.Client(timeout=httpx.Timeout(timeout, connect=connect_timeout))
        try:
            self._client = LabelStudio(base_url=self.url, api_key=api_key, httpx_client=http)
        except ApiError as exc:  # the SDK decodes JWT tokens eagerly and rejects expired ones
            raise StudioError(self._refused(error_detail(exc))) from None

    def __repr__(self):
        return f"Studio({self.url!r})"  # never the token

    def _refused(self, why):
        return (
            f"Label Studio at {self.url} refused the API token ({why}); copy a valid token from "
            "Account & Settings (personal access token or legacy token) and pass --api-key or set LABEL_STUDIO_API_KEY"
        )

    def _waiting(self, action, done):
        began = time.monotonic()
        while not done.wait(WAIT_NOTICE):
            self.on_wait(f"still waiting for Label Studio at {self.url} to {action} "
                         f"({time.monotonic() - began:.0f} s; gives up after {self.timeout:.0f} s)")

    def call(self, action, fn, *args, timeout=None, **kwargs):
        """Run one SDK call, turning every failure into a `StudioError` naming `action`.

        `on_wait` (if set) hears every few seconds while the server is silent; `timeout`
        (seconds) replaces the client's read limit for this call.
        """
        from label_studio_sdk.core import ApiError

        if timeout is not None:
            kwargs["request_options"] = {**kwargs.get("request_options", {}), "timeout_in_seconds": timeout}
        done = threading.Event()
        if self.on_wait is not None:
            threading.Thread(target=self._waiting, args=(action, done), name="slant-studio-wait", daemon=True).start()
        try:
            return fn(*args, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise StudioError(
                f"cannot reach Label Studio at {self.url} ({exc.__class__.__name__}: {exc}); "
                "start a local one with `slant studio`, or pass --url / set LABEL_STUDIO_URL to a running server"
            ) from None
        except httpx.ReadTimeout:
            waited = timeout if timeout is not None else self.timeout
            raise StudioError(
                f"Label Studio at {self.url} accepted the connection but sent no answer within {waited:.0f} s "
                f"while asked to {action}; check that {self.url} is Label Studio (not another service on that port) "
                "and that it is not stuck or overloaded (open it in a browser, read its log), then rerun the same "
                "command: finished work is kept and nothing is sent twice"
            ) from None
        except httpx.TransportError as exc:
            raise StudioError(
                f"Label Studio at {self.url} stopped answering while it was asked to {action} "
                f"({exc.__class__.__name__}); check that it is running, then rerun the same command: "
                "finished work is kept and nothing is sent twice"
            ) from None
        except ApiError as exc:
            if exc.status_code in (401, 403):
                raise StudioError(self._refused(f"HTTP {exc.status_code} {error_detail(exc)}".strip())) from None
            raise StudioError(f"Label Studio at {self.url} rejected the request to {action} (HTTP {exc.status_code}): {error_detail(exc)}") from None
        finally:
            done.set()

    @property
    def sdk(self):
        """The underlying SDK client (`label_studio_sdk.base_client.LabelStudioBase`), for code inside slant.studio."""
        return self._client

    def whoami(self):
        """``(user id, email)`` of the token's user: a cheap authenticated call.

        Not retried: a server that does not answer now is reported at once.
        """
        me = self.call("identify the API token's user", self._client.users.whoami, request_options={"max_retries": 0},
                       timeout=min(CHECK_TIMEOUT, self.timeout))
        return int(me.id), me.email or ""

    def project(self, project_id):
        return Project._from_sdk(self.call(f"read project {project_id}", self._client.projects.get, id=project_id))

    def find_project(self, title):
        """The project called exactly `title`, or None; several of them is an error."""
        found = [p for p in self.call("list projects", lambda: every_item(self._client.projects.list(title=title, page_size=100), 100))
                 if p.title == title]
        if len(found) > 1:
            ids = ", ".join(str(p.id) for p in found)
            raise StudioError(f"{len(found)} projects on {self.url} are called {title!r} (ids {ids}); rename all but one in Label Studio, or pick another --project name")
        return self.project(found[0].id) if found else None

    def project_url(self, project, view_id=None):
        pid = project.id if isinstance(project, Project) else int(project)
        return f"{self.url}/projects/{pid}/data" + (f"?tab={view_id}" if view_id else "")


def connect(url, api_key, *, timeout=300.0, on_wait=None):
    """A `Studio` for `url`, after checking with one cheap call that `api_key` works.

    Raises `StudioError` when the server is unreachable, does not answer that call within
    `CHECK_TIMEOUT` seconds, or refuses the token, before anything is created.
    `on_wait(message)` is told while a call waits on a silent server (see `Studio.call`).
    """
    if not url:
        raise StudioError("no Label Studio URL; pass --url, set LABEL_STUDIO_URL, or start a local server with `slant studio`")
    if not re.match(r"https?://", url):
        raise StudioError(f"Label Studio URL {url!r} must start with http:// or https://, e.g. http://localhost:8080")
    if not api_key:
        raise StudioError(f"no API token for Label Studio at {url}; pass --api-key or set LABEL_STUDIO_API_KEY (Account & Settings in Label Studio shows it)")
    studio = Studio(url, api_key, timeout=timeout, on_wait=on_wait)
    studio.whoami()
    return studio
