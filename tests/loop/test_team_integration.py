"""A coding team on a real Label Studio, on SQLite and on PostgreSQL (`studio_db`).

Accounts from `slant team add`, blind double-coding from `slant push --overlap 2` (the
label stream serves each coder only their own annotation, and stops at two coders),
adjudication (`slant adjudicate`, `slant pull --policy adjudicated`), eight coders
annotating at once, and a crash (SIGKILL to Label Studio and its PostgreSQL) in the middle
of annotating: every acknowledged annotation is there after the restart.
"""

import json
import os
import stat
import uuid

import httpx
import pytest

from helpers.coders import make_coders, make_tasks, pulled_counts, run_coders
from slant.cli.main import main
from slant.loop.pull import pull_records
from slant.studio.projects import ensure_project
from slant.taxonomy.core import load_taxonomy

pytestmark = pytest.mark.integration

ARTICLE = """Harbor council weighs bypass

The council in Harbor City will vote on the bypass plan on Monday. Critics say the reckless scheme will ruin the town.
Officials admitted the budget had doubled. Some people say the mayor hid the costs. The meeting starts at 6 p.m.
"""
LOAD_SECONDS = float(os.environ.get("SLANT_TEAM_LOAD_SECONDS", "20"))


def _choices(*names):
    return [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": list(names)}}]


def _next(url, key, pid):
    r = httpx.get(f"{url}/api/projects/{pid}/next", headers={"Authorization": f"Token {key}"}, timeout=120)
    return r.json() if r.status_code == 200 else None


def _post(url, key, tid, result):
    r = httpx.post(f"{url}/api/tasks/{tid}/annotations/", json={"result": result},
                   headers={"Authorization": f"Token {key}"}, timeout=120)
    assert r.status_code == 201, r.text


def test_team_overlap_adjudication(studio_db, tmp_path, monkeypatch, capsys, default_model_cache):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # no promoted model: push uses the seed model
    monkeypatch.setenv("SLANT_CACHE_DIR", str(default_model_cache))
    tax = load_taxonomy()
    loaded, vague = tax.category("loaded_language").name, tax.category("attribution_vague").name
    target = ["--url", studio_db.url, "--api-key", studio_db.api_key]
    tag = uuid.uuid4().hex[:6]
    doc = tmp_path / "harbor.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    title = f"team {tag}"
    assert main(["push", str(doc), "--project", title, "--overlap", "2", *target]) == 0
    sdk = studio_db.client()
    project = studio_db.studio().find_project(title)
    settings = sdk.projects.get(id=project.id)
    assert (settings.maximum_annotations, settings.overlap_cohort_percentage, settings.show_overlap_first,
            settings.show_collab_predictions) == (2, 100, True, False)

    emails = [f"ana-{tag}@example.org", f"bo-{tag}@example.org", f"cy-{tag}@example.org"]
    capsys.readouterr()
    assert main(["team", "add", *emails, "--project", title, *target]) == 0
    out = capsys.readouterr().out
    store = next((tmp_path / "config" / "slant" / "team").glob("*.json"))
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    accounts = json.loads(store.read_text())["accounts"]
    assert set(accounts) == set(emails)
    assert not any(a["password"] in out or a["api_key"] in out for a in accounts.values())  # never printed
    before = store.read_text()
    assert main(["team", "add", emails[0], *target]) == 0  # a rerun makes nothing twice
    assert "already members" in capsys.readouterr().out and store.read_text() == before
    assert main(["team", "add", "not-an-address", *target]) == 1
    assert "not an email address: 'not-an-address'" in capsys.readouterr().err
    assert main(["team", "list", *target]) == 0
    listed = capsys.readouterr().out
    assert all(f"{e} (made by slant team add" in listed for e in emails) and studio_db.email in listed
    assert main(["team", "invite", *target]) == 0
    assert capsys.readouterr().out.strip().startswith(f"{studio_db.url}/user/signup/?token=")
    (ana, bo, cy) = (accounts[e]["api_key"] for e in emails)
    assert studio_db.client(api_key=ana).users.whoami().email == emails[0]  # the login works

    # Blind double-coding through the label stream: each coder is served only their own work.
    tasks = sorted(t.id for t in sdk.tasks.list(project=project.id, fields="task_only"))
    plan = {}
    for key, email, disagree in ((ana, emails[0], False), (bo, emails[1], True)):
        served = 0
        while (task := _next(studio_db.url, key, project.id)) is not None:
            assert [a for a in task.get("annotations", []) if a["completed_by"] != accounts[email]["id"]] == []
            assert task.get("predictions", []) == []  # pre-annotations hidden while coding blind
            names = (vague,) if disagree and task["id"] % 2 else (loaded,)
            _post(studio_db.url, key, task["id"], _choices(*names))
            plan.setdefault(task["id"], {})[email] = names
            served += 1
        assert served == len(tasks)
    assert _next(studio_db.url, cy, project.id) is None  # two coders each: nothing left for a third
    disputed = sorted(t for t in tasks if t % 2)

    assert main(["adjudicate", "--project", title, *target]) == 0
    assert f"{len(disputed)} of {len(tasks)} multiply-coded tasks" in capsys.readouterr().out
    view = next(v for v in sdk.views.list(project=project.id) if v.data["title"].startswith("Adjudication"))
    listed = {t.id: t.data for t in sdk.tasks.list(project=project.id, view=view.id, fields="all")}
    assert sorted(listed) == disputed
    first = listed[disputed[0]]
    assert first["slant_coders"] == f"{emails[0]}: loaded_language | {emails[1]}: attribution_vague"
    assert main(["adjudicate", "--project", title, *target]) == 0
    assert "0 tasks updated" in capsys.readouterr().out  # a rerun writes nothing twice

    # The adjudicator (the admin here) settles one disputed task with a third answer.
    epistemic = tax.category("epistemic_framing").name
    _post(studio_db.url, studio_db.api_key, disputed[0], _choices(epistemic))
    out_file = tmp_path / "reviewed.jsonl"
    assert main(["pull", "--project", title, "--policy", "adjudicated", "--out", str(out_file), *target]) == 0
    records = {r["task_id"]: r for r in map(json.loads, out_file.read_text().splitlines())}
    settled = records[disputed[0]]
    assert (settled["labels"], settled["policy"]) == (["epistemic_framing"], "adjudicated")
    assert sorted(a["annotator"] for a in settled["annotations"]) == emails[:2]  # every coder kept
    assert settled["adjudication"]["labels"] == ["epistemic_framing"]
    for tid in disputed[1:]:  # not adjudicated yet: majority of two who differ -> only what both chose
        assert (records[tid]["policy"], records[tid]["labels"]) == ("majority", [])
    for tid in set(tasks) - set(disputed):
        assert records[tid]["labels"] == ["loaded_language"] and len(records[tid]["annotations"]) == 2

    # What Community does NOT enforce (docs/team.md): a coder's token reads every annotation
    # of a task, and the API accepts a third coder on a 2-coder task.
    seen = httpx.get(f"{studio_db.url}/api/tasks/{disputed[0]}", headers={"Authorization": f"Token {bo}"}, timeout=120)
    assert {a["completed_by"] if isinstance(a["completed_by"], int) else a["completed_by"]["id"]
            for a in seen.json()["annotations"]} >= {accounts[emails[0]]["id"], accounts[emails[1]]["id"]}
    agreed = min(set(tasks) - set(disputed))
    _post(studio_db.url, cy, agreed, _choices(loaded))
    assert len(sdk.tasks.get(id=agreed).annotations) == 3


def _review_tab_columns(live, project_id):
    """The review tab's visible columns, in the order Label Studio's Data Manager lists them
    (`/api/dm/columns`, minus the tab's hidden columns); data columns as their field name."""
    from slant.studio.projects import REVIEW_VIEW_TITLE

    sdk = live.client()
    (view,) = [v for v in sdk.views.list(project=project_id) if v.data.get("title") == REVIEW_VIEW_TITLE]
    hidden = set(sdk.views.get(id=view.id).data["hiddenColumns"]["explore"])
    r = httpx.get(f"{live.url}/api/dm/columns", params={"project": project_id},
                  headers={"Authorization": f"Token {live.api_key}"}, timeout=120)
    r.raise_for_status()
    shown = []
    for c in r.json()["columns"]:
        key = f"tasks:{c['parent']}.{c['id']}" if c.get("parent") else f"tasks:{c['id']}"
        if c.get("target", "tasks") == "tasks" and not c.get("children") and key not in hidden:
            shown.append(c["id"] if c.get("parent") == "data" else key)
    return shown


def test_review_tab_columns_in_order(studio_db, tmp_path, fake_model):
    """The review tab shows the sentence, the predicted categories, their confidence and the
    uncertainty it is ordered by, in that order, on either database: PostgreSQL keeps the
    task data's field names in its own order (jsonb: shortest first), not in the tasks' order."""
    from slant.loop.push import push
    from slant.studio.projects import REVIEW_COLUMNS

    docs = tmp_path / "news.jsonl"
    docs.write_text(json.dumps({"id": "n1", "title": "Bypass vote", "text": ARTICLE, "outlet": "Harbor Herald",
                                "date": "2026-12-01", "url": "https://example.org/bypass"}) + "\n", encoding="utf-8")
    tax = load_taxonomy()
    result = push(studio_db.studio(), [docs], project=f"columns {uuid.uuid4().hex[:6]}", taxonomy=tax, model=fake_model())
    assert result.new_tasks > 0
    assert _review_tab_columns(studio_db, result.project_id) == list(REVIEW_COLUMNS), studio_db.database
    # a later push that brings a field the project has not seen keeps the order too
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"id": "n2", "text": "Critics say the scheme was slashed.", "lean": "left"}) + "\n",
                    encoding="utf-8")
    push(studio_db.studio(), [more], project=result.project_title, taxonomy=tax, model=fake_model())
    assert _review_tab_columns(studio_db, result.project_id) == list(REVIEW_COLUMNS), studio_db.database


def test_eight_coders_at_once(studio_db):
    """Eight accounts, eight threads, one project: throughput, errors, and nothing lost."""
    studio = studio_db.studio()
    tax = load_taxonomy()
    project, _, _ = ensure_project(studio, f"load {uuid.uuid4().hex[:6]}", tax)
    task_ids = make_tasks(studio_db.client(), project.id, 200, tag=uuid.uuid4().hex[:6])
    coders = make_coders(studio, 8, prefix="load")
    result = run_coders(studio_db.url, coders, task_ids, seconds=LOAD_SECONDS,
                        result=_choices(tax.category("loaded_language").name))
    print(f"{studio_db.database}: {result.count} annotations in {result.seconds:.1f} s = {result.rate:.1f}/s, "
          f"p95 {result.p95() * 1000:.0f} ms, errors {dict(result.errors)}")
    assert result.count > 0
    assert not result.errors, f"{studio_db.database}: errors under 8 concurrent coders: {dict(result.errors)}"
    records, _ = pull_records(studio, project=project.id, taxonomy=tax)
    assert pulled_counts(records) == result.acknowledged


def test_crash_mid_annotation_keeps_every_acknowledged_annotation(studio_db):
    """SIGKILL to Label Studio (and its PostgreSQL) while 8 coders post; restart; nothing acknowledged is lost."""
    import threading

    studio = studio_db.studio()
    tax = load_taxonomy()
    project, _, _ = ensure_project(studio, f"crash {uuid.uuid4().hex[:6]}", tax)
    task_ids = make_tasks(studio_db.client(), project.id, 100, tag=uuid.uuid4().hex[:6])
    coders = make_coders(studio, 8, prefix="crash")
    stop = threading.Event()
    killer = threading.Timer(6.0, lambda: (studio_db.stop(kill=True), stop.set()))
    killer.start()
    result = run_coders(studio_db.url, coders, task_ids, seconds=60, result=_choices(tax.category("loaded_language").name),
                        stop=stop)
    killer.join()
    assert result.count > 0
    studio_db.start()
    records, _ = pull_records(studio_db.studio(), project=project.id, taxonomy=tax)
    pulled = pulled_counts(records)
    lost = {k: n - pulled[k] for k, n in result.acknowledged.items() if pulled[k] < n}
    assert not lost, f"{studio_db.database}: acknowledged annotations missing after the crash: {lost}"
    assert sum(pulled.values()) - result.count <= len(coders)  # at most the requests in flight at the kill
