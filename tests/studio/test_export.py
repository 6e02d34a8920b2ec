"""export: streaming a Label Studio JSON export file, and taking a snapshot (fake server)."""

import json

import pytest

from slant.errors import DataError, InputError, StudioError
from slant.studio.client import Project
from slant.studio.export import export_snapshot, iter_export

TASKS = [
    {"id": 1, "project": 7, "data": {"text": "The council slashed the budget.", "slant_id": "a"},
     "annotations": [{"id": 10, "completed_by": {"id": 1, "email": "a@x.org"}, "was_cancelled": False,
                      "result": [{"from_name": "categories", "to_name": "text", "type": "choices",
                                  "value": {"choices": ["Loaded language"]}}]}],
     "predictions": []},
    {"id": 2, "project": 7, "data": {"text": "Critics say it is a “scheme” 😀.", "n": 1.5e3, "flag": True, "none": None},
     "annotations": [], "predictions": [{"model_version": "m1", "score": 0.4, "result": []}]},
]


def test_iter_export_yields_each_task(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(TASKS, indent=2, ensure_ascii=False), encoding="utf-8")
    assert list(iter_export(path)) == TASKS
    path.write_text("[]", encoding="utf-8")
    assert list(iter_export(path)) == []


def test_streaming_reads_tasks_across_small_chunks(tmp_path):
    tasks = [dict(TASKS[i % 2], id=i) for i in range(50)]
    path = tmp_path / "e.json"
    path.write_text(json.dumps(tasks, indent=1), encoding="utf-8")
    assert list(iter_export(path, chunk=7)) == tasks  # objects split anywhere, numbers at chunk ends
    (tmp_path / "n.json").write_text("[\n 12345 ]")
    with pytest.raises(DataError, match="found int"):
        list(iter_export(tmp_path / "n.json", chunk=2))


@pytest.mark.parametrize("content,message", [
    ('{"tasks": []}', r"expected a JSON array of tasks"),
    ('[{"id": 1}, ', r"the array is not closed: the file is truncated"),
    ('[{"id": 1, "data": {"text": "a"', r"is the file truncated\?"),
    ('[{"id": 1} {"id": 2}]', r"expected ',' or '\]', found '\{'"),
    ('', r"expected a JSON array of tasks at character 0"),
])
def test_malformed_files_name_the_place(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        list(iter_export(path))


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(InputError, match=r"nope.json: no such file; check the path of the Label Studio JSON export"):
        list(iter_export(tmp_path / "nope.json"))
    (tmp_path / "bin.json").write_bytes(b"[\xff\xfe]")
    with pytest.raises(DataError, match=r"not UTF-8"):
        list(iter_export(tmp_path / "bin.json"))


class _Snap:
    def __init__(self, status):
        self.id, self.status = 5, status


class _Exports:
    def __init__(self, statuses, chunks):
        self.statuses, self.chunks, self.created = list(statuses), chunks, None

    def create(self, *, id, title, serialization_options):
        self.created = (id, title, serialization_options)
        return _Snap(self.statuses.pop(0))

    def get(self, *, id, export_pk):
        return _Snap(self.statuses.pop(0))

    def download(self, *, id, export_pk, export_type, request_options):
        assert (id, export_pk, export_type) == (7, 5, "JSON")
        yield from self.chunks


class _Studio:
    url = "http://ls"

    def __init__(self, exports):
        self.sdk = type("Sdk", (), {"projects": type("Projects", (), {"exports": exports})()})()

    def call(self, action, fn, *args, **kwargs):
        return fn(*args, **kwargs)


def test_export_snapshot_waits_then_streams_to_the_file(tmp_path):
    exports = _Exports(["created", "in_progress", "completed"], [b"[", json.dumps(TASKS[0]).encode(), b"]"])
    project = Project(id=7, title="Harbor", label_config="")
    dest = tmp_path / "export.json"
    written = export_snapshot(_Studio(exports), project, dest, poll=0)
    assert written == dest.stat().st_size and list(iter_export(dest)) == [TASKS[0]]
    pid, title, options = exports.created
    assert pid == 7 and title.startswith("slant pull ")
    assert options == {"predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}}


def test_export_snapshot_failures_say_what_to_do(tmp_path):
    project = Project(id=7, title="Harbor", label_config="")
    with pytest.raises(StudioError, match=r"could not build the export snapshot 5 of project 'Harbor' \(status failed\)"):
        export_snapshot(_Studio(_Exports(["failed"], [])), project, tmp_path / "e.json", poll=0)
    with pytest.raises(StudioError, match=r"was not ready after -1 s \(status queued\); the server is busy"):
        export_snapshot(_Studio(_Exports(["queued"] * 3, [])), project, tmp_path / "e.json", poll=0, timeout=-1)
