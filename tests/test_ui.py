"""The chat of the Gradio UI, mounted at / of a real `rag serve`, in a real browser (Debian's chromium,
headless, driven by Playwright): what a reader sees of answers, citations, sources and conversations.
Each test saves screenshots of the states it checks into tests/screenshots/."""

from __future__ import annotations

import re

import httpx
import pytest

from .ui_browser import ANSWER_TIMEOUT, OTTER_QUESTION, ask, screenshot

pytestmark = pytest.mark.server

QUESTION = "How many Ukrainian troops have French forces trained?"
FOLLOW_UP = "and where were they trained?"  # too few words of its own: searched with the previous question


def test_a_citation_is_a_link_named_source_n_whose_source_shows_on_hover(served, page):
    page.goto(served)
    ask(page, QUESTION)
    marker = page.get_by_role("link", name="source 1")
    marker.hover()
    preview = page.locator("#cite-preview")
    preview.wait_for()
    assert preview.locator("mark").inner_text() == page.locator("#src-1-1 blockquote mark").inner_text()
    screenshot(page, "citation-hover")


def test_a_source_card_says_how_strong_its_evidence_is(served, page):
    page.goto(served)
    ask(page, QUESTION)
    assert page.locator("#src-1-1 .strength").inner_text() == "strong evidence"
    assert page.locator("#chat .weak-evidence").count() == 0


def test_clicking_a_citation_marks_its_card_titled_with_the_document_not_its_offsets(served, page):
    expected = httpx.post(f"{served}/v1/ask", json={"question": QUESTION}, timeout=60).json()["citations"][0]
    page.goto(served)
    ask(page, QUESTION)
    page.locator('#chat a.cite[href="#src-1-1"]').click()
    card = page.locator("#sources .source.active")
    card.wait_for()
    assert card.locator("mark").inner_text() == expected["text"]
    title = card.locator(".title").inner_text()
    assert "Macron" in title and "aea647" not in title and "characters" not in title  # the seed's first line
    assert f"characters {expected['start']:,}–{expected['end']:,}" in card.locator(".where").inner_text()
    screenshot(page, "citation-card")


def test_the_sources_panel_shows_only_the_latest_answers_sources_until_unfolded(served, page):
    page.goto(served)
    ask(page, QUESTION)
    ask(page, "Who is the Estonian prime minister?")
    assert page.locator("#src-2-1").is_visible() and not page.locator("#src-1-1").is_visible()
    page.get_by_text("Sources of earlier answers (1)").click()
    page.locator("#src-1-1").wait_for()
    screenshot(page, "sources-earlier")


def test_a_citation_of_an_earlier_answer_opens_only_its_sources_and_keeps_that_answer_on_screen(served, page):
    from playwright.sync_api import expect

    page.goto(served)
    ask(page, QUESTION)
    ask(page, "Who is the Estonian prime minister?")
    ask(page, "What did Macron say about a coalition?")
    marker = page.locator('#chat a.cite[href="#src-1-1"]')
    marker.scroll_into_view_if_needed()
    marker.click()
    expect(page.locator("#src-1-1.active")).to_be_in_viewport()
    assert not page.locator("#src-2-1").is_visible()  # the other earlier answer's sources stay folded
    expect(marker).to_be_in_viewport()
    screenshot(page, "earlier-citation")
    page.get_by_text("Sources of earlier answers (2)").click()
    page.locator("#src-2-1").wait_for()  # opened by hand: all of them


def test_a_pdf_citation_shows_its_page_with_a_box_over_the_cited_characters(served, served_pdf, otter_pdf, page):
    import pypdfium2 as pdfium

    from rag.loaders.pdf import char_boxes

    page.goto(served)
    ask(page, OTTER_QUESTION)
    card = page.locator("#sources .source[data-pdf]").first
    n = card.get_attribute("id").rsplit("-", 1)[1]
    page.locator(f'#chat a.cite[href="#src-1-{n}"]').click()
    image = card.locator(".page-frame img")
    image.wait_for(timeout=ANSWER_TIMEOUT)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert "highlighted" in image.get_attribute("alt")
    screenshot(page, "chat-pdf")

    number, start, end = (int(card.get_attribute(f"data-{k}")) for k in ("page", "start", "end"))
    doc = pdfium.PdfDocument(otter_pdf)
    left, bottom, right, top = doc[number - 1].get_bbox()  # the crop box, inherited or not
    doc.close()
    shown = image.bounding_box()
    sx, sy = shown["width"] / (right - left), shown["height"] / (top - bottom)
    chars = [(shown["x"] + (x0 - left) * sx, shown["y"] + (top - y1) * sy, shown["x"] + (x1 - left) * sx,
              shown["y"] + (top - y0) * sy) for x0, y0, x1, y1 in char_boxes(otter_pdf, number, start, end)]
    boxes = [(b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"])
             for b in (h.bounding_box() for h in card.locator(".highlight").all())]
    assert chars and boxes
    slack = 1.5  # px: the image's pixel grid
    for x0, y0, x1, y1 in chars:  # every cited character is under a box...
        assert any(b[0] - slack <= x0 and x1 <= b[2] + slack and b[1] - slack <= y0 and y1 <= b[3] + slack
                   for b in boxes), (x0, y0, x1, y1)
    union = [min(c[0] for c in chars), min(c[1] for c in chars), max(c[2] for c in chars), max(c[3] for c in chars)]
    for b in boxes:  # ...and no box reaches beyond them
        assert union[0] - slack <= b[0] and b[2] <= union[2] + slack and union[1] - slack <= b[1] and b[3] <= union[3] + slack


def test_copy_gives_the_plain_answer_followed_by_its_sources(served, page):
    expected = httpx.post(f"{served}/v1/ask", json={"question": QUESTION}, timeout=60).json()
    page.goto(served)
    ask(page, QUESTION)
    page.get_by_role("button", name="Copy answer and sources").click()
    page.get_by_role("button", name="Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(expected["answer"] + "\n\nSources:\n")
    assert "<" not in copied and "\\" not in copied  # no markup, no markdown escapes
    for c in expected["citations"]:
        assert f'[{c["n"]}] {c["source"]}' in copied and c["text"] in copied


def test_a_conversation_survives_a_reload_with_its_memory(served, page):
    page.goto(served)
    ask(page, QUESTION)
    page.reload()
    page.locator("#chat a.cite").first.wait_for()
    assert QUESTION in page.locator("#chat").inner_text()
    assert page.locator("#src-1-1").is_visible()
    ask(page, FOLLOW_UP)  # the memory came back too: the follow-up is read with the first question
    assert QUESTION in page.locator("#chat .searched").inner_text()
    screenshot(page, "conversation-after-reload")


def test_a_glued_follow_up_shows_what_was_searched(served, page):
    page.goto(served)
    ask(page, QUESTION)
    ask(page, FOLLOW_UP)
    searched = page.locator("#chat .searched").inner_text()
    assert searched.startswith("Searched:") and QUESTION in searched and FOLLOW_UP in searched
    assert page.locator("#chat .searched").count() == 1  # not for the first question: searched as typed
    screenshot(page, "searched-follow-up")


def test_a_new_question_after_another_is_searched_as_typed(served, page):
    page.goto(served)
    ask(page, QUESTION)
    ask(page, "Who is Kaja Kallas?")
    assert page.locator("#chat .searched").count() == 0
    assert "Estonian Prime Minister" in page.locator("#chat").inner_text()


def test_new_conversation_clears_the_chat_the_memory_and_the_sources(served, page):
    page.goto(served)
    ask(page, QUESTION)
    page.get_by_role("button", name="New conversation").click()
    page.locator("#sources .none").wait_for()
    assert page.locator("#chat .message").count() == 0
    ask(page, FOLLOW_UP)
    assert page.locator("#chat .searched").count() == 0  # nothing to glue it to


def test_the_trash_icon_clears_the_memory_too(served, page):
    page.goto(served)
    ask(page, QUESTION)
    page.locator("#chat").get_by_role("button", name="Clear").click()
    page.locator("#sources .none").wait_for()
    ask(page, FOLLOW_UP)
    assert page.locator("#chat .searched").count() == 0


def test_earlier_conversations_are_kept_and_can_be_reopened(served, page):
    page.goto(served)
    ask(page, QUESTION)
    page.get_by_role("button", name="New conversation").click()
    page.locator("#sources .none").wait_for()
    ask(page, "Who is the Estonian prime minister?")
    page.reload()
    picker = page.locator("#conversation-picker input")
    picker.wait_for()
    picker.click()
    page.get_by_role("option", name=QUESTION).click()
    page.locator("#chat").get_by_text(QUESTION).wait_for()
    assert "Estonian" not in page.locator("#chat").inner_text()
    screenshot(page, "conversations")


def test_on_a_phone_the_box_is_full_width_and_a_source_leads_back_to_the_answer(served, page):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 420, "height": 900})
    page.goto(served)
    ask(page, QUESTION)
    box, chat = page.locator("#question").bounding_box(), page.locator("#chat").bounding_box()
    assert box["width"] >= 0.95 * chat["width"]
    marker = page.locator("#chat a.cite").first
    marker.click()
    back = page.locator("#sources .source.active").get_by_role("link", name="Back to the answer")
    expect(back).to_be_in_viewport()
    screenshot(page, "phone-source")
    back.click()
    expect(marker).to_be_in_viewport()
    screenshot(page, "phone-back-to-answer")


# WCAG's contrast ratio of an element's text colour against the first opaque background behind it.
CONTRAST = r"""(el) => {
  const rgb = (c) => c.match(/[\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                                      .reduce((sum, v, i) => sum + [0.2126, 0.7152, 0.0722][i] * v, 0);
  let node = el, back = [255, 255, 255];
  for (; node; node = node.parentElement) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length < 4 || c[3] === 1) { back = c; break; }
  }
  const [hi, lo] = [lum(rgb(getComputedStyle(el).color)), lum(back)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}"""


def test_in_dark_mode_answers_citations_and_sources_stay_readable(served, page):
    page.goto(f"{served}/?__theme=dark")
    ask(page, QUESTION)
    page.locator("#chat a.cite").first.click()
    page.locator("#sources .source.active").wait_for()
    for shown in ["#chat a.cite", "#chat .bot .message-content", "#chat button.copy-answer", "#sources .title",
                  "#sources blockquote", "#sources mark", "#sources .asked"]:
        assert page.locator(shown).first.evaluate(CONTRAST) >= 4.5, shown  # WCAG AA for text
    screenshot(page, "dark-mode")


def test_the_llm_choice_is_visible_with_a_hint_when_none_is_configured(served, page):
    page.goto(served)
    mode = page.locator("#mode")
    mode.wait_for()
    assert "RAG_LLM_URL" in mode.inner_text()


def test_no_untranslated_label_shows(served, page):
    page.goto(served)
    ask(page, QUESTION)  # an event has completed: Gradio announces it
    page.get_by_role("tab", name="Documents").click()
    page.get_by_role("tab", name="Evaluate").click()
    shown = page.evaluate("""() => [document.body.innerText, ...[...document.querySelectorAll("*")].flatMap(
        (el) => ["aria-label", "title", "placeholder", "alt"].map((a) => el.getAttribute(a) || ""))].join("\\n")""")
    assert not re.search(r"\b(common|chatbot|upload_text|file)\.\w+", shown)


def test_in_a_browser_a_script_inside_a_document_is_shown_not_run(served, page):
    hostile = ('The otter festival opens on Friday <script>window.pwned = 1</script> '
               '<img src=x onerror="window.pwned = 2"> with a parade.')
    added = httpx.post(f"{served}/v1/documents", files=[("files", ("otters.md", hostile.encode(), "text/markdown"))],
                       timeout=60)
    assert added.status_code == 200, added.text
    try:
        page.goto(served)
        ask(page, "When does the otter festival open?")
        page.locator("#chat a.cite").first.click()
        page.locator("#sources .source.active").wait_for()
        assert page.evaluate("window.pwned") is None
        assert "<script>" in page.locator("#chat").inner_text()
        assert "<script>" in page.locator("#sources").inner_text()
    finally:
        httpx.delete(f"{served}/v1/documents/otters.md", timeout=60)


def test_every_label_and_text_uses_one_complete_system_typeface(served, page):
    page.goto(served)
    page.wait_for_function("getComputedStyle(document.querySelector('#ask') ?? document.body).fontFamily"
                           ".startsWith('system-ui')")  # once the theme's stylesheet is in
    families = page.evaluate("""() => [...document.fonts].map(f => f.family)""")
    assert not any("Source Sans" in family for family in families)  # its SemiBold file lacks most letters
    ask_font = page.evaluate("getComputedStyle(document.querySelector('#ask')).fontFamily")
    text_font = page.evaluate("getComputedStyle(document.querySelector('#question textarea')).fontFamily")
    assert ask_font == text_font and ask_font.startswith("system-ui")


def test_hints_under_labels_have_the_contrast_wcag_aa_asks_for(served, page):
    page.goto(served)
    hint = page.locator("#mode .info-text")
    hint.wait_for()
    ratio = page.evaluate("""(el) => {
      const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
      const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92
                                   : ((v + 0.055) / 1.055) ** 2.4; }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
      let back = el;
      while (back && getComputedStyle(back).backgroundColor.match(/[\\d.]+/g)?.[3] === "0") back = back.parentElement;
      const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(rgb(getComputedStyle(back || document.body).backgroundColor))];
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }""", hint.element_handle())
    assert ratio >= 4.5
