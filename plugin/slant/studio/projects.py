"""Label Studio projects as slant sets them up: the labeling config (with a marker naming
the taxonomy), the review tab (least certain first, the sentence in the first column),
sequential sampling in that order, and finding a project by title or id.

>>> project, created, config_updated = ensure_project(studio, "Harbor review", taxonomy)
>>> view_id = ensure_review_view(studio, project)
"""

import json
import re

from slant.errors import DataError, InputError, StudioError
from slant.studio.client import Project, every_item
from slant.studio.lsformat import config_names
from slant.taxonomy.config import render_config

__all__ = [
    "AUDIT_VIEW_TITLE", "REVIEW_COLUMNS", "REVIEW_VIEW_TITLE", "check_project_title", "data_columns", "ensure_audit_view", "ensure_project",
    "ensure_review_view", "hide_new_columns", "plan_config", "project_config", "project_list", "project_titles", "resolve_project", "review_view_data",
    "set_review_settings", "user_emails",
]

REVIEW_VIEW_TITLE = "Review queue — least certain first"
AUDIT_VIEW_TITLE = "Audit sample"
# "Label All Tasks" then follows the review tab's order (by slant_uncertainty). Label
# Studio's uncertainty sampling would order by the prediction score, which is the
# confidence of the shown labels, not how unsure the model is about the sentence.
_SAMPLING = "Sequential sampling"
# The review tab's visible columns, in this order. Label Studio 1.23 draws its own task
# columns (ID, counts, ...) before every data column and has no column-order setting, so
# the tab hides those (the Columns menu brings them back) and the labels and confidence
# travel in the task data (`slant.loop.prelabel`). Data fields come in the order Label
# Studio stores their names: the tasks' order on SQLite, but shortest name first on
# PostgreSQL (jsonb), where a document's "doc_title", "outlet" or "url" would come
# before "slant_labels". So every other data field a push brings is hidden in this tab
# too (`hide_new_columns`); these four sort in this order either way.
REVIEW_COLUMNS = ("text", "slant_labels", "slant_confidence", "slant_uncertainty")
_LS_TASK_COLUMNS = (
    "id", "inner_id", "completed_at", "total_annotations", "cancelled_annotations", "total_predictions", "annotators",
    "annotations_results", "annotations_ids", "predictions_score", "predictions_model_versions", "predictions_results",
    "file_upload", "storage_filename", "created_at", "updated_at", "updated_by", "avg_lead_time", "draft_exists",
)
# Data fields a reviewer does not need in the list (the labeling view shows the context).
_HIDDEN_DATA = ("context_before", "context_after", "doc_id", "sentence_index", "start", "end", "source", "slant_id",
                "uncertainty", "informativeness", "selection", "slant_audit", "slant_audit_p", "slant_audit_stratum",
                "slant_audit_design")
_ORDER = "tasks:data.slant_uncertainty"
_MARKER = re.compile(r"<!-- slant:taxonomy (\{.*?\}) -->", re.S)


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
        try:
            have = config_names(current)
        except DataError:  # not XML: every category differs
            have = set(), set()
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


_UNKNOWN = object()


def check_project_title(title):
    """`InputError` when Label Studio would refuse `title` as a project name (checked before
    a model loads or the server is asked)."""
    if len(title.strip()) < 3:
        raise InputError(f"project name {title!r} is too short; Label Studio needs at least 3 characters: "
                         "pass a longer --project name")


def ensure_project(studio, title, taxonomy, *, found=_UNKNOWN):
    """``(project, created, config_updated)``: find or create the project for `taxonomy`.

    `found` is what ``studio.find_project(title)`` just returned, when the caller has
    looked already (listing projects is one of Label Studio's slower requests)."""
    check_project_title(title)
    description = f"Sentences pre-labelled by slant (taxonomy {taxonomy.id} {taxonomy.version})."
    project = studio.find_project(title) if found is _UNKNOWN else found
    if project is None:
        created = studio.call(
            f"create project {title!r}", studio.sdk.projects.create,
            title=title, label_config=project_config(taxonomy), description=description, sampling=_SAMPLING,
        )
        return studio.project(created.id), True, False
    new_config = plan_config(project.label_config, taxonomy, title=title)
    if new_config is not None:
        studio.call(f"update the labeling config of {title!r}", studio.sdk.projects.update, id=project.id, label_config=new_config, description=description)
        return studio.project(project.id), False, True
    return project, False, False


def review_view_data():
    """The review tab: least certain first (``slant_uncertainty`` descending, as a number),
    the sentence, the predicted categories and their confidence as the first columns."""
    hidden = [f"tasks:{c}" for c in _LS_TASK_COLUMNS] + [f"tasks:data.{c}" for c in _HIDDEN_DATA]
    return {
        "title": REVIEW_VIEW_TITLE,
        "ordering": [f"-{_ORDER}"],
        "hiddenColumns": {"explore": hidden, "labeling": hidden},
        "columnsDisplayType": {_ORDER: "Number", "tasks:data.slant_confidence": "Number"},
        "columnsWidth": {"tasks:data.text": 640, "tasks:data.slant_labels": 260},
    }


def ensure_review_view(studio, project):
    """The id of the review Data Manager tab: created when missing; a tab of an older slant
    (ordered by prediction score) is brought to `review_view_data`; others are left alone."""
    views = studio.call("list Data Manager tabs", studio.sdk.views.list, project=project.id)
    for v in views:
        data = v.data or {}
        if data.get("title") == REVIEW_VIEW_TITLE:
            if data.get("ordering") == ["tasks:predictions_score"]:
                studio.call("update the review queue tab", studio.sdk.views.update, id=v.id, project=project.id,
                            data=review_view_data())
            return int(v.id)
    return int(studio.call("create the review queue tab", studio.sdk.views.create, project=project.id,
                           data=review_view_data()).id)


def data_columns(studio, project):
    """The project's task data fields, in the order the Data Manager lists them
    (``/api/dm/columns``, which the SDK does not wrap)."""
    from label_studio_sdk.core import ApiError

    def read():
        response = studio.sdk._client_wrapper.httpx_client.request("api/dm/columns/", method="GET",
                                                                   params={"project": project.id})
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        if not 200 <= response.status_code < 300:
            raise ApiError(status_code=response.status_code, body=body)
        if not isinstance(body, dict):
            raise StudioError(f"Label Studio at {studio.url} answered the request to list the Data Manager's columns "
                              f"with something that is not its JSON ({str(body)[:80]!r}); check that {studio.url} is "
                              "Label Studio 1.23 or later, then rerun the same command: nothing is sent twice")
        return [c["id"] for c in body.get("columns", []) if c.get("parent") == "data"]

    return studio.call("list the Data Manager's columns", read)


def hide_new_columns(studio, project, view_id, before):
    """Hide in the review tab every data field the project has now and did not have in
    `before` (its `data_columns` then), except `REVIEW_COLUMNS`; a field someone chose to
    show again in the tab stays shown. Returns the fields hidden."""
    before = set(before)
    new = [c for c in data_columns(studio, project) if c not in before and c not in REVIEW_COLUMNS]
    if not new:
        return []
    view = studio.call("read the review queue tab", studio.sdk.views.get, id=view_id)
    data = dict(view.data or {})
    hidden = dict(data.get("hiddenColumns") or {})
    for kind in ("explore", "labeling"):
        have = list(hidden.get(kind) or [])
        hidden[kind] = have + [f"tasks:data.{c}" for c in new if f"tasks:data.{c}" not in have]
    studio.call("update the review queue tab", studio.sdk.views.update, id=view_id, project=project.id,
                data={**data, "hiddenColumns": hidden})
    return new


def ensure_audit_view(studio, project):
    """The id of the Data Manager tab of the audit sample: tasks whose data has
    ``slant_audit`` true (created when missing)."""
    views = studio.call("list Data Manager tabs", studio.sdk.views.list, project=project.id)
    for v in views:
        if (v.data or {}).get("title") == AUDIT_VIEW_TITLE:
            return int(v.id)
    data = {"title": AUDIT_VIEW_TITLE,
            "filters": {"conjunction": "and", "items": [
                {"filter": "filter:tasks:data.slant_audit", "operator": "equal", "type": "Boolean", "value": True}]}}
    return int(studio.call("create the audit sample tab", studio.sdk.views.create, project=project.id, data=data).id)


def set_review_settings(studio, project, model_version):
    """Point the project at `model_version` and at sequential sampling (the review tab's order).

    Label Studio accepts a model version only once predictions carry it; returns False
    (and changes only the sampling) when none does yet.
    """
    try:
        studio.call("set the model version", studio.sdk.projects.update, id=project.id, model_version=model_version, sampling=_SAMPLING)
        return True
    except StudioError:
        studio.call("set sequential sampling", studio.sdk.projects.update, id=project.id, sampling=_SAMPLING)
        return False


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


def project_titles(studio):
    """Titles of every project on the server (for 'did you mean' messages)."""
    return [title for _, title in project_list(studio)]


def project_list(studio):
    """``[(id, title)]`` of every project on the server, newest first (for 'did you mean' messages)."""
    found = studio.call("list projects", lambda: every_item(studio.sdk.projects.list(page_size=100), 100))
    return sorted(((int(p.id), p.title or "") for p in found), reverse=True)


def user_emails(studio):
    """``{user id: email}`` of the server's users: snapshots name annotators by id only."""
    users = studio.call("list users", studio.sdk.users.list)
    return {int(u.id): u.email for u in users if u.id is not None and u.email}
