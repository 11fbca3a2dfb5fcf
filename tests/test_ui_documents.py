"""The Documents tab of the Gradio UI in a real browser: the table is the index as it is now, removal
asks first, uploads say what happened to each file."""

from __future__ import annotations

import re

import httpx
import pytest

from .ui_browser import OTTER_QUESTION, ask, screenshot, upload

pytestmark = pytest.mark.server

REFRESH_TIMEOUT = 60_000  # ms: the tab re-reads the index every 5 s


def listed(page) -> list[str]:
    return page.locator("#documents tbody tr td:first-child button.open").all_inner_texts()


def indexed(url: str) -> list[str]:
    return [d["source"] for d in httpx.get(f"{url}/v1/documents", timeout=60).json()["documents"]]


def open_documents(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#documents tbody tr").first.wait_for()


@pytest.fixture
def badgers(served, tmp_path):
    path = tmp_path / "badgers.md"
    path.write_text("# Badgers\n\nThe badger count in 2023 was 57 badgers.\n")
    upload(served, path)
    yield path.name
    httpx.delete(f"{served}/v1/documents/{path.name}", timeout=60)


def test_removing_a_document_asks_first_naming_it_and_nothing_is_preselected(served, badgers, page):
    open_documents(page, served)
    assert not page.get_by_text("from the index?").is_visible()  # no removal pending, no document chosen
    page.get_by_role("button", name=f"Remove {badgers}").click()
    page.get_by_text(f"Remove {badgers} from the index?").wait_for()
    screenshot(page, "documents-confirm-remove")
    page.get_by_role("button", name="Keep it").click()
    page.get_by_text("Nothing was removed.").wait_for()
    assert badgers in listed(page) and badgers in indexed(served)

    page.get_by_role("button", name=f"Remove {badgers}").click()
    page.locator("#confirm-yes").filter(has_text=f"Remove {badgers}").click()
    page.get_by_text(f"Removed {badgers}").wait_for()
    assert badgers not in listed(page) and badgers not in indexed(served)


def test_the_table_is_the_index_after_a_reload_and_after_another_client_uploads(served, tmp_path, page):
    open_documents(page, served)
    assert listed(page) == indexed(served)
    path = tmp_path / "hedgehogs.md"
    path.write_text("# Hedgehogs\n\nHedgehogs hibernate from November to March.\n")
    upload(served, path)  # another client, through the API
    try:
        page.locator("#documents td").filter(has_text=path.name).wait_for(timeout=REFRESH_TIMEOUT)
        assert listed(page) == indexed(served)
        screenshot(page, "documents-after-api-upload")
        page.reload()
        page.get_by_role("tab", name="Documents").click()
        page.locator("#documents td").filter(has_text=path.name).wait_for()
        assert listed(page) == indexed(served)
    finally:
        httpx.delete(f"{served}/v1/documents/{path.name}", timeout=60)
    page.locator("#documents td").filter(has_text=path.name).wait_for(state="detached", timeout=REFRESH_TIMEOUT)
    assert listed(page) == indexed(served)


def test_an_upload_says_what_became_of_each_file_and_clears_the_box(served, tmp_path, page):
    good, bad = tmp_path / "moles.md", tmp_path / "bad.pdf"
    good.write_text("# Moles\n\nA mole digs up to 20 metres of tunnel a day.\n")
    bad.write_bytes(b"this is not a PDF")
    open_documents(page, served)
    try:
        page.locator("#upload input[type=file]").set_input_files([str(good), str(bad)])
        status = page.locator("#upload-status li")
        status.nth(1).wait_for(timeout=120_000)
        said = status.all_inner_texts()
        assert "moles.md added" in said[0]
        assert said[1] == "bad.pdf could not be read: the file is damaged, or is not really a PDF"
        assert page.locator("#upload").get_by_text("moles.md").count() == 0  # the box is empty again
        page.locator("#documents td").filter(has_text="moles.md").wait_for()
        screenshot(page, "documents-upload-result")
    finally:
        httpx.delete(f"{served}/v1/documents/{good.name}", timeout=60)


def test_a_row_says_type_size_and_date_and_opens_the_pages_and_passages_with_a_way_to_ask_within(
        served, served_pdf, page):
    open_documents(page, served)
    row = page.locator("#documents tbody tr").filter(has_text=served_pdf)
    assert "PDF" in row.inner_text() and "kB" in row.inner_text()
    assert re.search(r"20\d\d-\d\d-\d\d", row.inner_text())
    page.get_by_role("button", name=f"Open {served_pdf}").click()
    preview = page.locator("#document-preview")
    preview.locator("img").first.wait_for()
    assert preview.locator("img").count() == 2  # the PDF's two pages
    assert "Volunteers recorded 412 otters" in preview.inner_text()
    assert re.match(r"page 1, characters \d", preview.locator(".passages .where").first.inner_text())
    screenshot(page, "document-preview")
    page.get_by_role("button", name="Ask within this document").click()
    page.locator("#scope").get_by_text(served_pdf).wait_for()
    ask(page, OTTER_QUESTION)
    assert "412" in page.locator("#chat").inner_text()
    assert {s.split(" · ")[0] for s in page.locator("#sources .source .where").all_inner_texts()} == {served_pdf}


def test_a_row_shows_the_documents_own_title_and_its_preview_the_card(served, badgers, page):
    open_documents(page, served)
    row = page.locator("#documents tbody tr").filter(has_text=badgers)
    row.locator(".card-title").filter(has_text="Badgers").wait_for()
    page.get_by_role("button", name=f"Open {badgers}").click()
    page.locator("#document-preview dl.card").get_by_text("Badgers", exact=True).wait_for()
