"""Document cards (issue 26): each document knows what it is, a question finds the look-alike it
names, "the latest" is the newest by the dates the documents state, and a question across documents
is answered from each of them. Four quarterly reports of two companies that look alike: the company
and the period are on the cover only, the figures on later pages, a running line on every page."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rag.card_index import CardIndex
from rag.cards import Card, line_key, make_card
from rag.config import Settings
from rag.loaders import load
from rag.service import Rag
from rag.types import Page

from .conftest import indexed_rag
from .files import write_docx, write_epub, write_html, write_pdf
from .rag_server import RAG

RUNNING = "Quarterly Report on Form 10-Q - unaudited"
FILINGS = {  # file name: (company, ticker, period ended, net sales, R&D, inventories)
    "2023 Q1 NWT.pdf": ("Northwind Traders Inc.", "NWT", "April 1, 2023", "412", "57", "88"),
    "2023 Q2 NWT.pdf": ("Northwind Traders Inc.", "NWT", "July 1, 2023", "437", "61", "93"),
    "2023 Q1 CTSO.pdf": ("Contoso Ltd.", "CTSO", "April 1, 2023", "1,204", "133", "310"),
    "2023 Q2 CTSO.pdf": ("Contoso Ltd.", "CTSO", "July 1, 2023", "1,262", "141", "297"),
}


def filing(path: Path, company: str, ticker: str, period: str, sales: str, research: str, stock: str) -> Path:
    cover = (f"For the quarterly period ended {period}\nCommission File Number: 001-36743\n\n{company}\n"
             f"(Exact name of registrant as specified in its charter)\n\nTrading Symbol(s)\n{ticker}\n\n{RUNNING}")
    results = (f"Net sales for the quarter were ${sales} million. Research and development expense for the quarter "
               f"was ${research} million, as the company kept investing in new products.\n\n{RUNNING}")
    balance = (f"Inventories were ${stock} million at the end of the quarter, as the company built stock ahead of "
               f"the selling season.\n\n{RUNNING}")
    return write_pdf(path, [cover, results, balance], title=["UNITED STATES SECURITIES AND EXCHANGE COMMISSION",
                                                            "FORM 10-Q"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("filings")
    for name, facts in FILINGS.items():
        filing(folder / name, *facts)
    return folder


@pytest.fixture(scope="module")
def rag(folder, tmp_path_factory, embedder) -> Rag:
    return indexed_rag(tmp_path_factory.mktemp("filings-index"), folder, embedder)


def card(rag: Rag, source: str) -> dict:
    return next(d for d in rag.documents() if d["source"] == source)


def test_a_pdfs_card_has_its_title_block_its_names_and_the_date_its_first_page_states(rag):
    d = card(rag, "2023 Q2 NWT.pdf")
    assert "FORM 10-Q" in d["title"]
    assert "Northwind Traders Inc." in d["names"] and "NWT" in d["names"]
    assert d["date"] == "2023-07-01"


def test_a_forms_captioned_name_is_a_name_whether_the_caption_is_below_it_or_beside_it():
    above = make_card([Page("a.pdf", 1, "FORM 10-Q\nContoso Ltd.\n(Exact name of registrant as specified in its charter)")])
    beside = make_card([Page("b.pdf", 1, "FORM 10-Q\nContoso Ltd. (Exact name of registrant as specified in its charter)")])
    assert "Contoso Ltd." in above.names and "Contoso Ltd." in beside.names


def test_docx_html_and_epub_documents_are_titled_by_their_own_metadata(tmp_path):
    docx_ = write_docx(tmp_path / "minutes.docx", ["The board met on 3 May 2022."], title="Board Minutes, Spring")
    html = write_html(tmp_path / "page.html", "<p>Opening hours are 9 to 5.</p>", title="Visitor Guide")
    book = write_epub(tmp_path / "book.epub", ["<p>It was a dark night.</p>"])
    titles = {path.name: make_card(load(path, path.name, 10**8)).title for path in (docx_, html, book)}
    assert titles == {"minutes.docx": "Board Minutes, Spring", "page.html": "Visitor Guide", "book.epub": "Test book"}


def test_a_title_read_off_the_first_line_is_in_the_label_that_rides_with_every_chunk():
    text = "ADULT SCREENING FOR HEPATITIS C IN HOSPITALS IN COLOMBIA\n\nSTUDY PROTOCOL\n\nNovember 2023"
    made = make_card([Page("nih/NCT06155006_Prot.pdf", 1, text)])
    assert made.title == "ADULT SCREENING FOR HEPATITIS C IN HOSPITALS IN COLOMBIA"
    assert made.title in made.label


def test_a_forms_title_cell_beside_its_label_is_a_name():
    text = "Study Protocol\n\nTitle\tComparison of low dose Emicizumab and factor VIII prophylaxis in hemophilia A\n"
    assert "Comparison of low dose Emicizumab and factor VIII prophylaxis in hemophilia A" in make_card(
        [Page("p.pdf", 1, text)]).names


def test_a_short_form_comes_before_its_long_form_so_a_long_title_does_not_crowd_it_out_of_the_label():
    text = "JOINT STRATEGIC PLAN\n" + "Strategic goals and objectives for the years ahead. " * 4 + (
        "\nthe Department of State and the United States Agency for International Development (USAID) share it.")
    assert make_card([Page("p.pdf", 1, text, title="JOINT STRATEGIC PLAN " * 12)]).label.count("USAID") == 1


def test_every_chunk_carries_its_documents_card_in_its_context(rag):
    chunks = rag.passages("2023 Q1 CTSO.pdf")
    assert len({c.page for c in chunks}) == 3
    assert all("Contoso Ltd." in c.context and "April 1, 2023" in c.context for c in chunks)


def test_a_line_on_three_pages_is_a_repeated_line_of_the_card_wherever_it_sits():
    pages = [Page("r.pdf", n, f"Page {n} of the report.\nSome text about topic {n}.\n{RUNNING}\nMore about {n}.")
             for n in (1, 2, 3)]
    assert make_card(pages).repeated == {line_key(RUNNING), "page # of the report."}
    assert line_key(f"{RUNNING} 12") == line_key(f"{RUNNING} 13") != line_key("Net sales\t81,797\t82,959")


def test_a_repeated_line_is_never_cited(rag):
    answer = rag.ask("Which quarterly report on Form 10-Q is unaudited?")
    assert all(line_key(RUNNING) not in line_key(c.text) for c in answer.citations)


def test_a_question_naming_the_company_finds_its_filing_first_though_only_the_cover_names_it(rag):
    hits = rag.search("How much did Contoso spend on research and development in the quarter ended April 1, 2023?", 5)
    assert hits[0].chunk.source == "2023 Q1 CTSO.pdf"
    answer = rag.ask("How much did Contoso spend on research and development in the quarter ended April 1, 2023?")
    assert not answer.abstained and "$133 million" in answer.answer
    assert {c.source for c in answer.citations} == {"2023 Q1 CTSO.pdf"}


def test_the_latest_picks_the_newest_of_the_named_companys_filings_by_their_dates(rag):
    answer = rag.ask("What were Northwind's net sales according to its most recent quarterly report?")
    assert "$437 million" in answer.answer
    assert {c.source for c in answer.citations} == {"2023 Q2 NWT.pdf"}


def test_a_question_across_documents_cites_one_unit_of_each_in_date_order(rag):
    answer = rag.ask("How have Contoso's inventories changed across these quarters?")
    assert [c.source for c in answer.citations] == ["2023 Q1 CTSO.pdf", "2023 Q2 CTSO.pdf"]
    assert answer.answer.index("$310 million") < answer.answer.index("$297 million")


def test_a_search_across_documents_returns_evidence_of_each(rag):
    hits = rag.search("Compare Northwind's research and development expense across these quarters", 4)
    assert {"2023 Q1 NWT.pdf", "2023 Q2 NWT.pdf"} <= {h.chunk.source for h in hits}


def test_rag_documents_lists_each_documents_title_date_and_names(rag):
    index = str(rag.settings.index_dir)
    listed = subprocess.run([RAG, "documents", "--json", "--index", index], capture_output=True, text=True,
                            timeout=300, check=True)
    d = {x["source"]: x for x in json.loads(listed.stdout)["documents"]}["2023 Q1 CTSO.pdf"]
    assert d["date"] == "2023-04-01" and "Contoso Ltd." in d["names"] and d["dates"][0] == "2023-04-01"
    shown = subprocess.run([RAG, "documents", "--index", index], capture_output=True, text=True, timeout=300, check=True)
    assert "2023 Q1 CTSO.pdf  (pdf, 3 page(s)" in shown.stdout and "dated 2023-04-01" in shown.stdout


def test_the_llm_reads_passages_of_each_document_a_question_across_documents_names(rag):
    question = "Compare Contoso's net sales across these quarters."
    found = rag.answerer.across(question, question, rag.embedder.encode([question])[0])
    assert {h.chunk.source for h in found.passages} == {"2023 Q1 CTSO.pdf", "2023 Q2 CTSO.pdf"}


def test_documents_described_in_words_only_their_cards_hold_are_found_and_one_such_word_is_not_enough():
    labels = {"prp.pdf": "Comparison between Platelet Rich Plasma and Corticosteroids for Rotator Cuff Tendinopathy",
              "sinus.pdf": "Rhomboid flap outcome in recurrent sacrococcygeal pilonidal sinus",
              "walk.pdf": "Postprandial ambulation in gestational diabetes and air quality"}
    vector = np.ones(4, dtype=np.float32) / 2
    index = CardIndex({s: (Card(s, label=label), vector) for s, label in labels.items()}, 0.6)
    scores = dict.fromkeys(labels, 0.0)
    both = "What age ranges do the platelet rich plasma rotator cuff trial and the recurrent pilonidal sinus flap trial admit?"
    assert sorted(index.described(both, scores, [])) == ["prp.pdf", "sinus.pdf"]
    assert index.described("Which trial measured the air in the ward?", scores, []) == []
