"""The layout cleanup on real pages: PDFium's lines of PDFs from ../shared/data/pdfs, kept as fixtures by
tests/data/layout/extract.py, so that these tests run without ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.loaders.layout import (CELL, Cleaned, Line, PageLayout, clean_document, compose, running_keys,
                               running_title)

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


def test_a_table_drawn_column_by_column_reads_row_by_row():
    # PDFium gives this table's text in the order it was drawn: "Target / Actual", then "Reduced /
    # Baseline", then the dates, then the figures; a row's label and its figures belong on one line
    page = lines(cleaned("dot_kpi")[1])
    assert f"Target{CELL}Reduced{CELL}2023-09-30{CELL}1.22" in page
    assert f"Actual{CELL}Baseline{CELL}2021-10-01{CELL}1.36" in page


def test_cells_that_wrap_over_several_lines_stay_paragraphs_when_their_columns_come_one_by_one():
    page = lines(cleaned("nih_cells")[0])
    assert ("Validated clinical outcome measures to monitor progression of sensorimotor function, disease-burden "
            "and quality of life in CMT subjects") in page
    assert "No known risks." in page


def test_lists_inside_table_cells_are_not_paired_up_as_rows():
    page = cleaned("nih_cell_lists")[0]
    assert not any(line.startswith("-") and CELL in line for line in lines(page))


def test_hidden_text_a_publishing_tool_left_behind_is_dropped():
    # 1-point anchors such as "_ca108f14-c375-11ec-a8d6-d0221283ea00" and "PLACEHOLDER_2"
    for name in ("dot_kpi", "hhs_table"):
        for page in cleaned(name):
            assert "PLACEHOLDER" not in page and "-11ec-" not in page


def test_text_wrapped_mid_clause_inside_a_narrow_cell_is_joined_even_before_a_number_or_a_name():
    page = lines(cleaned("dot_kpi")[1])
    assert any(line.startswith("By September 30, 2023, the Department will reduce the rate of motor vehicle "
                               "fatalities from 1.36") and line.endswith("to no more than 1.22 per 100 million VMT.")
               for line in page)


def test_the_running_headers_name_the_document():
    pages = pages_of("dot_kpi")
    title = running_title(pages, running_keys(pages))
    assert set(title.split(" | ")) == {"U.S. Department ofTransportation", "Strategic Plan"}  # "Page 10" aside
    assert running_title(pages_of("dot_contents"), running_keys(pages_of("dot_contents"))) is None  # one page


@pytest.mark.parametrize("name", ["ntsb_report", "dhs_hyphenated", "hhs_table", "dot_contents", "nih_bullets",
                                  "dot_kpi", "nih_cells", "nih_cell_lists"])
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
