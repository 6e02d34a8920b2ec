"""`slant pull` and `slant agreement --project` against the session's real Label Studio.

Three annotator users label the pushed sentences through the API; the pulled records and
the agreement report must equal what `compute_agreement` gives on the same labels built
directly here.
"""

import json
import uuid
from collections import Counter

import pytest

from slant._files import default_taxonomy_path
from slant.agreement.core import compute_agreement
from slant.agreement.report import to_json
from slant.cli.main import main
from slant.loop.push import push
from slant.taxonomy.core import load_taxonomy

pytestmark = pytest.mark.integration

ARTICLE = """Harbor council weighs bypass

The council in Harbor City will vote on the bypass plan on Monday. Critics say the reckless scheme will ruin the town.
Officials admitted the budget had doubled. Some people say the mayor hid the costs. The meeting starts at 6 p.m.
Everyone knows the plan is a disaster.
"""


def _choices(names):
    return [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": names}}] if names else []


def _tasks(sdk, pid):
    return sorted(sdk.tasks.list(project=pid, fields="all", page_size=1000), key=lambda t: t.id)


@pytest.fixture
def target(label_studio):
    return ["--url", label_studio.url, "--api-key", label_studio.api_key]


def _push(label_studio, tmp_path, default_model, name, text=ARTICLE):
    doc = tmp_path / f"{uuid.uuid4().hex[:6]}.txt"
    doc.write_text(text, encoding="utf-8")
    push(label_studio.studio(), [doc], project=name, taxonomy=load_taxonomy(), model=default_model)
    return label_studio.studio().find_project(name)


def _users(sdk, n):
    out = []
    for k in range(n):
        tag = uuid.uuid4().hex[:8]
        u = sdk.users.create(username=f"pull{k}-{tag}", email=f"pull{k}-{tag}@example.com", first_name="A", last_name=str(k))
        out.append((u.id, u.email))
    return out


def test_pull_and_agreement_equal_direct_computation(label_studio, default_model, tmp_path, target, capsys):
    tax = load_taxonomy()
    cats = list(tax.sentence_ids)[:3]
    names = [tax.category(c).name for c in cats]
    project = _push(label_studio, tmp_path, default_model, f"pull agreement {uuid.uuid4().hex[:6]}")
    sdk = label_studio.client()
    tasks = _tasks(sdk, project.id)
    assert len(tasks) >= 5
    users = _users(sdk, 3)
    # known labels: annotator k on task i picks category indices by a fixed pattern (some disagreement)
    plan = {}
    for i, t in enumerate(tasks):
        for k, (uid, email) in enumerate(users):
            if i == len(tasks) - 1 and k == 2:
                continue  # the last task has only two annotators: units with missing annotators
            picked = sorted({cats[(i + k * (i % 2)) % 3]} | ({cats[0]} if (i + k) % 3 == 0 else set()))
            plan.setdefault(t.id, []).append((email, picked))
            sdk.annotations.create(id=t.id, result=_choices([tax.category(c).name for c in picked]), completed_by=uid)
    # a skipped task: counted as cancelled, not a label
    sdk.annotations.create(id=tasks[0].id, result=[], completed_by=users[0][0], was_cancelled=True)

    out = tmp_path / "reviewed.jsonl"
    assert main(["pull", "--project", project.title, "-o", str(out), *target]) == 0
    said = capsys.readouterr().out
    assert f"pulled {len(tasks)} tasks" in said and "1 cancelled" in said
    records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["task_id"] for r in records] == [t.id for t in tasks]
    by_task = {r["task_id"]: r for r in records}
    assert by_task[tasks[0].id]["cancelled"] == 1
    direct = []
    for t in tasks:
        r = by_task[t.id]
        got = sorted((a["annotator"], a["labels"]) for a in r["annotations"])
        assert got == sorted(plan[t.id])
        assert {a["annotator_id"] for a in r["annotations"]} <= {u for u, _ in users}
        n = len(plan[t.id])
        counts = Counter(c for _, labels in plan[t.id] for c in labels)
        majority = sorted(c for c, v in counts.items() if 2 * v > n)
        assert r["labels"] == majority and r["policy"] == "majority"
        assert r["id"] == t.data["slant_id"] and r["doc_id"] == t.data["doc_id"]
        assert r["sentence_index"] == t.data["sentence_index"] and r["start"] == t.data["start"]
        assert r["prediction"]["model_version"] == project.model_version == r["model_version"]
        direct.append({"id": t.data["slant_id"], "doc_id": t.data["doc_id"], "text": t.data["text"], "labels": majority,
                       "annotations": [{"annotator": e, "labels": ls} for e, ls in plan[t.id]]})
    assert names  # display names were what Label Studio stored; ids came back

    report_path = tmp_path / "agreement.json"
    assert main(["agreement", "--project", project.title, "--format", "json", "-o", str(report_path),
                 "--bootstrap", "200", "--seed", "3", *target]) == 0
    got = json.loads(report_path.read_text(encoding="utf-8"))
    want = json.loads(to_json(compute_agreement(direct, tax, bootstrap=200, seed=3)))
    for key in ("summary", "categories", "overall", "pairwise", "annotators"):
        assert got[key] == want[key], key

    # the same file through `slant agreement FILE` gives the same figures
    assert main(["agreement", str(out), "--format", "json", "-o", str(tmp_path / "a2.json"),
                 "--bootstrap", "200", "--seed", "3"]) == 0
    again = json.loads((tmp_path / "a2.json").read_text(encoding="utf-8"))
    assert again["categories"] == got["categories"]

    # a newer taxonomy that only renamed the category's display name: the old name is read
    # as the same id (no drift, nothing dropped)
    data = json.loads(default_taxonomy_path().read_text(encoding="utf-8"))
    renamed = next(c for c in data["categories"] if c["id"] == cats[0])
    renamed["name"] = "Renamed Category"
    newer = tmp_path / "newer-taxonomy.json"
    newer.write_text(json.dumps(data), encoding="utf-8")
    assert main(["pull", "--project", project.title, "-o", str(tmp_path / "newer.jsonl"), "--taxonomy", str(newer),
                 *target]) == 0
    assert "taxonomy drift" not in capsys.readouterr().out
    newer_records = [json.loads(x) for x in (tmp_path / "newer.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["labels"] for r in newer_records] == [r["labels"] for r in records]

    # taxonomy drift: a project taxonomy whose category got another id, with no migration ->
    # reported by name, kept
    renamed["id"] = "renamed_category"
    other = tmp_path / "other-taxonomy.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    assert main(["pull", "--project", project.title, "-o", str(tmp_path / "drift.jsonl"), "--taxonomy", str(other),
                 *target]) == 0
    said = capsys.readouterr().out
    assert f"{names[0]!r}" in said and "taxonomy drift" in said
    drift = [json.loads(x) for x in (tmp_path / "drift.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sum(names[0] in r.get("unknown_labels", []) for r in drift) > 0
    assert main(["agreement", "--project", project.title, "--taxonomy", str(other), *target]) == 1
    assert "labels unknown to taxonomy" in capsys.readouterr().err


def test_pull_bad_projects(label_studio, default_model, tmp_path, target, capsys):
    sdk = label_studio.client()
    tag = uuid.uuid4().hex[:6]
    out = str(tmp_path / "r.jsonl")
    # not found: similar names listed
    empty = sdk.projects.create(title=f"empty pull {tag}")
    assert main(["pull", "--project", f"empty pul {tag}", "-o", out, *target]) == 1
    err = capsys.readouterr().err
    assert f"no project called 'empty pul {tag}'" in err and f"'empty pull {tag}'" in err
    # an id that does not exist: the ids and titles there, not a raw 404
    assert main(["pull", "--project", "999999", "-o", out, *target]) == 1
    err = capsys.readouterr().err
    assert "no project with id 999999" in err and f"{empty.id} 'empty pull {tag}'" in err and "404" not in err
    # empty project
    assert main(["pull", "--project", empty.title, "-o", out, *target]) == 1
    err = capsys.readouterr().err
    assert "has no tasks" in err and "slant push" in err
    # no annotations
    project = _push(label_studio, tmp_path, default_model, f"unannotated pull {tag}")
    capsys.readouterr()
    assert main(["pull", "--project", project.title, "-o", out, *target]) == 1
    assert "but no annotations" in capsys.readouterr().err
    assert not (tmp_path / "r.jsonl").exists()  # a failed pull writes nothing
    # one annotator: agreement needs two
    uid = label_studio.studio().whoami()[0]
    for t in _tasks(sdk, project.id)[:3]:
        sdk.annotations.create(id=t.id, result=_choices([]), completed_by=uid)
    assert main(["pull", "--project", project.title, "-o", out, "--min-annotators", "1", *target]) == 0
    assert "wrote 3 records" in capsys.readouterr().out
    assert main(["agreement", "--project", project.title, *target]) == 1
    assert "agreement needs at least two annotators" in capsys.readouterr().err

