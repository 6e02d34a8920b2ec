"""A real browser shows the pushed pre-labels: predicted choices ticked, spans highlighted.

It also settles the offset question: a span placed after an emoji (two UTF-16 code units,
one Python code point) must highlight exactly its word.
"""

import pytest

from helpers.browser import CHECKED_LABELS, keep_screenshot
from slant.loop.push import push
from slant.taxonomy.core import load_taxonomy

ARTICLE = """Browser Check

The 😀 emoji came before the slashed budget, critics say.
"""


@pytest.mark.integration
@pytest.mark.browser
def test_task_shows_predicted_choices_and_spans(label_studio, chromium_login, tmp_path, request, fake_model):
    article = tmp_path / "browser.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    result = push(label_studio.studio(), [article], project="Browser check", taxonomy=load_taxonomy(), model=fake_model())
    tasks = list(label_studio.client().tasks.list(project=result.project_id, fields="task_only", include="id,data"))
    (task,) = [t for t in tasks if "😀" in t.data["text"]]

    with chromium_login(label_studio.url, label_studio.email, label_studio.password) as page:
        page.goto(f"{label_studio.url}/projects/{result.project_id}/data?task={task.id}")
        page.wait_for_selector(".htx-highlight", timeout=60_000)
        page.wait_for_timeout(1000)  # let the choices render too
        page.screenshot(path=str(tmp_path / "task.png"), full_page=True)

        highlights = page.eval_on_selector_all(".htx-highlight", "els => els.map(e => e.textContent)")
        checked = page.evaluate(CHECKED_LABELS)
        shown_text = page.evaluate("t => document.body.innerText.includes(t)", task.data["text"])

    assert (tmp_path / "task.png").stat().st_size > 10_000
    keep_screenshot(request, tmp_path / "task.png", "label-studio-task.png")
    assert shown_text
    # Offsets are code points: the emoji before the span does not shift the highlight.
    assert highlights == ["slashed"]
    assert len(checked) == 1 and checked[0].startswith("Loaded language")
