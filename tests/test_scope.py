"""Asking within chosen documents (issue 27): the seed article and two PDFs indexed, a question scoped
to some of them cites only those, on every face; retrieval filters before it ranks; a pattern that
names nothing is an error, never an empty answer."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import httpx
import pytest

from rag.config import Settings
from rag.errors import UnknownSourceError
from rag.service import Rag

from .conftest import SEEDS
from .conftest import indexed_rag
from .files import write_pdf
from .rag_server import RAG
from .test_mcp import call
from .ui_browser import OTTER_PAGES, OTTER_QUESTION, ask, upload

PROTOCOL = Path(__file__).parent / "data" / "pdfs" / "NCT06154122_Prot_000.pdf"
SEED_QUESTION = "How many Ukrainian troops have French forces trained?"
OTTER = "otter-report.pdf"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scope-docs")
    shutil.copytree(SEEDS, folder, dirs_exist_ok=True)
    (folder / "pdfs").mkdir()
    write_pdf(folder / "pdfs" / OTTER, OTTER_PAGES)
    shutil.copy(PROTOCOL, folder / "pdfs" / PROTOCOL.name)
    return folder


@pytest.fixture(scope="module")
def scoped_rag(folder, tmp_path_factory, embedder) -> Rag:
    return indexed_rag(tmp_path_factory.mktemp("scope-index"), folder, embedder)


def cited(answer: dict) -> set[str]:
    return {c["source"] for c in answer["citations"]}


def test_a_scoped_question_cites_only_the_chosen_documents(scoped_rag):
    everywhere = scoped_rag.ask(SEED_QUESTION)
    assert not everywhere.abstained and all(c.source.endswith(".txt") for c in everywhere.citations)
    within = scoped_rag.ask(SEED_QUESTION, sources=[f"pdfs/{OTTER}"])
    assert {c.source for c in within.citations} <= {f"pdfs/{OTTER}"}


def test_a_scoped_search_fills_k_from_the_chosen_document_not_from_the_overall_top_k(scoped_rag):
    hits = scoped_rag.search(SEED_QUESTION, 5, sources=[f"pdfs/{PROTOCOL.name}"])
    assert len(hits) == 5 and {h.chunk.source for h in hits} == {f"pdfs/{PROTOCOL.name}"}


def test_a_folder_name_or_a_glob_chooses_documents(scoped_rag):
    both = {f"pdfs/{OTTER}", f"pdfs/{PROTOCOL.name}"}
    assert scoped_rag.scope(["pdfs"]) == both == scoped_rag.scope(["pdfs/*.pdf"])
    assert scoped_rag.scope(["*otter*", "pdfs/NCT*"]) == both
    assert scoped_rag.scope([]) is None


def test_a_pattern_that_matches_no_document_is_an_error(scoped_rag):
    with pytest.raises(UnknownSourceError, match="'reports/\\*'"):
        scoped_rag.ask(SEED_QUESTION, sources=["reports/*"])


def test_the_cli_scopes_with_source_and_exits_2_on_an_unknown_pattern(scoped_rag):
    index = str(scoped_rag.settings.index_dir)
    ok = subprocess.run([RAG, "ask", OTTER_QUESTION, "--json", "--index", index, "--source", "*otter*"],
                        capture_output=True, text=True, timeout=300, check=True)
    assert cited(json.loads(ok.stdout)) == {f"pdfs/{OTTER}"}
    bad = subprocess.run([RAG, "search", OTTER_QUESTION, "--index", index, "--source", "nothing*"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "no indexed document matches 'nothing*'" in bad.stderr


@pytest.fixture
def served_three(served, otter_pdf) -> str:
    """`rag serve` over the seed article with the otter PDF and a real protocol uploaded."""
    upload(served, otter_pdf, PROTOCOL)
    return served


def test_rest_openai_and_mcp_answer_within_sources_and_refuse_unknown_ones(served_three):
    scope = [OTTER]
    rest = httpx.post(f"{served_three}/v1/ask", json={"question": SEED_QUESTION, "sources": scope}, timeout=60)
    assert rest.status_code == 200 and cited(rest.json()) <= {OTTER}
    search = httpx.post(f"{served_three}/v1/search", json={"question": SEED_QUESTION, "sources": scope, "k": 3},
                        timeout=60).json()
    assert {h["source"] for h in search["hits"]} == {OTTER}
    openai = httpx.post(f"{served_three}/v1/chat/completions", timeout=60,
                        json={"model": "rag", "messages": [{"role": "user", "content": OTTER_QUESTION}],
                              "rag_filter": {"sources": scope}}).json()
    assert cited(openai) == {OTTER}
    _, mcp = call(f"{served_three}/mcp", "ask", {"question": SEED_QUESTION, "sources": scope})
    assert not mcp.is_error and cited(mcp.structured_content) <= {OTTER}
    unknown = httpx.post(f"{served_three}/v1/ask", json={"question": SEED_QUESTION, "sources": ["nothing*"]},
                         timeout=60)
    assert unknown.status_code == 400 and "nothing*" in unknown.text


def test_in_the_chat_a_chosen_document_scopes_the_question(served_three, page):
    page.goto(served_three)
    page.locator("#scope input").click()
    page.get_by_role("option", name=OTTER).click()
    page.keyboard.press("Escape")
    ask(page, SEED_QUESTION)
    assert "10,000" not in page.locator("#chat").inner_text()  # the seed article's answer is out of scope
    ask(page, OTTER_QUESTION)
    assert "412" in page.locator("#chat").inner_text()


def test_on_a_phone_the_document_picker_fits_the_screen_with_a_long_name_chosen(served_three, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(served_three)
    page.locator("#scope input").click()
    page.get_by_role("option", name=PROTOCOL.name).click()
    page.keyboard.press("Escape")
    picker = page.locator("#scope").bounding_box()
    assert picker["x"] >= 0 and picker["x"] + picker["width"] <= 390
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390


def test_per_document_caps_one_documents_hits_so_the_others_get_places(scoped_rag):
    question = SEED_QUESTION
    assert max(Counter(h.chunk.source for h in scoped_rag.search(question, 6)).values()) > 2
    hits = scoped_rag.search(question, 6, per_document=2)
    per_source = Counter(h.chunk.source for h in hits)
    assert max(per_source.values()) <= 2 and len(per_source) == 3
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_the_cli_takes_per_document(scoped_rag):
    index = str(scoped_rag.settings.index_dir)
    out = subprocess.run([RAG, "search", OTTER_QUESTION, "--json", "-k", "4", "--per-document", "1", "--index", index],
                         capture_output=True, text=True, timeout=300, check=True)
    sources = [json.loads(line)["source"] for line in out.stdout.splitlines()]
    assert len(sources) == len(set(sources)) == 3  # three documents, one hit each: fewer than k
