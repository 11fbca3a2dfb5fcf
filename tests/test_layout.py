"""The layout cleanup on real pages: PDFium's lines of PDFs from ../shared/data/pdfs, kept as fixtures by
tests/data/layout/extract.py, so that these tests run without ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.loaders.layout import CELL, Cleaned, Line, PageLayout, clean_document, compose

FIXTURES = Path(__file__).parent / "data" / "layout"


def pages_of(name: str) -> list[PageLayout]:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return [PageLayout(page["text"], [Line(**{**line, "cells": tuple(map(tuple, line["cells"]))})
                                      for line in page["lines"]], page["top"], page["bottom"])
            for page in data["pages"]]


def cleaned(name: str) -> list[str]:
    return [page.text for page in clean_document(pages_of(name))]


def lines(text: str) -> list[str]:
    return text.split("\n")


def test_a_sentence_wrapped_over_several_lines_ends_up_on_one_line():
    sentence = ("On December 17, 2007, at 1045 coordinated universal time, a Reims F172 M, French registered "
                "FBVIF, owned by Airclub Besancon la Veze and piloted by the accident pilot, was destroyed when it "
                "impacted terrain under unknown circumstances near Chevroux, France.")
    assert any(line.startswith(sentence) for line in lines(cleaned("ntsb_report")[0]))


def test_paragraphs_are_separated_by_a_blank_line():
    page = cleaned("ntsb_report")[0]
    assert "(LFHS), France.\n\nThe French investigators reported" in page


def test_running_headers_and_page_numbers_are_dropped_from_every_page():
    pages = cleaned("ntsb_report")
    assert not any("Page" in line and " of 3" in line for page in pages for line in lines(page))
    assert "DEN08WA042" not in pages[1] + pages[2]  # the report number in the page header of pages 2 and 3


def test_a_running_line_is_kept_where_it_is_body_text():
    assert f"Accident Number:{CELL}DEN08WA042" in cleaned("ntsb_report")[0]


def test_table_rows_are_one_per_line_with_their_cells_apart():
    page = cleaned("ntsb_report")[0]
    assert f"Location:{CELL}Chevroux, France{CELL}Accident Number:{CELL}DEN08WA042" in lines(page)
    assert f"Aircraft:{CELL}Reims F172 M{CELL}Aircraft Damage:{CELL}Destroyed" in lines(page)


def test_a_table_row_whose_last_cell_wraps_continues_on_its_line():
    page = cleaned("ntsb_report")[2]
    assert any(line.startswith(f"Investigation Docket:{CELL}NTSB accident") and line.endswith("pubdms/.")
               for line in lines(page))


def test_words_hyphenated_at_a_line_end_are_joined():
    page = cleaned("dhs_hyphenated")[0]
    assert "foreign heads of state and government, special events" in page
    assert "\ufffe" not in page


def test_a_hyphen_left_at_a_line_end_stays_and_joins_the_word():
    text = "Results are sent by e-\r\nmail to the sponsor."
    wrapped = [Line(((0, 22),), 72, 540, 700, 688, 60, 72), Line(((24, 44),), 72, 200, 686, 674, 25, 72)]
    [page] = clean_document([PageLayout(text, wrapped, 792, 0)])
    assert page.text == "Results are sent by e-mail to the sponsor."


def test_text_wrapped_inside_a_narrow_table_cell_is_joined():
    page = cleaned("hhs_table")[0]
    assert ("By 2026, establish a formalized funding pathway for the development, validation, and regulatory "
            "review of diagnostic technologies") in page


def test_table_of_contents_entries_are_rows_without_their_leader_dots():
    page = lines(cleaned("dot_contents")[0])
    assert f"Strategy 1.1.2. Operators & Occupants{CELL}10" in page
    assert not any("....." in line for line in page)


def test_list_items_stay_on_lines_of_their_own():
    page = lines(cleaned("nih_bullets")[0])
    assert "● Participant withdrawal of consent" in page
    assert "● Participant unwilling to undergo audio recording of interview" in page


@pytest.mark.parametrize("name", ["ntsb_report", "dhs_hyphenated", "hhs_table", "dot_contents", "nih_bullets"])
def test_every_character_taken_from_the_source_maps_back_to_it(name):
    for layout, page in zip(pages_of(name), clean_document(pages_of(name)), strict=True):
        for at, src, length in page.runs:
            assert page.text[at:at + length] == layout.text[src:src + length]


def test_source_indices_of_a_span_point_at_its_characters_and_skip_separators():
    source = "Location: Chevroux\r\nwrapped"
    page = Cleaned("Location:\tChevroux wrapped", ((0, 0, 9), (10, 10, 8), (19, 20, 7)))
    assert page.source_indices(0, 9) == list(range(9))
    assert "".join(source[i] for i in page.source_indices(5, 26)) == "ion:Chevrouxwrapped"


def test_structured_text_puts_table_rows_on_lines_and_paragraphs_apart():
    text = compose(["A paragraph\n  over   two lines.", [["Year", "Revenue"], ["2023", "$1,204\tm"], ["", ""]],
                    "", "Closing words."])
    assert text == f"A paragraph over two lines.\n\nYear{CELL}Revenue\n2023{CELL}$1,204 m\n\nClosing words."
