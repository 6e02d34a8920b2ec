"""A project's tasks: the slant ids it already holds (with a local ledger that spares
reading them back), importing tasks and predictions, and reading tasks for a refresh.

>>> ledger = Ledger(cache_dir, studio.url, project)
>>> have = set(existing_slant_ids(studio, project, ledger).values())
>>> import_tasks(studio, project, tasks, ledger)
"""

import hashlib
import json
from pathlib import Path

from slant.studio.client import every_item

__all__ = ["Ledger", "add_task_data", "all_tasks", "existing_slant_ids", "import_predictions", "import_tasks", "project_tasks", "tasks_with_version"]


class Ledger:
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


PAGE_SIZE = 1000  # tasks per page read


def all_tasks(studio, action, project, *, include, query=None):
    """Every task of `project` (only `include`'s fields; `query` a Data Manager filter), read
    a page at a time, asking for no page past the last (`slant.studio.client.every_item`)."""
    params = {"query": json.dumps(query)} if query is not None else {}

    def read():
        pager = studio.sdk.tasks.list(project=project.id, fields="task_only", include=include, page_size=PAGE_SIZE, **params)
        return every_item(pager, PAGE_SIZE)

    return studio.call(action, read)


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
    for task in all_tasks(studio, "read existing tasks", project, include="id,data"):
        pairs[int(task.id)] = (task.data or {}).get("slant_id") or ""
    if ledger:
        ledger.write(sorted(pairs.items()), mode="w")
    return pairs


def import_tasks(studio, project, tasks, ledger=None):
    """One synchronous import of `tasks` into `project`; returns the new task ids, which
    also go to `ledger`. Never retried: a retried import could duplicate tasks."""
    response = studio.call(
        f"import {len(tasks)} tasks", studio.sdk.projects.import_tasks, id=project.id, request=tasks,
        return_task_ids=True, request_options={"max_retries": 0},
    )
    ids = list(response.task_ids or [])
    if ledger and len(ids) == len(tasks):
        ledger.write(zip(ids, (t["data"]["slant_id"] for t in tasks)))
    return ids


def project_tasks(studio, project):
    """``[(task id, data, annotations)]`` of every task in `project`; annotations counts the
    completed and the skipped (cancelled) ones."""
    tasks = all_tasks(studio, "read the project's tasks", project, include="id,data,total_annotations,cancelled_annotations")
    return [(int(t.id), t.data or {},
             int(getattr(t, "total_annotations", 0) or 0) + int(getattr(t, "cancelled_annotations", 0) or 0))
            for t in tasks]


def tasks_with_version(studio, project, version):
    """Ids of the tasks that have a prediction of `version`, by a Data Manager filter.

    Label Studio fills ``predictions_model_versions`` only for a column it filters or
    orders by, and its "contains" is a substring match: the ids come back with the
    column, which is checked for the exact version.
    """
    query = {"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:predictions_model_versions",
                                                          "operator": "contains", "type": "List", "value": [version]}]}}
    ids = set()
    for task in all_tasks(studio, "find tasks with this model version", project, include="id,predictions_model_versions",
                           query=query):
        extra = getattr(task, "model_extra", None) or {}
        versions = getattr(task, "predictions_model_versions", None) or extra.get("predictions_model_versions") or ""
        if isinstance(versions, str):
            versions = [v.strip() for v in versions.split(",")]
        if version in versions:
            ids.add(int(task.id))
    return ids


def import_predictions(studio, project, predictions):
    """Add `predictions` (``{"task": id, "model_version", "score", "result"}``) to `project`'s
    tasks; never retried, so none is added twice."""
    studio.call(f"import {len(predictions)} predictions", studio.sdk.projects.import_predictions, id=project.id,
                request=predictions, request_options={"max_retries": 0})


def add_task_data(studio, project, fields_by_task, current=None):
    """Merge ``{task id: {field: value}}`` into those tasks' data (a task whose fields
    already hold these values is left alone; one PATCH per changed task: Label Studio has no
    bulk update of task data); returns how many tasks changed. `current` (``{task id:
    data}``, when the caller has just read it) saves reading each task again."""
    changed = 0
    for task_id, fields in sorted(fields_by_task.items()):
        if current is not None and task_id in current:
            data = dict(current[task_id] or {})
        else:
            data = dict(studio.call(f"read task {task_id}", studio.sdk.tasks.get, id=task_id).data or {})
        if all(data.get(k) == v for k, v in fields.items()):
            continue
        studio.call(f"update task {task_id}", studio.sdk.tasks.update, id=task_id, data={**data, **fields})
        changed += 1
    return changed
