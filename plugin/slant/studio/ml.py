"""slant's live ML backend as a Label Studio project sees it: registering it (with the
annotation webhook), listing it, and fetching a newly promoted model's predictions.

>>> connection = connect_ml_backend(studio, "Harbor review", url=backend_url, username=user,
...                                 password=password, webhook_url=hook)
>>> print(connection.summary())
"""

from dataclasses import dataclass

from slant.studio.client import Project
from slant.studio.projects import resolve_project, set_review_settings
from slant.studio.tasks import all_tasks

__all__ = ["ML_WEBHOOK_ACTIONS", "MLBackend", "MLConnection", "connect_ml_backend", "ml_backends", "refresh_live_predictions"]

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
    ids = [int(t.id) for t in all_tasks(studio, "list unannotated tasks", proj, include="id", query={"filters": filters})]
    for i in range(0, len(ids), chunk):
        studio.call("retrieve predictions", studio.sdk.actions.create, id="retrieve_tasks_predictions", project=proj.id,
                    selected_items={"all": False, "included": ids[i:i + chunk]})
    live = {b.title for b in studio.call("list ML backends", studio.sdk.ml.list, project=proj.id) if b.title}
    # A project whose model version is a backend's title already shows that backend's
    # current predictions ("live"); otherwise point it at the new version.
    if ids and proj.model_version not in live:
        set_review_settings(studio, proj, model_version)
    return len(ids)
