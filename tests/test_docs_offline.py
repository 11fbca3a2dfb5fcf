"""The API docs of a real `rag serve` render in a real browser (Debian's chromium, as in
test_ui.py) that may reach nothing but the server: every request to another host is aborted."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.server
ROUTES = ["/v1/ask", "/v1/search", "/v1/documents", "/v1/chat/completions", "/v1/models", "/health"]


def render_offline(browser, url: str, ready: str) -> tuple[str, list[str]]:
    """(the page's text once `ready` shows, the off-machine requests it tried)."""
    blocked: list[str] = []

    def only_loopback(route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport={"width": 1400, "height": 2000})
    try:
        page = context.new_page()
        page.route("**/*", only_loopback)
        page.goto(url)
        page.locator(ready).first.wait_for(timeout=60_000)
        return page.locator("body").inner_text(), blocked
    finally:
        context.close()


def test_swagger_ui_lists_the_routes_with_no_request_off_the_machine(served, browser):
    text, blocked = render_offline(browser, f"{served}/docs", ".opblock-summary-path")
    assert all(route in text for route in ROUTES), text[:2000]
    assert blocked == []


def test_redoc_lists_the_routes_offline(served, browser):
    """ReDoc's "API docs by Redocly" footer fetches its logo and hides it when that fails: the one
    request off the machine, and nothing the page needs."""
    text, blocked = render_offline(browser, f"{served}/redoc", "[data-section-id^='tag/']")
    assert "OpenAI-compatible" in text and "Answer a question" in text, text[:2000]
    assert set(blocked) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
