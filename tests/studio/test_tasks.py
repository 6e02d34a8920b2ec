"""tasks: the ledger of pushed ids, reading existing ids, importing tasks (fake server)."""

from types import SimpleNamespace as NS

from slant.studio.client import Project
from slant.studio.tasks import Ledger, existing_slant_ids, import_predictions, import_tasks, project_tasks, tasks_with_version


class FakeStudio:
    """Answers the few SDK calls slant.studio.tasks makes, from an in-memory task list."""

    url = "http://ls"

    def __init__(self, tasks):
        self.tasks, self.listed, self.imported, self.predictions = tasks, 0, [], []
        self.sdk = NS(tasks=NS(list=self._list), projects=NS(import_tasks=self._import, import_predictions=self._predict))

    def call(self, action, fn, *args, **kwargs):
        return fn(*args, **kwargs)

    def _list(self, *, project, fields, include, page_size, query=None):
        self.listed += 1
        if page_size == 1:  # the newest task
            return NS(items=[max(self.tasks, key=lambda t: t.id)] if self.tasks else [])
        return iter(self.tasks)

    def _import(self, *, id, request, return_task_ids, request_options):
        assert request_options == {"max_retries": 0}  # a retried import could duplicate tasks
        start = max((t.id for t in self.tasks), default=0) + 1
        ids = list(range(start, start + len(request)))
        self.tasks += [NS(id=i, data=t["data"]) for i, t in zip(ids, request)]
        self.imported.append(request)
        return NS(task_ids=ids)

    def _predict(self, *, id, request, request_options):
        self.predictions.append((id, request))


def _project(n):
    return Project(id=3, title="Harbor", label_config="", task_count=n, created_at="2024-01-01")


def test_ledger_spares_reading_tasks_back_until_the_server_disagrees(tmp_path):
    studio = FakeStudio([])
    ledger = Ledger(tmp_path, studio.url, _project(0))
    assert existing_slant_ids(studio, _project(0), ledger) == {} and ledger.load() == {}
    ids = import_tasks(studio, _project(0), [{"data": {"slant_id": "a"}}, {"data": {"slant_id": "b"}}], ledger)
    assert ids == [1, 2] and ledger.load() == {1: "a", 2: "b"}
    listed = studio.listed
    assert existing_slant_ids(studio, _project(2), ledger) == {1: "a", 2: "b"}
    assert studio.listed == listed + 1  # only the newest task was read
    studio.tasks.append(NS(id=9, data={"slant_id": "c"}))  # pushed by someone else: counts differ
    assert existing_slant_ids(studio, _project(3), ledger) == {1: "a", 2: "b", 9: "c"}
    assert ledger.load() == {1: "a", 2: "b", 9: "c"}  # rebuilt from the server


def test_ledger_ignores_broken_lines_and_is_keyed_by_server_and_project(tmp_path):
    a = Ledger(tmp_path, "http://ls", _project(0))
    assert a.path != Ledger(tmp_path, "http://other", _project(0)).path
    a.path.parent.mkdir(parents=True)
    a.path.write_text("1\tx\nnot a line\n2\t\n3\ty\n", encoding="utf-8")
    assert a.load() == {1: "x", 3: "y"}


def test_project_tasks_and_versions():
    studio = FakeStudio([NS(id=1, data={"text": "a"}, total_annotations=1, cancelled_annotations=1,
                            predictions_model_versions="m1, m2"),
                         NS(id=2, data=None, total_annotations=0, cancelled_annotations=None,
                            model_extra={"predictions_model_versions": ["m1"]})])
    assert project_tasks(studio, _project(2)) == [(1, {"text": "a"}, 2), (2, {}, 0)]
    assert tasks_with_version(studio, _project(2), "m2") == {1} and tasks_with_version(studio, _project(2), "m1") == {1, 2}
    assert tasks_with_version(studio, _project(2), "m") == set()  # exact versions, not substrings
    import_predictions(studio, _project(2), [{"task": 1, "result": []}])
    assert studio.predictions == [(3, [{"task": 1, "result": []}])]
