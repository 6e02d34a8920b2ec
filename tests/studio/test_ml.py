"""ml: what Label Studio reports about slant's ML backend, and the summary (no secret)."""

from types import SimpleNamespace as NS

from slant.studio.client import Project
from slant.studio.ml import ML_WEBHOOK_ACTIONS, MLBackend, MLConnection, ml_backends


def _sdk_backend(**over):
    fields = dict(id=4, project=3, url="http://127.0.0.1:9090", state=NS(value="CO"), readable_state="Connected",
                  model_version="v2", is_interactive=True, error_message=None)
    return NS(**{**fields, **over})


class FakeStudio:
    def __init__(self, backends):
        self.sdk = NS(ml=NS(list=lambda project: backends))

    def call(self, action, fn, *args, **kwargs):
        return fn(*args, **kwargs)


def test_ml_backends_are_plain_data():
    studio = FakeStudio([_sdk_backend(), _sdk_backend(id=5, state="ER", readable_state=None, error_message="boom")])
    ok, broken = ml_backends(studio, Project(id=3, title="p", label_config=""))
    assert ok == MLBackend(id=4, project_id=3, url="http://127.0.0.1:9090", state="CO", readable_state="Connected",
                           model_version="v2", is_interactive=True) and ok.connected
    assert (broken.state, broken.readable_state, broken.error, broken.connected) == ("ER", "ER", "boom", False)
    assert ml_backends(studio, 3) == [ok, broken]


def test_connection_summary_names_the_webhook_but_no_secret():
    backend = MLBackend(id=4, project_id=3, url="http://h:9090/", state="DI", readable_state="Disconnected")
    conn = MLConnection(project=Project(id=3, title="Harbor", label_config=""), backend=backend, created=True,
                        webhook_id=8, webhook_created=False)
    text = conn.summary()
    assert "project 'Harbor' (id 3): ML backend 4 at http://h:9090/ registered; Label Studio reports it Disconnected (not connected)" in text
    assert "webhook 8 updated: " + ", ".join(ML_WEBHOOK_ACTIONS) + " -> http://h:9090/webhook/<token>" in text
    assert "basic auth on" in text
