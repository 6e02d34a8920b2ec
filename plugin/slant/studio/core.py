"""Everything that talks to Label Studio: client, project setup, push, views, embedded server.

Only this module imports `label_studio_sdk`; what comes back is turned into the small
dataclasses below at once. Environment variables are read by the CLI, not here.

>>> studio = connect("http://localhost:8080", api_key)           # checks the token first
>>> result = push(studio, ["article.txt"], project="Harbor review", taxonomy=tax, model=model)
>>> print(result.summary())
"""

import hashlib
import json
import queue
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx

from slant.errors import InputError, StudioError
from slant.studio.lsformat import iter_batches
from slant.studio.server import StudioServer, default_data_dir, local_connection, start_studio
from slant.taxonomy.core import CHOICES_NAME, SPANS_NAME, render_config

__all__ = [
    "MLBackend",
    "export_snapshot",
    "project_titles",
    "user_emails",
    "MLConnection",
    "connect_ml_backend",
    "ml_backends",
    "refresh_live_predictions",
    "resolve_project",
    "RefreshResult",
    "push_selected",
    "refresh_predictions",
    "ConsoleProgress",
    "count_documents",
    "Project",
    "PushResult",
    "Studio",
    "StudioServer",
    "connect",
    "demo",
    "run_studio",
    "default_data_dir",
    "local_connection",
    "project_config",
    "push",
    "start_studio",
    "REVIEW_VIEW_TITLE",
]

REVIEW_VIEW_TITLE = "Review queue — least certain first"
_UNCERTAINTY = "Uncertainty sampling"
_MARKER = re.compile(r"<!-- slant:taxonomy (\{.*?\}) -->", re.S)


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

def _detail(exc):
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        parts = [str(body.get("detail") or "")]
        if body.get("validation_errors"):
            parts.append(json.dumps(body["validation_errors"], ensure_ascii=False)[:500])
        return ": ".join(p for p in parts if p) or str(body)[:500]
    return str(body or exc)[:500]


class Studio:
    """A checked connection to one Label Studio server (see `connect`)."""

    def __init__(self, url, api_key, *, timeout=300.0):
        from label_studio_sdk import LabelStudio
        from label_studio_sdk.core import ApiError

        self.url = url.rstrip("/")
        try:
            self._client = LabelStudio(base_url=self.url, api_key=api_key, timeout=timeout)
        except ApiError as exc:  # the SDK decodes JWT tokens eagerly and rejects expired ones
            raise StudioError(self._refused(_detail(exc))) from None

    def __repr__(self):
        return f"Studio({self.url!r})"  # never the token

    def _refused(self, why):
        return (
            f"Label Studio at {self.url} refused the API token ({why}); copy a valid token from "
            "Account & Settings (personal access token or legacy token) and pass --api-key or set LABEL_STUDIO_API_KEY"
        )

    def call(self, action, fn, *args, **kwargs):
        """Run one SDK call, turning every failure into a `StudioError` naming `action`."""
        from label_studio_sdk.core import ApiError

        try:
            return fn(*args, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise StudioError(
                f"cannot reach Label Studio at {self.url} ({exc.__class__.__name__}: {exc}); "
                "start a local one with `slant studio`, or pass --url / set LABEL_STUDIO_URL to a running server"
            ) from None
        except httpx.TransportError as exc:
            raise StudioError(
                f"Label Studio at {self.url} stopped answering while it was asked to {action} "
                f"({exc.__class__.__name__}); check that it is running, then rerun the same command: "
                "finished work is kept and nothing is sent twice"
            ) from None
        except ApiError as exc:
            if exc.status_code in (401, 403):
                raise StudioError(self._refused(f"HTTP {exc.status_code} {_detail(exc)}".strip())) from None
            raise StudioError(f"Label Studio at {self.url} rejected the request to {action} (HTTP {exc.status_code}): {_detail(exc)}") from None

    @property
    def sdk(self):
        """The underlying `label_studio_sdk.LabelStudio` client, for code inside slant.studio.core."""
        return self._client

    def whoami(self):
        """``(user id, email)`` of the token's user: a cheap authenticated call.

        Not retried: a server that does not answer now is reported at once.
        """
        me = self.call("identify the API token's user", self._client.users.whoami, request_options={"max_retries": 0})
        return int(me.id), me.email or ""

    def project(self, project_id):
        return Project._from_sdk(self.call(f"read project {project_id}", self._client.projects.get, id=project_id))

    def find_project(self, title):
        """The project called exactly `title`, or None; several of them is an error."""
        found = [p for p in self.call("list projects", lambda: list(self._client.projects.list(title=title, page_size=100))) if p.title == title]
        if len(found) > 1:
            ids = ", ".join(str(p.id) for p in found)
            raise StudioError(f"{len(found)} projects on {self.url} are called {title!r} (ids {ids}); rename all but one in Label Studio, or pick another --project name")
        return self.project(found[0].id) if found else None

    def project_url(self, project, view_id=None):
        pid = project.id if isinstance(project, Project) else int(project)
        return f"{self.url}/projects/{pid}/data" + (f"?tab={view_id}" if view_id else "")


def connect(url, api_key, *, timeout=300.0):
    """A `Studio` for `url`, after checking with one cheap call that `api_key` works.

    Raises `StudioError` when the server is unreachable or refuses the token, before
    anything is created.
    """
    if not url:
        raise StudioError("no Label Studio URL; pass --url, set LABEL_STUDIO_URL, or start a local server with `slant studio`")
    if not re.match(r"https?://", url):
        raise StudioError(f"Label Studio URL {url!r} must start with http:// or https://, e.g. http://localhost:8080")
    if not api_key:
        raise StudioError(f"no API token for Label Studio at {url}; pass --api-key or set LABEL_STUDIO_API_KEY (Account & Settings in Label Studio shows it)")
    studio = Studio(url, api_key, timeout=timeout)
    studio.whoami()
    return studio


# --- project setup --------------------------------------------------------------------

def _marker(taxonomy):
    meta = {"id": taxonomy.id, "version": taxonomy.version, "categories": {c.id: c.name for c in taxonomy.categories}}
    # "--" may not appear inside an XML comment; it can only occur inside JSON strings.
    text = json.dumps(meta, ensure_ascii=True, sort_keys=True).replace("--", "-\\u002d")
    return f"<!-- slant:taxonomy {text} -->"


def project_config(taxonomy):
    """The labeling config slant gives a project: `render_config` plus a comment that
    records the taxonomy id, version and category ids (Label Studio keeps comments)."""
    return render_config(taxonomy) + "\n" + _marker(taxonomy) + "\n"


def _read_marker(config):
    m = _MARKER.search(config or "")
    if not m:
        return None
    try:
        return json.loads(m.group(1))
    except json.JSONDecodeError:
        return None


def _config_names(config):
    """(choice values, label values) of slant's controls in a labeling config."""
    try:
        root = ET.fromstring(config)
    except ET.ParseError:
        return set(), set()
    choices = {c.get("value") for tag in root.iter("Choices") if tag.get("name") == CHOICES_NAME for c in tag.iter("Choice")}
    labels = {c.get("value") for tag in root.iter("Labels") if tag.get("name") == SPANS_NAME for c in tag.iter("Label")}
    return choices, labels


def _version_key(version):
    try:
        return tuple(int(p) for p in str(version).split("+")[0].split("-")[0].split("."))
    except ValueError:
        return ()


def plan_config(current, taxonomy, *, title="project"):
    """What to do with a project whose labeling config is `current`.

    Returns None (already right) or the new config; raises `StudioError` listing the
    differing categories when the change would strand existing labels.
    """
    wanted = project_config(taxonomy)
    if (current or "").strip() == wanted.strip():
        return None
    meta = _read_marker(current)
    if meta is None:
        have = _config_names(current)
        want = ({c.name for c in taxonomy.categories if c.sentence_level}, {c.name for c in taxonomy.categories if c.span_level})
        if have == want:
            return wanted
        removed = sorted((have[0] - want[0]) | (have[1] - want[1]))
        added = sorted((want[0] - have[0]) | (want[1] - have[1]))
        raise StudioError(
            f"project {title!r} was not set up by slant and its labeling config differs from taxonomy {taxonomy.id} {taxonomy.version}: "
            f"only in the project: {', '.join(removed) or '-'}; only in the taxonomy: {', '.join(added) or '-'}; "
            "push to a new --project name"
        )
    if meta.get("id") != taxonomy.id:
        raise StudioError(f"project {title!r} uses taxonomy {meta.get('id')!r}, not {taxonomy.id!r}; push to a new --project name")
    old = set(meta.get("categories", {}))
    removed, added = sorted(old - set(taxonomy.ids)), sorted(set(taxonomy.ids) - old)
    if not removed and not added:
        return wanted  # names, hints or colours changed: Label Studio checks labels in use itself
    problems = []
    if _version_key(taxonomy.version) <= _version_key(meta.get("version")):
        problems.append(f"the taxonomy version {taxonomy.version} is not newer than the project's {meta.get('version')}")
    _, unmigrated = taxonomy.migrate_labels(removed)
    if unmigrated:
        problems.append(f"no migration says what becomes of {', '.join(unmigrated)}")
    if problems:
        raise StudioError(
            f"project {title!r} uses taxonomy {taxonomy.id} {meta.get('version')} and the categories differ: "
            f"removed {', '.join(removed) or '-'}; added {', '.join(added) or '-'}; but {' and '.join(problems)}. "
            "Raise the taxonomy version and add migrations for removed ids, or push to a new --project name"
        )
    return wanted


def ensure_project(studio, title, taxonomy):
    """``(project, created, config_updated)``: find or create the project for `taxonomy`."""
    if len(title.strip()) < 3:
        raise StudioError(f"project name {title!r} is too short; Label Studio needs at least 3 characters")
    description = f"Sentences pre-labelled by slant (taxonomy {taxonomy.id} {taxonomy.version})."
    project = studio.find_project(title)
    if project is None:
        created = studio.call(
            f"create project {title!r}", studio.sdk.projects.create,
            title=title, label_config=project_config(taxonomy), description=description, sampling=_UNCERTAINTY,
        )
        return studio.project(created.id), True, False
    new_config = plan_config(project.label_config, taxonomy, title=title)
    if new_config is not None:
        studio.call(f"update the labeling config of {title!r}", studio.sdk.projects.update, id=project.id, label_config=new_config, description=description)
        return studio.project(project.id), False, True
    return project, False, False


def ensure_review_view(studio, project):
    """The id of the Data Manager tab ordered by prediction score (created when missing)."""
    views = studio.call("list Data Manager tabs", studio.sdk.views.list, project=project.id)
    for v in views:
        if (v.data or {}).get("title") == REVIEW_VIEW_TITLE:
            return int(v.id)
    data = {"title": REVIEW_VIEW_TITLE, "ordering": ["tasks:predictions_score"]}
    return int(studio.call("create the review queue tab", studio.sdk.views.create, project=project.id, data=data).id)


def set_review_settings(studio, project, model_version):
    """Point the project at `model_version` and at uncertainty sampling.

    Label Studio accepts a model version only once predictions carry it; returns False
    (and changes only the sampling) when none does yet.
    """
    try:
        studio.call("set the model version", studio.sdk.projects.update, id=project.id, model_version=model_version, sampling=_UNCERTAINTY)
        return True
    except StudioError:
        studio.call("enable uncertainty sampling", studio.sdk.projects.update, id=project.id, sampling=_UNCERTAINTY)
        return False


# --- existing tasks -------------------------------------------------------------------

class _Ledger:
    """A local list of (task id, slant_id) pushed to one project, checked against the server.

    Reading every task back costs Label Studio about half a millisecond per task; the
    ledger is trusted only when the server's task count and highest task id match it
    (ids are never reused), else the ids are read from the server and the ledger rebuilt.
    """

    def __init__(self, cache_dir, url, project):
        key = hashlib.sha256(f"{url}\x1f{project.id}\x1f{project.created_at}".encode()).hexdigest()[:24]
        self.path = Path(cache_dir) / "pushed" / f"{key}.tsv"

    def load(self):
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, UnicodeDecodeError):
            return {}
        pairs = {}
        for line in lines:
            tid, _, sid = line.partition("\t")
            if tid.isdigit() and sid:
                pairs[int(tid)] = sid
        return pairs

    def write(self, pairs, mode="a"):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, mode, encoding="utf-8") as fh:
            fh.writelines(f"{tid}\t{sid}\n" for tid, sid in pairs)


def _max_task_id(studio, project):
    page = studio.call("read the newest task", studio.sdk.tasks.list, project=project.id, fields="task_only",
                       include="id", page_size=1, query=json.dumps({"ordering": ["-tasks:id"]}))
    items = page.items or []
    return int(items[0].id) if items else 0


def existing_slant_ids(studio, project, ledger=None):
    """``{task id: slant_id}`` of the project's tasks, read once per push."""
    if project.task_count == 0:
        if ledger:
            ledger.write([], mode="w")
        return {}
    if ledger:
        pairs = ledger.load()
        if len(pairs) == project.task_count and pairs and max(pairs) == _max_task_id(studio, project):
            return pairs
    pairs = {}
    pager = studio.call("read existing tasks", studio.sdk.tasks.list, project=project.id, fields="task_only", include="id,data", page_size=1000)
    for task in studio.call("read existing tasks", list, pager):
        pairs[int(task.id)] = (task.data or {}).get("slant_id") or ""
    if ledger:
        ledger.write(sorted(pairs.items()), mode="w")
    return pairs


# --- push -----------------------------------------------------------------------------

@dataclass
class PushResult:
    project_id: int
    project_title: str
    project_url: str
    created: bool
    config_updated: bool
    documents: int
    sentences: int
    new_tasks: int
    duplicates: int
    model_version: str
    model_version_set: bool
    label_counts: dict = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self):
        per = ", ".join(f"{k} {v}" for k, v in sorted(self.label_counts.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"
        lines = [
            f"project {self.project_title!r} (id {self.project_id}){' created' if self.created else ''}"
            f"{', labeling config updated' if self.config_updated else ''}",
            f"documents {self.documents}, sentences {self.sentences}, new tasks {self.new_tasks}, skipped duplicates {self.duplicates}",
            f"predictions per category (new tasks): {per}",
            f"model {self.model_version}{'' if self.model_version_set else ' (not set as project model version: no task carries it yet)'}",
            f"time {self.seconds:.1f} s",
            f"review queue: {self.project_url}",
        ]
        return "\n".join(lines)


class _Failed:
    def __init__(self, exc):
        self.exc = exc


def _prefetched(iterable):
    """Yield from `iterable`, computed one item ahead in a worker thread.

    Splitting and predicting the next batch overlaps the import of the current one,
    which spends its time waiting on the server.
    """
    slot, stop, end = queue.Queue(maxsize=1), threading.Event(), object()

    def put(item):
        while not stop.is_set():
            try:
                slot.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for item in iterable:
                if not put(item):
                    return
            put(end)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failed(exc))

    threading.Thread(target=work, name="slant-prelabel", daemon=True).start()
    try:
        while True:
            item = slot.get()
            if item is end:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()


def _check_inputs(paths):
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not paths:
        raise InputError("no input files; pass one or more .txt, .md, .html or .jsonl files")
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file; check the path")
        if p.is_dir():
            raise InputError(f"{p}: is a directory; pass the files inside it, e.g. {p}/*.txt")
    return paths


@dataclass
class _Target:
    """What both push paths set up first: the project, its review view, the ids it holds."""

    paths: list
    began: float
    project: Project
    created: bool
    updated: bool
    view_id: object
    ledger: object
    existing: frozenset


def _push_target(studio, paths, *, project, taxonomy, batch_size, cache_dir):
    if batch_size < 1:
        raise InputError(f"--batch-size {batch_size} must be at least 1")
    paths = _check_inputs(paths)
    began = time.perf_counter()
    proj, created, updated = ensure_project(studio, project, taxonomy)
    view_id = ensure_review_view(studio, proj)
    ledger = _Ledger(cache_dir, studio.url, proj) if cache_dir else None
    existing = frozenset(existing_slant_ids(studio, proj, ledger).values())
    return _Target(paths, began, proj, created, updated, view_id, ledger, existing)


def _import_tasks(studio, target, tasks):
    """One synchronous import; the new task ids go to the ledger."""
    response = studio.call(
        f"import {len(tasks)} tasks", studio.sdk.projects.import_tasks, id=target.project.id, request=tasks,
        return_task_ids=True, request_options={"max_retries": 0},  # a retried import could duplicate tasks
    )
    ids = list(response.task_ids or [])
    if target.ledger and len(ids) == len(tasks):
        target.ledger.write(zip(ids, (t["data"]["slant_id"] for t in tasks)))


def _push_result(studio, target, model, **counts):
    version_set = set_review_settings(studio, target.project, model.model_version)
    return PushResult(
        project_id=target.project.id, project_title=target.project.title,
        project_url=studio.project_url(target.project, target.view_id), created=target.created,
        config_updated=target.updated, model_version=str(model.model_version), model_version_set=version_set,
        seconds=time.perf_counter() - target.began, **counts,
    )


def push(studio, paths, *, project, taxonomy, model, batch_size=1000, cache_dir=None, progress=None):
    """Split, pre-label and import `paths` into the project called `project`.

    Idempotent and resumable: each sentence's `slant_id` is checked against the ids read
    once at the start, so a rerun after any failure adds exactly the missing tasks.
    `progress`, if given, is called with ``(batch, new_tasks_so_far)`` after each import.
    """
    from slant.text.documents import read_documents

    target = _push_target(studio, paths, project=project, taxonomy=taxonomy, batch_size=batch_size, cache_dir=cache_dir)
    new_tasks, labels, last = 0, Counter(), None
    batches = iter_batches(read_documents(target.paths), model=model, taxonomy=taxonomy,
                           existing=target.existing, batch_size=batch_size)
    for batch in _prefetched(batches):
        last = batch
        if batch.tasks:
            _import_tasks(studio, target, batch.tasks)
            new_tasks += len(batch.tasks)
            labels.update(batch.label_counts)
        if progress:
            progress(batch, new_tasks)
    return _push_result(studio, target, model, documents=last.documents, sentences=last.sentences,
                        new_tasks=new_tasks, duplicates=last.duplicates, label_counts=dict(labels))


def run_studio(*, data_dir=None, port=8080, host="127.0.0.1", stream=None):
    """`slant studio`: start or reuse the embedded server, print the login, serve until Ctrl-C."""
    stream = stream or sys.stdout
    server = start_studio(data_dir=data_dir, port=port, host=host)
    print(server.describe(), file=stream, flush=True)
    if server.reused:
        print("Another slant process (`slant studio` or `slant demo`) started it; stop it there with Ctrl-C.", file=stream)
        return 0
    print("Press Ctrl-C to stop.", file=stream, flush=True)
    code = server.serve_forever()
    print("Label Studio stopped.", file=stream)
    return code


def demo(*, data_dir=None, port=8080, serve=True, project="slant demo", cache_dir=None, stream=None):
    """`slant demo`: embedded server + the bundled sample article pushed with predictions."""
    from importlib.resources import as_file

    from slant._files import sample_article_path
    from slant.model.core import load_model
    from slant.taxonomy.core import load_taxonomy

    stream = stream or sys.stdout
    taxonomy = load_taxonomy()
    model = load_model(None, taxonomy=taxonomy)
    server = start_studio(data_dir=data_dir, port=port)
    try:
        print(server.describe(), file=stream, flush=True)
        studio = connect(server.url, server.api_key)
        with as_file(sample_article_path()) as article, ConsoleProgress(total=1) as progress:
            result = push(studio, [article], project=project, taxonomy=taxonomy, model=model,
                          cache_dir=cache_dir, progress=progress)
        print(result.summary(), file=stream)
        print(f"\nOpen {result.project_url} and log in as {server.username} to review the pre-labels.", file=stream, flush=True)
        if serve and not server.reused:
            print("Press Ctrl-C to stop.", file=stream, flush=True)
            server.serve_forever()
        return result
    finally:
        server.stop()  # only a server this call started


def count_documents(paths):
    """How many documents `paths` hold (a line per .jsonl document, else one per file).

    Only sizes the progress bar; unreadable paths count as one and fail later, properly.
    """
    total = 0
    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        p = Path(p)
        if p.suffix.lower() == ".jsonl" and p.is_file():
            with open(p, "rb") as fh:
                total += sum(1 for line in fh if line.strip())
        else:
            total += 1
    return total


class ConsoleProgress:
    """A `push` progress callback: a rich progress bar on a terminal, plain lines otherwise.

    `total` is the number of documents (see `count_documents`). Use as a context
    manager so the live display is always cleared.
    """

    def __init__(self, stream=None, *, total=None):
        self.stream = stream or sys.stderr
        self.total = total
        self._bar = self._task = None

    def __enter__(self):
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("pushing documents"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=Console(file=self.stream), transient=True)
            self._task = self._bar.add_task("", total=self.total)
            self._bar.start()
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, batch, new_tasks):
        counts = f"{batch.sentences} sentences read, {new_tasks} new tasks, {batch.duplicates} duplicates"
        if self._bar is not None:
            self._bar.update(self._task, completed=batch.documents, description=counts)
        else:
            print(f"push: {batch.documents} documents, {counts}", file=self.stream, flush=True)


# --- live ML backend (slant serve) ------------------------------------------------------

# The webhook events the backend learns from (START_TRAINING comes over the ML connection).
ML_WEBHOOK_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED", "TASKS_DELETED")


@dataclass(frozen=True)
class MLBackend:
    """An ML backend registered in a project, as Label Studio reports it."""

    id: int
    project_id: int
    url: str
    state: str            # CO connected, DI disconnected, ER error, TR training, PR predicting
    readable_state: str
    model_version: str = ""
    is_interactive: bool = False
    error: str = ""

    @property
    def connected(self):
        return self.state == "CO"

    @classmethod
    def _from_sdk(cls, m):
        state = getattr(m.state, "value", m.state)
        return cls(id=int(m.id), project_id=int(m.project), url=m.url or "", state=str(state or ""),
                   readable_state=str(m.readable_state or state or ""), model_version=m.model_version or "",
                   is_interactive=bool(m.is_interactive), error=m.error_message or "")


@dataclass(frozen=True)
class MLConnection:
    """What `connect_ml_backend` did; `summary()` shows no secret."""

    project: Project
    backend: MLBackend
    created: bool
    webhook_id: int
    webhook_created: bool

    def summary(self):
        b = self.backend
        lines = [
            f"project {self.project.title!r} (id {self.project.id}): ML backend {b.id} at {b.url} "
            f"{'registered' if self.created else 'updated'}; Label Studio reports it {b.readable_state}"
            f"{'' if b.connected else ' (' + (b.error or 'not connected') + ')'}",
            f"  model version {b.model_version or '-'}, interactive pre-labels {'on' if b.is_interactive else 'off'}, basic auth on",
            f"  webhook {self.webhook_id} {'created' if self.webhook_created else 'updated'}: "
            f"{', '.join(ML_WEBHOOK_ACTIONS)} -> {b.url.rstrip('/')}/webhook/<token>",
        ]
        return "\n".join(lines)


def resolve_project(studio, project):
    """A `Project` from an id (int or digits) or an exact title; `StudioError` when absent."""
    if isinstance(project, Project):
        return project
    if isinstance(project, int) or str(project).isdigit():
        return studio.project(int(project))
    found = studio.find_project(str(project))
    if found is None:
        raise StudioError(f"no project called {project!r} on {studio.url}; create it with `slant push FILE --project {str(project)!r}` "
                          "or pass the project id")
    return found


def ml_backends(studio, project):
    """The ML backends registered in `project` (id or `Project`)."""
    pid = project.id if isinstance(project, Project) else int(project)
    return [MLBackend._from_sdk(m) for m in studio.call("list ML backends", studio.sdk.ml.list, project=pid)]


def connect_ml_backend(studio, project, *, url, username, password, webhook_url, title="slant"):
    """Register (or update) the backend at `url` in `project`, with basic auth, interactive
    pre-labels on, and the annotation webhook pointing at `webhook_url` (which carries the
    secret token). Label Studio checks /health and /setup before it accepts the backend.

    Label Studio creates a token-less ``<url>/webhook`` hook for every new backend; it is
    re-pointed at `webhook_url`, so events are sent once and only to the tokened URL.
    """
    proj = resolve_project(studio, project)
    url = url.rstrip("/")
    existing = [b for b in ml_backends(studio, proj) if b.url.rstrip("/") == url]
    fields = dict(url=url, auth_method="BASIC_AUTH", basic_auth_user=username, basic_auth_pass=password,
                  is_interactive=True, title=title, auto_update=True)
    if existing:
        # `project` again: Label Studio 1.23 re-runs /setup on update and needs it in the request.
        m = studio.call("update the ML backend", studio.sdk.ml.update, id=existing[0].id, project=proj.id, **fields)
    else:
        m = studio.call("register the ML backend (Label Studio calls its /health and /setup)", studio.sdk.ml.create,
                        project=proj.id, **fields)
    backend = MLBackend._from_sdk(studio.call("read the ML backend", studio.sdk.ml.get, id=m.id))
    hooks = [h for h in studio.call("list webhooks", studio.sdk.webhooks.list, project=str(proj.id))
             if (h.url or "").rstrip("/").startswith(url + "/webhook")]
    settings = dict(url=webhook_url, actions=list(ML_WEBHOOK_ACTIONS), send_payload=True, send_for_all_actions=False,
                    is_active=True)
    if hooks:
        for extra in hooks[1:]:
            studio.call("remove a duplicate webhook", studio.sdk.webhooks.delete, id=extra.id)
        hook_id = int(hooks[0].id)
        studio.call("point the webhook at the backend", studio.sdk.webhooks.update, id=hook_id, **settings)
    else:
        hook_id = int(studio.call("create the annotation webhook", studio.sdk.webhooks.create, project=proj.id, **settings).id)
    return MLConnection(project=studio.project(proj.id), backend=backend, created=not existing,
                        webhook_id=hook_id, webhook_created=not hooks)


def refresh_live_predictions(studio, project, model_version, *, chunk=1000):
    """After the backend promoted `model_version`: ask Label Studio to fetch its predictions
    for the tasks nobody annotated yet (in chunks of `chunk` tasks per /predict call),
    then make it the project's model version so annotators see them. Returns how many
    tasks were asked for; the project keeps its version when none could carry the new one
    or when it follows the backend live (its model version is the backend's title).
    """
    proj = resolve_project(studio, project)
    filters = {"conjunction": "and", "items": [
        {"filter": "filter:tasks:total_annotations", "operator": "equal", "type": "Number", "value": 0}]}
    pager = studio.call("list unannotated tasks", studio.sdk.tasks.list, project=proj.id, fields="task_only", include="id",
                        page_size=1000, query=json.dumps({"filters": filters}))
    ids = [int(t.id) for t in studio.call("list unannotated tasks", list, pager)]
    for i in range(0, len(ids), chunk):
        studio.call("retrieve predictions", studio.sdk.actions.create, id="retrieve_tasks_predictions", project=proj.id,
                    selected_items={"all": False, "included": ids[i:i + chunk]})
    live = {b.title for b in studio.call("list ML backends", studio.sdk.ml.list, project=proj.id) if b.title}
    # A project whose model version is a backend's title already shows that backend's
    # current predictions ("live"); otherwise point it at the new version.
    if ids and proj.model_version not in live:
        set_review_settings(studio, proj, model_version)
    return len(ids)


# --- retraining loop: refreshed predictions and active selection (docs/retraining.md) ---------

@dataclass
class RefreshResult:
    project_id: int
    project_title: str
    project_url: str
    model_version: str
    tasks: int                 # tasks in the project
    refreshed: int             # tasks that got a new prediction
    annotated: int             # skipped: already annotated (or skipped by an annotator)
    current: int               # skipped: already carry a prediction of this model version
    model_version_set: bool
    seconds: float = 0.0

    def summary(self):
        return "\n".join([
            f"project {self.project_title!r} (id {self.project_id}): {self.refreshed} of {self.tasks} tasks got "
            f"predictions from {self.model_version}",
            f"skipped: {self.annotated} annotated, {self.current} already with {self.model_version}; no task added",
            f"project model version {'set to ' + self.model_version if self.model_version_set else 'unchanged'}; "
            f"time {self.seconds:.1f} s",
            f"review queue: {self.project_url}",
        ])


def _tasks_with_version(studio, project, version):
    """Ids of the tasks that have a prediction of `version`, by a Data Manager filter.

    Label Studio fills ``predictions_model_versions`` only for a column it filters or
    orders by, and its "contains" is a substring match: the ids come back with the
    column, which is checked for the exact version.
    """
    query = {"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:predictions_model_versions",
                                                          "operator": "contains", "type": "List", "value": [version]}]}}
    pager = studio.call("find tasks with this model version", studio.sdk.tasks.list, project=project.id,
                        fields="task_only", include="id,predictions_model_versions", page_size=1000,
                        query=json.dumps(query))
    ids = set()
    for task in studio.call("find tasks with this model version", list, pager):
        extra = getattr(task, "model_extra", None) or {}
        versions = getattr(task, "predictions_model_versions", None) or extra.get("predictions_model_versions") or ""
        if isinstance(versions, str):
            versions = [v.strip() for v in versions.split(",")]
        if version in versions:
            ids.add(int(task.id))
    return ids


def refresh_predictions(studio, *, project, taxonomy, model, all_tasks=False, batch_size=1000):
    """`slant push --refresh`: add `model`'s predictions to the project's existing tasks.

    Only tasks with no annotation (none completed, none skipped) get one, unless
    `all_tasks`; a task that already has a prediction of this model version is left
    alone, so a rerun adds nothing twice. No task is created. The project's model
    version is then set, so annotators see the new predictions.
    """
    from slant.studio.lsformat import prediction_json

    if batch_size < 1:
        raise InputError(f"--batch-size {batch_size} must be at least 1")
    began = time.perf_counter()
    proj = resolve_project(studio, project)
    proj, _, _ = ensure_project(studio, proj.title, taxonomy)  # same taxonomy, or refuse before predicting
    version = str(model.model_version)
    have = _tasks_with_version(studio, proj, version)
    pager = studio.call("read the project's tasks", studio.sdk.tasks.list, project=proj.id, fields="task_only",
                        include="id,data,total_annotations,cancelled_annotations", page_size=1000)
    todo, annotated, current, total = [], 0, 0, 0
    for task in studio.call("read the project's tasks", list, pager):
        total += 1
        done = int(getattr(task, "total_annotations", 0) or 0) + int(getattr(task, "cancelled_annotations", 0) or 0)
        if int(task.id) in have:
            current += 1
        elif done and not all_tasks:
            annotated += 1
        elif isinstance((task.data or {}).get("text"), str):
            todo.append((int(task.id), task.data))
    for i in range(0, len(todo), batch_size):
        chunk = todo[i:i + batch_size]
        predictions = model.predict([d["text"] for _, d in chunk])
        request = []
        for (tid, d), p in zip(chunk, predictions):
            pj = prediction_json(p, text=d["text"], taxonomy=taxonomy, model_version=version, key=str(d.get("slant_id", tid)))
            request.append({"task": tid, **pj})
        studio.call(f"import {len(request)} predictions", studio.sdk.projects.import_predictions, id=proj.id,
                    request=request, request_options={"max_retries": 0})
    version_set = set_review_settings(studio, proj, version) if todo or current else False
    return RefreshResult(project_id=proj.id, project_title=proj.title, project_url=studio.project_url(proj),
                         model_version=version, tasks=total, refreshed=len(todo), annotated=annotated, current=current,
                         model_version_set=version_set, seconds=time.perf_counter() - began)


def push_selected(studio, paths, *, project, taxonomy, model, n, strategy="uncertainty", batch_size=1000,
                  cache_dir=None):
    """`slant push FILE... --select N`: push only the `n` most informative new sentences.

    The corpus is streamed (`slant.loop.select.select_informative`); each task's data carries
    ``uncertainty``, ``informativeness`` and ``selection`` for the Data Manager. Returns
    ``(PushResult, Selection)``.
    """
    from slant.loop.select import select_informative
    from slant.studio.lsformat import tasks_with_predictions
    from slant.text.documents import read_documents

    target = _push_target(studio, paths, project=project, taxonomy=taxonomy, batch_size=batch_size, cache_dir=cache_dir)
    selection = select_informative(read_documents(target.paths), model=model, taxonomy=taxonomy, n=n, strategy=strategy,
                                   existing=target.existing)
    labels = Counter()
    for i in range(0, len(selection.items), batch_size):
        tasks = tasks_with_predictions(selection.items[i:i + batch_size], model=model, taxonomy=taxonomy)
        _import_tasks(studio, target, tasks)
        for t in tasks:
            for r in t["predictions"][0]["result"]:
                if r["type"] == "choices":
                    labels.update(taxonomy.id_for_name(name) for name in r["value"]["choices"])
    result = _push_result(studio, target, model, documents=selection.documents, sentences=selection.sentences,
                          new_tasks=len(selection.items), duplicates=selection.duplicates, label_counts=dict(labels))
    return result, selection


# --- export snapshots (slant pull) ----------------------------------------------------

def project_titles(studio):
    """Titles of every project on the server (for 'did you mean' messages)."""
    return [p.title or "" for p in studio.call("list projects", lambda: list(studio.sdk.projects.list(page_size=100)))]


def export_snapshot(studio, project, dest, *, timeout=1800.0, poll=0.5, chunk_size=1 << 20):
    """Create a full JSON export snapshot of `project` and stream it into the file `dest`.

    Label Studio builds the snapshot in the background; it is polled until it completes,
    then downloaded chunk by chunk (never held in memory whole). Returns the bytes written.
    """
    proj = resolve_project(studio, project)
    exports = studio.sdk.projects.exports
    # Snapshots leave predictions out and name annotators by id unless asked: slant needs the
    # predictions shown to annotators and each annotator's email.
    options = {"predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}}
    snap = studio.call(f"create an export snapshot of project {proj.id}", exports.create, id=proj.id,
                       title=f"slant pull {time.strftime('%Y-%m-%d %H:%M:%S')}", serialization_options=options)
    deadline = time.monotonic() + timeout
    while snap.status != "completed":
        if snap.status == "failed":
            raise StudioError(f"Label Studio could not build the export snapshot {snap.id} of project {proj.title!r} "
                              "(status failed); check the server log, then run the command again")
        if time.monotonic() > deadline:
            raise StudioError(f"the export snapshot {snap.id} of project {proj.title!r} was not ready after {timeout:.0f} s "
                              f"(status {snap.status}); the server is busy: run the command again later")
        time.sleep(poll)
        snap = studio.call("read the export snapshot's status", exports.get, id=proj.id, export_pk=snap.id)

    def download():
        written = 0
        with Path(dest).open("wb") as fh:
            for chunk in exports.download(id=proj.id, export_pk=snap.id, export_type="JSON",
                                          request_options={"chunk_size": chunk_size}):
                fh.write(chunk)
                written += len(chunk)
        return written

    return studio.call(f"download the export snapshot {snap.id}", download)


def user_emails(studio):
    """``{user id: email}`` of the server's users: snapshots name annotators by id only."""
    users = studio.call("list users", studio.sdk.users.list)
    return {int(u.id): u.email for u in users if u.id is not None and u.email}
