"""Blind double-coding in a real browser: the second coder of a task logs in, gets the task
from the label stream with none of the first coder's answer on it, and codes it alone."""

import uuid

import pytest

from helpers.browser import CHECKED_LABELS, keep_screenshot
from helpers.coders import make_accounts, make_tasks
from slant.studio.projects import ensure_project
from slant.studio.team import set_overlap
from slant.taxonomy.core import load_taxonomy


def _choices(name):
    return [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": [name]}}]


@pytest.mark.integration
@pytest.mark.browser
def test_second_coder_sees_only_their_own_annotation(label_studio, chromium_login, tmp_path, request):
    tax = load_taxonomy()
    first_choice, second_choice = tax.category("loaded_language").name, tax.category("attribution_vague").name
    studio = label_studio.studio()
    project, _, _ = ensure_project(studio, f"blind {uuid.uuid4().hex[:6]}", tax)
    (task_id,) = make_tasks(label_studio.client(), project.id, 1, tag="blind")
    set_overlap(studio, project, overlap=2)
    ana, bo = make_accounts(studio, 2, prefix="blind")
    label_studio.client(api_key=ana.api_key).annotations.create(id=task_id, result=_choices(first_choice))

    with chromium_login(label_studio.url, bo.email, bo.password) as page:
        page.goto(f"{label_studio.url}/projects/{project.id}/data?labeling=1")
        page.wait_for_selector("input[type=checkbox]", timeout=120_000)
        page.wait_for_timeout(1000)
        checked_before = page.evaluate(CHECKED_LABELS)
        shows_ana = page.evaluate("e => document.body.innerText.includes(e)", ana.email)
        page.screenshot(path=str(tmp_path / "blind.png"), full_page=True)
        page.locator("label", has_text=second_choice).first.click()
        with page.expect_response(lambda r: "/annotations" in r.url and r.request.method == "POST", timeout=60_000) as resp:
            page.get_by_test_id("bottombar-submit-button").click()
        assert resp.value.status == 201

    keep_screenshot(request, tmp_path / "blind.png", "label-studio-blind-second-coder.png")
    assert checked_before == [] and not shows_ana  # nothing of the first coder on the task
    anns = label_studio.client().tasks.get(id=task_id).annotations
    by = {(a["completed_by"] if isinstance(a["completed_by"], int) else a["completed_by"]["id"]):
          a["result"][0]["value"]["choices"] for a in anns}
    assert sorted(by.values()) == sorted([[first_choice], [second_choice]])  # two independent answers
