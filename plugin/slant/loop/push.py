"""`slant push`: split documents, pre-label them and import them into a Label Studio
project, resumably; `--select N` pushes only the most informative sentences, `--refresh`
adds a new model's predictions to the tasks already there.

>>> studio = connect("http://localhost:8080", api_key)           # slant.studio.client
>>> result = push(studio, ["article.txt"], project="Harbor review", taxonomy=tax, model=model)
>>> print(result.summary())
"""

import queue
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from slant._words import counted
from slant.errors import InputError
from slant.loop.prelabel import iter_batches, review_fields, tasks_with_predictions
from slant.loop.select import select_informative
from slant.studio.client import Project
from slant.studio.lsformat import prediction_json
from slant.studio.projects import (
    check_project_title,
    data_columns,
    ensure_project,
    ensure_review_view,
    hide_new_columns,
    resolve_project,
    set_review_settings,
)
from slant.studio.tasks import (
    Ledger,
    add_task_data,
    existing_slant_ids,
    import_predictions,
    import_tasks,
    project_tasks,
    tasks_with_version,
)
from slant.text.documents import read_documents
from slant.text.inputs import expand_inputs

__all__ = ["ConsoleProgress", "PushResult", "PushTarget", "RefreshResult", "check_inputs", "count_documents", "push",
           "push_result", "push_selected", "push_target", "refresh_predictions"]


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
    audit_marked: int = 0      # tasks already there that an audit sample drew: audit fields added

    def summary(self):
        per = ", ".join(f"{k} {v}" for k, v in sorted(self.label_counts.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"
        lines = [
            f"project {self.project_title!r} (id {self.project_id}){' created' if self.created else ''}"
            f"{', labeling config updated' if self.config_updated else ''}",
            _counts(self.documents, self.sentences, self.new_tasks, self.duplicates),
            f"predictions per category (new tasks): {per}",
            *([f"audit fields added to {self.audit_marked} tasks already in the project"] if self.audit_marked else []),
            f"model {self.model_version}{'' if self.model_version_set else ' (not set as project model version: no task carries it yet)'}",
            f"time {self.seconds:.1f} s",
            f"review queue: {self.project_url}",
        ]
        return "\n".join(lines)


def _counts(documents, sentences, new_tasks, duplicates, total=None):
    """The one wording of push counts, used by the progress lines and the summary."""
    docs = f"{documents} of {counted(total, 'document')}" if total else counted(documents, "document")
    return f"{docs}, {counted(sentences, 'sentence')}, {counted(new_tasks, 'new task')}, {counted(duplicates, 'duplicate')} skipped"


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


def check_inputs(paths):
    """The input files as Paths (directories searched and globs expanded), or `InputError`
    naming the first that is missing; the CLI calls it before loading a model or
    contacting a server."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise InputError("no input files; pass .txt, .md, .html, .jsonl(.gz), .csv or .parquet files, directories or globs")
    return expand_inputs(paths)


@dataclass
class PushTarget:
    """What both push paths set up first: the project, its review view, the ids it holds."""

    paths: list
    began: float
    project: Project
    created: bool
    updated: bool
    view_id: object
    ledger: object
    existing: frozenset
    columns: tuple = None  # the project's task data fields before this push changed a task (`read_columns`)

    def read_columns(self, studio):
        """Note the project's task data fields, once, before this push first adds or changes
        a task (`push_result` hides the ones it brought): a push that changes none never asks."""
        if self.columns is None:
            self.columns = tuple(data_columns(studio, self.project)) if self.project.task_count else ()

    def import_tasks(self, studio, tasks):
        """Import `tasks` into the project (noting its columns first, `read_columns`)."""
        self.read_columns(studio)
        import_tasks(studio, self.project, tasks, self.ledger)


def push_target(studio, paths, *, project, taxonomy, batch_size, cache_dir, model=None):
    """Check `paths` (None: no files), then find or create the project, its review tab and
    the slant ids it holds. A `model` not loaded yet (`slant.model.lazy.LazyModel`) is
    loaded first when the project is to be created."""
    if batch_size < 1:
        raise InputError(f"--batch-size {batch_size} must be at least 1")
    paths = check_inputs(paths) if paths is not None else None
    check_project_title(project)  # before the model below loads: a name Label Studio refuses fails at once
    began = time.perf_counter()
    found = {}
    if model is not None and getattr(model, "loaded", True) is False:
        found["found"] = studio.find_project(project)
        if found["found"] is None:
            model.load()  # a new project gets only new sentences: a model that cannot load fails before it is created
    proj, created, updated = ensure_project(studio, project, taxonomy, **found)
    view_id = ensure_review_view(studio, proj)
    ledger = Ledger(cache_dir, studio.url, proj) if cache_dir else None
    existing = frozenset(existing_slant_ids(studio, proj, ledger).values())
    return PushTarget(paths, began, proj, created, updated, view_id, ledger, existing)


def push_result(studio, target, model_version, **counts):
    """The `PushResult` of a push to `target`, after pointing the project at `model_version`
    (and hiding the data fields new tasks brought from the review tab)."""
    if counts.get("new_tasks") or counts.get("audit_marked"):
        hide_new_columns(studio, target.project, target.view_id, target.columns or ())
    version_set = set_review_settings(studio, target.project, model_version)
    return PushResult(
        project_id=target.project.id, project_title=target.project.title,
        project_url=studio.project_url(target.project, target.view_id), created=target.created,
        config_updated=target.updated, model_version=str(model_version), model_version_set=version_set,
        seconds=time.perf_counter() - target.began, **counts,
    )


def push(studio, paths, *, project, taxonomy, model, batch_size=1000, cache_dir=None, progress=None):
    """Split, pre-label and import `paths` into the project called `project`.

    Idempotent and resumable: each sentence's `slant_id` is checked against the ids read
    once at the start, so a rerun after any failure adds exactly the missing tasks. The
    model predicts only new sentences: a `slant.model.lazy.LazyModel` is never loaded
    when every sentence is already in the project.
    `progress`, if given, is called with ``(batch, new_tasks_so_far)`` after each import.
    """
    target = push_target(studio, paths, project=project, taxonomy=taxonomy, batch_size=batch_size, cache_dir=cache_dir,
                         model=model)
    new_tasks, labels, last = 0, Counter(), None
    batches = iter_batches(read_documents(target.paths), model=model, taxonomy=taxonomy,
                           existing=target.existing, batch_size=batch_size)
    for batch in _prefetched(batches):
        last = batch
        if batch.tasks:
            target.import_tasks(studio, batch.tasks)
            new_tasks += len(batch.tasks)
            labels.update(batch.label_counts)
        if progress:
            progress(batch, new_tasks)
    return push_result(studio, target, model.model_version, documents=last.documents, sentences=last.sentences,
                        new_tasks=new_tasks, duplicates=last.duplicates, label_counts=dict(labels))


def push_selected(studio, paths, *, project, taxonomy, model, n, strategy="uncertainty", batch_size=1000,
                  cache_dir=None):
    """`slant push FILE... --select N`: push only the `n` most informative new sentences.

    The corpus is streamed (`slant.loop.select.select_informative`); each task's data carries
    ``uncertainty``, ``informativeness`` and ``selection`` for the Data Manager. Returns
    ``(PushResult, Selection)``.
    """
    target = push_target(studio, paths, project=project, taxonomy=taxonomy, batch_size=batch_size, cache_dir=cache_dir)
    selection = select_informative(read_documents(target.paths), model=model, taxonomy=taxonomy, n=n, strategy=strategy,
                                   existing=target.existing)
    labels = Counter()
    for i in range(0, len(selection.items), batch_size):
        tasks = tasks_with_predictions(selection.items[i:i + batch_size], model=model, taxonomy=taxonomy)
        target.import_tasks(studio, tasks)
        for t in tasks:
            for r in t["predictions"][0]["result"]:
                if r["type"] == "choices":
                    labels.update(taxonomy.id_for_name(name) for name in r["value"]["choices"])
    result = push_result(studio, target, model.model_version, documents=selection.documents, sentences=selection.sentences,
                          new_tasks=len(selection.items), duplicates=selection.duplicates, label_counts=dict(labels))
    return result, selection


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
            f"project {self.project_title!r} (id {self.project_id}): {self.refreshed} of {counted(self.tasks, 'task')} got "
            f"predictions from {self.model_version}",
            f"skipped: {self.annotated} annotated, {self.current} already with {self.model_version}; no task added",
            f"project model version {'set to ' + self.model_version if self.model_version_set else 'unchanged'}; "
            f"time {self.seconds:.1f} s",
            f"review queue: {self.project_url}",
        ])


def refresh_predictions(studio, *, project, taxonomy, model, all_tasks=False, batch_size=1000):
    """`slant push --refresh`: add `model`'s predictions to the project's existing tasks,
    and bring the task data fields derived from the prediction (`review_fields`: the
    review tab's labels, confidence and uncertainty) up to date with them.

    Only tasks with no annotation (none completed, none skipped) get one, unless
    `all_tasks`; a task that already has a prediction of this model version is left
    alone, so a rerun adds nothing twice. No task is created. The project's model
    version is then set, so annotators see the new predictions.
    """
    if batch_size < 1:
        raise InputError(f"--batch-size {batch_size} must be at least 1")
    began = time.perf_counter()
    proj = resolve_project(studio, project)
    proj, _, _ = ensure_project(studio, proj.title, taxonomy)  # same taxonomy, or refuse before predicting
    version = str(model.model_version)
    have = tasks_with_version(studio, proj, version)
    todo, annotated, current, total = [], 0, 0, 0
    for task_id, data, done in project_tasks(studio, proj):
        total += 1
        if task_id in have:
            current += 1
        elif done and not all_tasks:
            annotated += 1
        elif isinstance(data.get("text"), str):
            todo.append((task_id, data))
    for i in range(0, len(todo), batch_size):
        chunk = todo[i:i + batch_size]
        predictions = model.predict([d["text"] for _, d in chunk])
        request, fields = [], {}
        for (tid, d), p in zip(chunk, predictions):
            pj = prediction_json(p, text=d["text"], taxonomy=taxonomy, model_version=version, key=str(d.get("slant_id", tid)))
            request.append({"task": tid, **pj})
            fields[tid] = review_fields(p, taxonomy)
        # The review tab sorts and filters on these fields: set them before the prediction
        # goes in, so a failure in between leaves the task to the rerun (it has no
        # prediction of this version yet) and never a new prediction beside stale fields.
        add_task_data(studio, proj, fields, current=dict(chunk))
        import_predictions(studio, proj, request)
    version_set = set_review_settings(studio, proj, version) if todo or current else False
    return RefreshResult(project_id=proj.id, project_title=proj.title, project_url=studio.project_url(proj),
                         model_version=version, tasks=total, refreshed=len(todo), annotated=annotated, current=current,
                         model_version_set=version_set, seconds=time.perf_counter() - began)


def count_documents(paths):
    """How many documents `paths` hold (a line per .jsonl document, else one per file).

    Only sizes the progress bar; unreadable paths count as one and fail later, properly.
    """
    total = 0
    files = []
    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        try:
            files.extend(expand_inputs([p]))
        except InputError:
            total += 1
    for p in files:
        if p.suffix.lower() == ".jsonl" and p.is_file():
            with open(p, "rb") as fh:
                total += sum(1 for line in fh if line.strip())
        else:
            total += 1
    return total


class ConsoleProgress:
    """A `push` progress callback: a rich progress bar on a terminal, plain lines otherwise.

    `total` is the number of documents (see `count_documents`). Use as a context
    manager so the live display is always cleared. Plain lines come at most every
    `interval` seconds, so a short push prints only its summary, not the same counts twice.
    """

    def __init__(self, stream=None, *, total=None, interval=5.0):
        self.stream = stream or sys.stderr
        self.total = total
        self.interval = interval
        self._bar = self._task = None
        self._last = time.monotonic()

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
        counts = _counts(batch.documents, batch.sentences, new_tasks, batch.duplicates, self.total)
        if self._bar is not None:
            self._bar.update(self._task, completed=batch.documents, description=counts.split(", ", 1)[1])
        elif time.monotonic() - self._last >= self.interval:
            self._last = time.monotonic()
            print(f"pushing: {counts} so far", file=self.stream, flush=True)
