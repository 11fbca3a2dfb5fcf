"""Browser fixtures for the UI tests (tests/test_ui*.py; registered by conftest.py): Debian's chromium,
headless, driven by Playwright, and a screenshot of each state into tests/screenshots/ (git-ignored).
Also the documents the UI tests upload through the API, removed afterwards."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .files import write_pdf

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
ANSWER_TIMEOUT = 120_000  # ms: a loaded CI machine answers slowly, never this slowly

OTTER_PAGES = [
    "Otter Survey 2024\n\nThe river otter population in the Elbe valley was counted in March. Volunteers recorded "
    "412 otters along 80 kilometres of river bank. This is the highest count since the survey began in 1998.\n\n"
    "The survey was led by Dr. Anna Becker of the Dresden Wildlife Institute.",
    "Methods\n\nCounts were made at dawn by teams of two. Each team walked a five kilometre stretch and recorded "
    "tracks, spraints and sightings. The otter festival opens on Friday with a parade through the old town.",
]
OTTER_QUESTION = "How many otters did the volunteers record along the river bank?"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: `apt-get install chromium` (make test does it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser profile per test (its own local storage), 1400x1000, allowed to use the clipboard.
    The page as it ends is saved as tests/screenshots/<test>-end.png, for a look at any failure."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    yield page
    screenshot(page, f"{request.node.name}-end")
    context.close()


def screenshot(page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=full_page)
    return path


def ask(page, question: str) -> None:
    """Type and send a question, then wait until its answer is the chat's last message."""
    answers = page.locator("#chat button.copy-answer")
    before = answers.count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    answers.nth(before).wait_for(timeout=ANSWER_TIMEOUT)


@pytest.fixture(scope="session")
def otter_pdf(tmp_path_factory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("pdf") / "otter-report.pdf", OTTER_PAGES)


def upload(url: str, *paths: Path) -> None:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    added = httpx.post(f"{url}/v1/documents", files=files, timeout=120)
    assert added.status_code == 200, added.text


@pytest.fixture
def served_pdf(served, otter_pdf) -> Iterator[str]:
    """`served` with the otter PDF uploaded; yields its name."""
    upload(served, otter_pdf)
    yield otter_pdf.name
    httpx.delete(f"{served}/v1/documents/{otter_pdf.name}", timeout=60)
