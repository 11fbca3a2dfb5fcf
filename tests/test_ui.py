"""The Gradio chat mounted at / of a real `rag serve`, in a real browser (Debian's chromium,
headless, driven by Playwright), and its escaping of document text. gradio_client is in
test_api.py's every-face test."""

from __future__ import annotations

import shutil

import httpx
import pytest

from rag.types import Answer, Citation
from ui.render import answer_markdown, sources_html

QUESTION = "How many Ukrainian troops have French forces trained?"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.server
def test_in_a_browser_a_citation_click_highlights_the_cited_span(served, tmp_path):
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is needed: `apt-get install chromium` (make test does it)"
    expected = httpx.post(f"{served}/v1/ask", json={"question": QUESTION}, timeout=60).json()["citations"][0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(served)
            page.locator("#question textarea").fill(QUESTION)
            page.locator("#ask").click()
            marker = page.locator('#chat a[href^="#src-"]').last
            marker.wait_for(timeout=60_000)
            assert "10,000" in page.locator("#chat").inner_text()
            marker.click()
            highlighted = page.locator("#sources .source.active mark")
            highlighted.wait_for(timeout=10_000)
            assert highlighted.inner_text() == expected["text"]
            page.screenshot(path=tmp_path / "cited-answer.png")

            page.locator("#question textarea").fill("What is the boiling point of liquid nitrogen?")
            page.locator("#ask").click()
            page.locator("#chat .abstained").wait_for(timeout=60_000)
        finally:
            browser.close()
    assert (tmp_path / "cited-answer.png").stat().st_size > 0


HOSTILE = '<script>alert("x")</script> <img src=x onerror=alert(1)> **bold** [1](javascript:alert(1))'


def hostile_answer() -> Answer:
    citation = Citation(1, "<b>evil</b>.txt", None, "id", 0, len(HOSTILE), HOSTILE, 1.0)
    return Answer("<i>q</i>", HOSTILE + " [1]", [citation], False, "extractive")


def test_document_text_in_an_answer_is_shown_as_text_not_markup():
    shown = answer_markdown(hostile_answer(), 1)
    assert "<script>" not in shown and "<img" not in shown and "](javascript" not in shown
    assert shown.endswith('<a href="#src-1-1" class="cite">[1]</a>')


def test_document_text_in_the_sources_panel_is_escaped():
    shown = sources_html(hostile_answer(), 1, lambda source, page: HOSTILE)
    assert "<script>" not in shown and "<img" not in shown and "<b>evil" not in shown and "<i>q" not in shown
    assert "&lt;script&gt;" in shown


@pytest.mark.server
def test_in_a_browser_a_script_inside_a_document_is_shown_not_run(served):
    from playwright.sync_api import sync_playwright

    hostile = ('The otter festival opens on Friday <script>window.pwned = 1</script> '
               '<img src=x onerror="window.pwned = 2"> with a parade.')
    added = httpx.post(f"{served}/v1/documents", files=[("files", ("otters.md", hostile.encode(), "text/markdown"))],
                       timeout=60)
    assert added.status_code == 200, added.text
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page()
                page.goto(served)
                page.locator("#question textarea").fill("When does the otter festival open?")
                page.locator("#ask").click()
                page.locator('#chat a[href^="#src-"]').last.wait_for(timeout=60_000)
                page.wait_for_timeout(500)
                assert page.evaluate("window.pwned") is None
                assert "<script>" in page.locator("#chat").inner_text()
                assert "<script>" in page.locator("#sources").inner_text()
            finally:
                browser.close()
    finally:
        httpx.delete(f"{served}/v1/documents/otters.md", timeout=60)


@pytest.mark.server
def test_in_a_browser_the_evaluate_tab_runs_a_test_set_and_offers_the_results(served, tmp_path):
    from playwright.sync_api import sync_playwright

    from .conftest import DATA

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.goto(served)
            page.get_by_role("tab", name="Evaluate").click()
            page.locator('input[type=file][accept*="jsonl"]').set_input_files(str(DATA / "seed_qa.jsonl"))
            page.get_by_role("button", name="Run evaluation").click()
            page.get_by_text("Evaluated 32 questions").wait_for(timeout=120_000)
            assert "citation_validity" in page.get_by_role("grid").first.inner_text()
            worst = page.locator("body").inner_text()
            assert "gold:" in worst or "No question went wrong." in worst  # the worst questions are listed
            assert page.get_by_text("results.jsonl").first.is_visible()
            page.screenshot(path=tmp_path / "evaluate.png", full_page=True)
        finally:
            browser.close()
