"""The audit mark survives the round trip through a real Label Studio: tasks imported with
``slant_audit*`` keys, annotated through the SDK, pulled into records that `slant measure`
reads as an audit sample."""

import json
import uuid

import pytest

from slant.cli.main import main
from slant.loop.push import push
from slant.taxonomy.core import load_taxonomy

pytestmark = pytest.mark.integration

ARTICLE = """Harbor council weighs bypass

The council in Harbor City will vote on the bypass plan on Monday. Critics say the reckless scheme will ruin the town.
Officials admitted the budget had doubled. Some people say the mayor hid the costs.
"""


def test_pull_keeps_the_audit_mark(label_studio, default_model, tmp_path):
    tax = load_taxonomy()
    name = f"audit pull {uuid.uuid4().hex[:6]}"
    doc = tmp_path / "harbor.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    push(label_studio.studio(), [doc], project=name, taxonomy=tax, model=default_model)
    project = label_studio.studio().find_project(name)
    sdk = label_studio.client()
    pushed = sorted(sdk.tasks.list(project=project.id, fields="all", page_size=100), key=lambda t: t.id)
    # audit tasks as `slant push --audit` marks them: every field the config reads, plus the mark
    design = [(0.02, "Gazette", "stratified"), (0.5, "Courier", "stratified"), (0.1, "", "uniform")]
    tasks = []
    for k, (p, stratum, kind) in enumerate(design):
        data = dict(pushed[k].data)
        data.update(text=f"Audit sentence {k}: officials say the plan is sound.", slant_id=f"audit-{k}-{uuid.uuid4().hex}",
                    slant_audit=True, slant_audit_p=p, slant_audit_stratum=stratum, slant_audit_design=kind)
        tasks.append({"data": data})
    ids = sdk.projects.import_tasks(id=project.id, request=tasks, return_task_ids=True).task_ids
    assert len(ids) == 3
    user = sdk.users.create(username=f"aud-{uuid.uuid4().hex[:8]}", email=f"aud-{uuid.uuid4().hex[:8]}@example.com")
    label = tax.category(tax.sentence_ids[0]).name
    for tid in ids + [pushed[-1].id]:
        sdk.annotations.create(id=tid, completed_by=user.id, result=[
            {"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": [label]}}])

    out = tmp_path / "reviewed.jsonl"
    assert main(["pull", "--project", name, "-o", str(out), "--url", label_studio.url,
                 "--api-key", label_studio.api_key]) == 0
    records = {r["task_id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    for tid, (p, stratum, _) in zip(ids, design):
        assert records[tid]["audit"] == {"p": p, "stratum": stratum}
        assert records[tid]["labels"] == [tax.sentence_ids[0]]
    # review-queue tasks carry no mark: they were chosen least-certain-first, not at random
    assert "audit" not in records[pushed[-1].id]
    assert all("audit" not in r for t, r in records.items() if t not in ids)
