"""What the UI makes of answers, without a browser: escaping, cards, copy text, warnings in words, and
the conversations the browser keeps."""

from __future__ import annotations

import dataclasses

from rag.types import Answer, Citation, ShortAnswer
from ui import conversations as conv
from ui.render import (
    answer_html,
    card_html,
    copy_text,
    passage_bounds,
    plain_reason,
    plain_warning,
    sources_html,
)

HOSTILE = '<script>alert("x")</script> <img src=x onerror=alert(1)> **bold** [1](javascript:alert(1))'
PAGE = ("The survey began in 1998. It was led by Dr. Anna Becker of the institute. Volunteers recorded 412 otters "
        "along the river. This is the highest count so far. The festival opens on Friday.")
SPAN = "Volunteers recorded 412 otters along the river."


def hostile_answer() -> Answer:
    citation = Citation(1, "<b>evil</b>.txt", None, "id", 0, len(HOSTILE), HOSTILE, 1.0)
    return Answer("<i>q</i>", HOSTILE + " [1]", [citation], False, "extractive")


def otter_answer(**changes) -> Answer:
    start = PAGE.index(SPAN)
    citation = Citation(1, "reports/otter-survey.pdf", 2, "id", start, start + len(SPAN), SPAN, 0.9)
    return Answer(**{"question": "How many otters?", "answer": f"{SPAN} [1]", "citations": [citation],
                     "abstained": False, "answerer": "extractive"} | changes)


def page_text(source: str, page: int | None) -> str:
    return PAGE


def test_document_text_in_an_answer_is_shown_as_text_not_markup():
    shown = answer_html(hostile_answer(), 1)
    assert "<script>" not in shown and "<img" not in shown and "](javascript" not in shown
    assert '<a href="#src-1-1" class="cite">[1]</a>' in shown


def test_the_short_answer_is_bold_inside_the_sentence_it_cites():
    start = PAGE.index("412")
    shown = answer_html(otter_answer(short_answer=ShortAnswer("412", 1, start, start + 3)), 1)
    assert "Volunteers recorded <strong>412</strong> otters along the river\\." in shown


def test_a_card_says_how_strong_its_evidence_is_and_a_weak_answer_says_so_above_it():
    strong = otter_answer()
    strong.citations = [dataclasses.replace(strong.citations[0], strength=0.97)]
    assert "strong evidence" in card_html(strong.citations[0], 1, page_text)
    assert "weak evidence" not in answer_html(strong, 1)
    weak = otter_answer()
    weak.citations = [dataclasses.replace(weak.citations[0], strength=0.05)]
    assert "weak evidence" in card_html(weak.citations[0], 1, page_text)
    assert answer_html(weak, 1).startswith('<div class="weak-evidence"')


def test_document_text_in_the_sources_panel_is_escaped():
    shown = sources_html([hostile_answer()], lambda source, page: HOSTILE)
    assert "<script>" not in shown and "<img" not in shown and "<b>evil" not in shown and "<i>q" not in shown
    assert "&lt;script&gt;" in shown


def test_a_searched_question_and_a_warning_are_escaped_inside_their_html_blocks():
    shown = answer_html(otter_answer(searched=HOSTILE + "\n\n**x**", warnings=[HOSTILE]), 1)
    assert "<script>" not in shown and "<img" not in shown and "\n\n**x**" not in shown


def test_a_passage_is_cut_at_sentence_boundaries():
    start = PAGE.index(SPAN)
    lo, hi = passage_bounds(PAGE, start, start + len(SPAN), context=60)
    assert PAGE[lo:hi] == "It was led by Dr. Anna Becker of the institute. " + SPAN + " This is the highest count so far."


def test_a_card_is_titled_with_the_document_and_page_and_gives_offsets_in_a_detail_line():
    card = card_html(otter_answer().citations[0], 1, page_text)
    title = card.split('<h4 class="title">')[1].split("</h4>")[0]
    assert title == "[1] otter-survey.pdf, page 2"
    assert f"characters {PAGE.index(SPAN)}–{PAGE.index(SPAN) + len(SPAN)}" in card
    assert f"<mark>{SPAN}</mark>" in card and "data-pdf" in card


def test_a_card_of_a_hash_named_document_is_titled_by_its_first_line():
    citation = Citation(1, "000_aea647b47e874b1a.txt", None, "id", 0, 10, "Macron bui", 1.0)
    card = card_html(citation, 1, lambda source, page: "Macron building a coalition\n\nMore text.")
    assert '<h4 class="title">[1] Macron building a coalition</h4>' in card


def test_copy_text_is_the_plain_answer_followed_by_its_sources():
    assert copy_text(otter_answer()) == f'{SPAN} [1]\n\nSources:\n[1] reports/otter-survey.pdf, page 2, "{SPAN}"'


def test_warnings_say_what_failed_in_words_without_exception_names():
    shown = plain_warning("LLM unavailable (APITimeoutError: Request timed out.); answered extractively")
    assert shown == ("The language model was unavailable: it did not answer in time; this answer quotes the "
                     "documents instead")
    assert "Error" not in plain_warning("LLM unavailable for condensing the follow-up (APIConnectionError)")


def test_an_unreadable_upload_is_said_in_plain_words():
    reason = plain_reason("PDF could not be read (PdfiumError: Failed to load document (PDFium: Data format error).)")
    assert reason == "the file is damaged, or is not really a PDF"


def test_a_stored_conversation_that_is_not_one_is_dropped():
    good = conv.add_turn(conv.checked(None), "How many otters?", otter_answer().to_dict())
    tampered = {"current": "x", "conversations": [{"id": "bad", "title": "t", "turns": [{"question": "q"}]},
                                                  *good["conversations"], "garbage"]}
    store = conv.checked(tampered)
    assert [c["title"] for c in store["conversations"]] == ["How many otters?"]
    assert conv.answers(store)[0].citations == otter_answer().citations
    assert conv.checked("not a store")["conversations"][0]["turns"] == []


def test_a_new_conversation_and_a_cleared_one_have_no_memory():
    store = conv.add_turn(conv.checked(None), "How many otters?", otter_answer().to_dict())
    assert conv.history(store) == [{"role": "user", "content": "How many otters?"},
                                   {"role": "assistant", "content": f"{SPAN} [1]"}]
    fresh = conv.start_new(store)
    assert conv.history(fresh) == [] and len(fresh["conversations"]) == 2
    assert conv.history(conv.select(fresh, store["current"])) != []
    assert conv.history(conv.clear_current(store)) == []
