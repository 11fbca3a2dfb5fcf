"""The API docs of a real `rag serve` render in a real browser (Debian's chromium, as in
test_ui.py) that may reach nothing but the server: every request to another host is aborted."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.server
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # launched as the UI's browser tests launch it
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROUTES = ["/v1/ask", "/v1/search", "/v1/documents", "/v1/chat/completions", "/v1/models", "/health"]


def render_offline(url: str, ready: str) -> tuple[str, list[str]]:
    """(the page's text once `ready` shows, the off-machine requests it tried)."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def only_loopback(route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.route("**/*", only_loopback)
            page.goto(url)
            page.locator(ready).first.wait_for(timeout=60_000)
            return page.locator("body").inner_text(), blocked
        finally:
            browser.close()


def test_swagger_ui_lists_the_routes_with_no_request_off_the_machine(served):
    text, blocked = render_offline(f"{served}/docs", ".opblock-summary-path")
    assert all(route in text for route in ROUTES), text[:2000]
    assert blocked == []


def test_redoc_lists_the_routes_offline(served):
    """ReDoc's "API docs by Redocly" footer fetches its logo and hides it when that fails: the one
    request off the machine, and nothing the page needs."""
    text, blocked = render_offline(f"{served}/redoc", "[data-section-id^='tag/']")
    assert "OpenAI-compatible" in text and "Answer a question" in text, text[:2000]
    assert set(blocked) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
