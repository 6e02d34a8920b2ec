"""Blind double-coding in a real browser: the second coder of a task logs in, gets the task
from the label stream with none of the first coder's answer on it, and codes it alone."""

import shutil
import uuid
from pathlib import Path

import pytest

from helpers.coders import make_accounts, make_tasks
from slant.studio.projects import ensure_project
from slant.studio.team import set_overlap
from slant.taxonomy.core import load_taxonomy

_CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _chromium():
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("Chromium not found (install Debian's package: apt-get install -y chromium)")


def _choices(name):
    return [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": [name]}}]


@pytest.mark.integration
@pytest.mark.browser
def test_second_coder_sees_only_their_own_annotation(label_studio, tmp_path, request):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    executable = _chromium()
    tax = load_taxonomy()
    first_choice, second_choice = tax.category("loaded_language").name, tax.category("attribution_vague").name
    studio = label_studio.studio()
    project, _, _ = ensure_project(studio, f"blind {uuid.uuid4().hex[:6]}", tax)
    (task_id,) = make_tasks(label_studio.client(), project.id, 1, tag="blind")
    set_overlap(studio, project, overlap=2)
    ana, bo = make_accounts(studio, 2, prefix="blind")
    label_studio.client(api_key=ana.api_key).annotations.create(id=task_id, result=_choices(first_choice))

    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=_CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{label_studio.url}/user/login/")
            page.fill("input[name=email]", bo.email)
            page.fill("input[name=password]", bo.password)
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(f"{label_studio.url}/projects/{project.id}/data?labeling=1")
            page.wait_for_selector("input[type=checkbox]", timeout=120_000)
            page.wait_for_timeout(1000)
            checked_before = page.evaluate(
                """() => Array.from(document.querySelectorAll('input[type=checkbox]'))
                     .filter(e => e.checked && e.closest('label')).map(e => e.closest('label').textContent.trim())""")
            shows_ana = page.evaluate("e => document.body.innerText.includes(e)", ana.email)
            page.screenshot(path=str(tmp_path / "blind.png"), full_page=True)
            page.locator("label", has_text=second_choice).first.click()
            with page.expect_response(lambda r: "/annotations" in r.url and r.request.method == "POST", timeout=60_000) as resp:
                page.get_by_test_id("bottombar-submit-button").click()
            assert resp.value.status == 201
        finally:
            browser.close()

    keep = request.config.rootpath / "test-output" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "blind.png", keep / "label-studio-blind-second-coder.png")
    assert checked_before == [] and not shows_ana  # nothing of the first coder on the task
    anns = label_studio.client().tasks.get(id=task_id).annotations
    by = {(a["completed_by"] if isinstance(a["completed_by"], int) else a["completed_by"]["id"]):
          a["result"][0]["value"]["choices"] for a in anns}
    assert sorted(by.values()) == sorted([[first_choice], [second_choice]])  # two independent answers
