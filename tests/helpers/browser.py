"""Label Studio in Debian's Chromium (Playwright) for the browser tests: a page logged in
as a user (the `chromium_login` fixture of tests/conftest.py), what it shows ticked, and
screenshots kept where CI collects them."""

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

_CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# The labels of the ticked checkboxes (the categories' choices) on the page.
CHECKED_LABELS = """() => Array.from(document.querySelectorAll('input[type=checkbox]'))
     .filter(e => e.checked && e.closest('label')).map(e => e.closest('label').textContent.trim())"""


def _chromium():
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("Chromium not found (install Debian's package: apt-get install -y chromium)")


def chromium_login():
    """``login(url, email, password)``: a context manager giving a Playwright page of Label
    Studio at `url` logged in as `email`, the browser closed after the block. Skips the
    test here, before it sets anything up, when Playwright or Chromium is missing."""
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    executable = _chromium()

    @contextmanager
    def login(url, email, password):
        with playwright.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=_CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{url}/user/login/")
                page.fill("input[name=email]", email)
                page.fill("input[name=password]", password)
                page.click("button[type=submit], input[type=submit]")
                page.wait_for_load_state("networkidle")
                yield page
            finally:
                browser.close()

    return login


def keep_screenshot(request, path, name):
    """Copy the screenshot at `path` to test-output/screenshots/`name` (git-ignored; CI keeps it)."""
    keep = request.config.rootpath / "test-output" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, keep / name)
