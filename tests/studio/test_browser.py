"""A real browser shows the pushed pre-labels: predicted choices ticked, spans highlighted.

It also settles the offset question: a span placed after an emoji (two UTF-16 code units,
one Python code point) must highlight exactly its word.
"""

import shutil
from pathlib import Path

import pytest

from slant.loop.push import push
from slant.taxonomy.core import load_taxonomy

ARTICLE = """Browser Check

The 😀 emoji came before the slashed budget, critics say.
"""

_CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _chromium():
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("Chromium not found (install Debian's package: apt-get install -y chromium)")


@pytest.mark.integration
@pytest.mark.browser
def test_task_shows_predicted_choices_and_spans(label_studio, tmp_path, request, fake_model):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    executable = _chromium()
    article = tmp_path / "browser.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    result = push(label_studio.studio(), [article], project="Browser check", taxonomy=load_taxonomy(), model=fake_model())
    tasks = list(label_studio.client().tasks.list(project=result.project_id, fields="task_only", include="id,data"))
    (task,) = [t for t in tasks if "😀" in t.data["text"]]

    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=_CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{label_studio.url}/user/login/")
            page.fill("input[name=email]", label_studio.email)
            page.fill("input[name=password]", label_studio.password)
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(f"{label_studio.url}/projects/{result.project_id}/data?task={task.id}")
            page.wait_for_selector(".htx-highlight", timeout=60_000)
            page.wait_for_timeout(1000)  # let the choices render too
            page.screenshot(path=str(tmp_path / "task.png"), full_page=True)

            highlights = page.eval_on_selector_all(".htx-highlight", "els => els.map(e => e.textContent)")
            checked = page.evaluate(
                """() => Array.from(document.querySelectorAll('input[type=checkbox]'))
                     .filter(e => e.checked && e.closest('label'))
                     .map(e => e.closest('label').textContent.trim())"""
            )
            shown_text = page.evaluate("t => document.body.innerText.includes(t)", task.data["text"])
        finally:
            browser.close()

    assert (tmp_path / "task.png").stat().st_size > 10_000
    # Also kept where CI collects artefacts (test-output/ is git-ignored).
    keep = request.config.rootpath / "test-output" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "task.png", keep / "label-studio-task.png")
    assert shown_text
    # Offsets are code points: the emoji before the span does not shift the highlight.
    assert highlights == ["slashed"]
    assert len(checked) == 1 and checked[0].startswith("Loaded language")
