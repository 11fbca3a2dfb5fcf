"""The UI on a phone (390 x 844, an iPhone 12-14's viewport) in a real browser: nothing pans sideways,
the question box is there on load, documents are cards whose actions stay on screen."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .ui_browser import screenshot, upload

pytestmark = pytest.mark.server

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def pans_sideways(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") > PHONE["width"]


def test_no_tab_pans_sideways(served, served_pdf, phone):
    phone.goto(served)
    for tab in ("Chat", "Documents", "Evaluate"):
        phone.get_by_role("tab", name=tab).click()
        phone.wait_for_timeout(0)  # let the tab lay out
        assert not pans_sideways(phone), tab
        screenshot(phone, f"phone-{tab.lower()}", full_page=True)


def test_the_question_box_is_on_screen_on_load(served, phone):
    phone.goto(served)
    phone.wait_for_function("document.querySelector('#chat')?.offsetHeight > 100")  # laid out
    box = phone.locator("#question textarea").bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"]


@pytest.fixture
def long_list(served, tmp_path) -> Iterator[None]:
    """Four more documents, so that the list is longer than the screen."""
    notes = [tmp_path / f"field-note-{n}.md" for n in range(4)]
    for n, path in enumerate(notes):
        path.write_text(f"# Field note {n}\n\nBadgers were seen at station {n}.\n")
    upload(served, *notes)
    yield
    for path in notes:
        httpx.delete(f"{served}/v1/documents/{path.name}", timeout=60)


def test_documents_are_cards_with_their_remove_button_on_screen(served, served_pdf, long_list, phone):
    phone.goto(served)
    phone.get_by_role("tab", name="Documents").click()
    remove = phone.get_by_role("button", name=f"Remove {served_pdf}")
    remove.wait_for()
    box = remove.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    first = phone.locator("#documents button.remove").first  # at the top: the confirmation comes after the list
    first.click()
    confirm = phone.locator("#confirm-no")
    confirm.wait_for()
    box = confirm.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"]
    screenshot(phone, "phone-confirm-remove")
    confirm.click()


def test_a_documents_preview_fits_the_screen(served, served_pdf, phone):
    phone.goto(served)
    phone.get_by_role("tab", name="Documents").click()
    phone.get_by_role("button", name=f"Open {served_pdf}").click()
    phone.locator("#document-preview img").first.wait_for()
    assert not pans_sideways(phone)
    box = phone.locator("#ask-within").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(phone, "phone-document-preview", full_page=True)
