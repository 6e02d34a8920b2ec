"""tasks: the ledger of pushed ids, reading existing ids, importing tasks (fake server)."""

from types import SimpleNamespace as NS

import pytest
from label_studio_sdk.core.pagination import SyncPager

from slant.studio.client import Project, every_item
from slant.studio.tasks import Ledger, existing_slant_ids, import_predictions, import_tasks, project_tasks, tasks_with_version


class FakeStudio:
    """Answers the few SDK calls slant.studio.tasks makes, from an in-memory task list."""

    url = "http://ls"

    def __init__(self, tasks, *, total=True):
        self.tasks, self.listed, self.imported, self.predictions = tasks, 0, [], []
        self.pages = []        # (page, page_size) of every list request
        self.total = total     # does a page carry the list's total, as Label Studio's task list does?
        self.sdk = NS(tasks=NS(list=self._list), projects=NS(import_tasks=self._import, import_predictions=self._predict))

    def call(self, action, fn, *args, **kwargs):
        return fn(*args, **kwargs)

    def _list(self, *, project, fields, include, page_size, query=None, page=1):
        """A page as the SDK's pager gives it: it asks for the next one while a page is not
        empty, and Label Studio answers a page past the last with 404."""
        self.listed += 1
        self.pages.append((page, page_size))
        if page_size == 1:  # the newest task
            return NS(items=[max(self.tasks, key=lambda t: t.id)] if self.tasks else [])
        if page > 1 and (page - 1) * page_size >= len(self.tasks):
            raise AssertionError(f"asked for page {page} past the last ({len(self.tasks)} tasks): Label Studio answers 404")
        items = self.tasks[(page - 1) * page_size:page * page_size]
        response = NS(tasks=items, total=len(self.tasks) if self.total else None)
        return SyncPager(has_next=bool(items), items=items, response=response,
                         get_next=lambda: self._list(project=project, fields=fields, include=include, page_size=page_size,
                                                     query=query, page=page + 1))

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


@pytest.mark.parametrize(("n", "total"), [(0, True), (1, True), (999, True), (1000, True), (1001, True), (2500, True),
                                        (1, False), (2500, False)])
def test_pagers_ask_for_no_page_past_the_last(n, total):
    # The SDK's pager asks for the page after every non-empty one; Label Studio answers 404 there.
    from slant.studio.tasks import PAGE_SIZE

    tasks = [NS(id=i + 1, data={"slant_id": f"s{i}"}, total_annotations=0, cancelled_annotations=0,
                predictions_model_versions="m1") for i in range(n)]
    pages = max(1, -(-n // PAGE_SIZE))  # the pages the tasks fill, one even when there are none
    for read in (lambda st: existing_slant_ids(st, _project(n + 1)), lambda st: project_tasks(st, _project(n)),
                 lambda st: tasks_with_version(st, _project(n), "m1")):
        studio = FakeStudio(tasks, total=total)
        assert len(read(studio)) == n
        assert [p for p in studio.pages if p[1] != 1] == [(p, PAGE_SIZE) for p in range(1, pages + 1)]


def test_every_item_stops_at_the_count_or_a_short_page():
    class Pages:
        def __init__(self, sizes, count):
            self.sizes, self.count, self.asked = sizes, count, 0

        def iter_pages(self):
            for size in self.sizes:
                self.asked += 1
                yield NS(items=list(range(size)), response=NS(count=self.count))

    full = Pages([100, 100, 40, 0], count=240)
    assert len(every_item(full, 100)) == 240 and full.asked == 3
    capped = Pages([100, 100, 40, 0], count=240)  # the server caps pages at 100: its count says to go on
    assert len(every_item(capped, 1000)) == 240 and capped.asked == 3
    no_count = Pages([100, 100, 40, 0], count=None)
    assert len(every_item(no_count, 100)) == 240 and no_count.asked == 3
    empty = Pages([0], count=0)
    assert every_item(empty, 100) == [] and empty.asked == 1
