"""projects: the labeling config slant gives a project and what a taxonomy change may do to it."""

import json

import pytest
from label_studio_sdk.label_interface import LabelInterface

from slant.errors import InputError, StudioError
from slant.studio.projects import ensure_project, plan_config, project_config, resolve_project
from slant.taxonomy.core import load_taxonomy


def _taxonomy_variant(tmp_path, tax, name, *, version, drop=(), rename=None, migrations=()):
    data = json.loads(json.dumps(tax.raw))
    data["version"] = version
    data["categories"] = [c for c in data["categories"] if c["id"] not in drop]
    if rename:
        for c in data["categories"]:
            if c["id"] == rename[0]:
                c["id"] = rename[1]
    data["migrations"] = list(migrations)
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_taxonomy(path)


def test_plan_config(tmp_path, tax):
    current = project_config(tax)
    assert plan_config(current, tax) is None
    assert "slant:taxonomy" in current and LabelInterface(current)  # the marker keeps the config valid
    # Built by hand with the same categories: adopted.
    from slant.taxonomy.config import render_config

    assert plan_config(render_config(tax), tax) == current
    renamed = _taxonomy_variant(tmp_path, tax, "r.json", version="1.1.0", rename=("doubt", "casting_doubt"),
                                migrations=[{"from_version": "1.0.0", "op": "rename", "from": "doubt", "to": "casting_doubt"}])
    assert "casting_doubt" in plan_config(current, renamed)
    dropped = _taxonomy_variant(tmp_path, tax, "d.json", version="1.1.0", drop=("omission",))
    with pytest.raises(StudioError, match=r"removed omission; added -; but no migration says what becomes of omission"):
        plan_config(current, dropped, title="P")
    same_version = _taxonomy_variant(tmp_path, tax, "s.json", version="1.0.0", drop=("omission",),
                                     migrations=[])
    with pytest.raises(StudioError, match=r"the taxonomy version 1.0.0 is not newer than the project's 1.0.0"):
        plan_config(current, same_version)
    foreign = "<View><Text name='text' value='$text'/><Choices name='categories' toName='text'><Choice value='Spam'/></Choices></View>"
    with pytest.raises(StudioError, match=r"not set up by slant .*only in the project: Spam; only in the taxonomy: .*Loaded language"):
        plan_config(foreign, tax)
    other = current.replace('"id": "rhetoric"', '"id": "other"')
    with pytest.raises(StudioError, match=r"uses taxonomy 'other', not 'rhetoric'"):
        plan_config(other, tax)


@pytest.mark.integration
def test_taxonomy_change_updates_or_refuses(label_studio, tmp_path, tax):
    studio = label_studio.studio()
    project, created, _ = ensure_project(studio, "Taxonomy changes", tax)
    assert created
    renamed = _taxonomy_variant(tmp_path, tax, "r.json", version="1.1.0", rename=("doubt", "casting_doubt"),
                                migrations=[{"from_version": "1.0.0", "op": "rename", "from": "doubt", "to": "casting_doubt"}])
    same, created, updated = ensure_project(studio, "Taxonomy changes", renamed)
    assert (same.id, created, updated) == (project.id, False, True)
    assert '"casting_doubt"' in label_studio.client().projects.get(id=project.id).label_config
    dropped = _taxonomy_variant(tmp_path, tax, "d.json", version="1.2.0", rename=("doubt", "casting_doubt"), drop=("omission",))
    with pytest.raises(StudioError, match=r"removed omission; added -; but no migration says what becomes of omission"):
        ensure_project(studio, "Taxonomy changes", dropped)
    with pytest.raises(InputError, match=r"project name 'ab' is too short"):
        ensure_project(studio, "ab", tax)


def test_unparseable_config_is_a_foreign_one(tax):
    with pytest.raises(StudioError, match=r"not set up by slant .*only in the project: -; only in the taxonomy: .*Loaded language"):
        plan_config("<View", tax, title="P")


def test_marker_survives_double_dashes_in_names(tmp_path, tax):
    data = json.loads(json.dumps(tax.raw))
    data["categories"][0]["name"] = "Loaded -- language"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    odd = load_taxonomy(path)
    config = project_config(odd)
    assert "Loaded -- language" in config and plan_config(config, odd) is None
    assert config.count("--") == 2 + config.count("Loaded -- language")  # only the comment's own and the name's


def test_resolve_project_by_id_title_or_project():
    class FakeStudio:
        url = "http://ls"

        def project(self, pid):
            return ("by id", pid)

        def find_project(self, title):
            return ("by title", title) if title == "Harbor" else None

    studio = FakeStudio()
    assert resolve_project(studio, 12) == ("by id", 12) and resolve_project(studio, "12") == ("by id", 12)
    assert resolve_project(studio, "Harbor") == ("by title", "Harbor")
    with pytest.raises(StudioError, match=r"no project called 'Nope' on http://ls; create it with `slant push FILE --project 'Nope'`"):
        resolve_project(studio, "Nope")


def test_a_bad_columns_answer_gets_one_clear_message(monkeypatch):
    import httpx

    from slant.errors import StudioError
    from slant.studio.client import Project, Studio
    from slant.studio.projects import data_columns

    studio = Studio("http://127.0.0.1:9", "token")
    answers = []
    monkeypatch.setattr(studio.sdk._client_wrapper.httpx_client, "request", lambda *a, **k: answers.pop(0))
    project = Project(id=7, title="p", label_config="<View/>", task_count=1)
    answers.append(httpx.Response(200, json={"columns": [{"id": "text", "parent": "data"}, {"id": "id"}]}))
    assert data_columns(studio, project) == ["text"]
    answers.append(httpx.Response(500, json={"detail": "database is locked"}))
    with pytest.raises(StudioError, match=r"rejected the request to list the Data Manager's columns \(HTTP 500\): "
                                          r".*database is locked"):
        data_columns(studio, project)
    answers.append(httpx.Response(200, text="<html>a proxy page</html>"))
    with pytest.raises(StudioError, match=r"answered the request to list the Data Manager's columns with something that "
                                          r"is not its JSON \('<html>a proxy page</html>'\); check that .* is Label Studio"):
        data_columns(studio, project)


def test_a_failed_read_of_the_review_tab_gets_one_line_with_the_next_step(monkeypatch):
    import httpx

    from slant.studio.client import Project, Studio
    from slant.studio.projects import hide_new_columns

    studio = Studio("http://127.0.0.1:9", "token")
    asked = []

    def request(path, *, method, **kwargs):
        asked.append((method, path))
        if path == "api/dm/columns/":
            return httpx.Response(200, json={"columns": [{"id": "text", "parent": "data"}, {"id": "outlet", "parent": "data"}]})
        raise httpx.ReadError("connection reset by peer")  # the tab read: the server went away

    monkeypatch.setattr(studio.sdk._client_wrapper.httpx_client, "request", request)
    project = Project(id=7, title="Harbor", label_config="<View/>", task_count=3)
    with pytest.raises(StudioError) as failed:
        hide_new_columns(studio, project, 5, before=["text"])
    message = str(failed.value)
    assert message == ("Label Studio at http://127.0.0.1:9 stopped answering while it was asked to read the review queue "
                       "tab (ReadError); check that it is running, then rerun the same command: finished work is kept "
                       "and nothing is sent twice")
    assert failed.value.__suppress_context__ and asked == [("GET", "api/dm/columns/"), ("GET", "api/dm/views/5/")]
