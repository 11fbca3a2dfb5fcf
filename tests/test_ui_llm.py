"""The chat with a real LLM (SmolLM2-135M served by llama.cpp) in a real browser: the draft is shown as
a draft until the verified answer replaces it, and Stop cancels a pending answer, in the page and on
the LLM server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .conftest import SEEDS
from .llm_servers import start_llm_server
from .rag_server import rag_server
from .ui_browser import ANSWER_TIMEOUT, screenshot
from .waiting import wait_until

pytestmark = pytest.mark.server

# Asked to list 40 shelves, SmolLM2 goes on writing past them: without Stop it would run for minutes.
INVENTORY = "# Warehouse inventory\n\n" + "\n".join(
    f"Shelf {i}: box number {i} holds {i * 3} bolts." for i in range(1, 41)) + "\n"
LONG_QUESTION = "List every shelf of the warehouse inventory with its bolts, one per line."


@pytest.fixture(scope="module")
def llm() -> Iterator[str]:
    """llama.cpp with no cap of its own on the tokens generated; yields its root URL (no /v1)."""
    with start_llm_server(n_predict=-1) as (url, _model):
        yield url.removesuffix("/v1")


@pytest.fixture(scope="module")
def served_llm(llm, tmp_path_factory, embedder) -> Iterator[str]:
    """`rag serve` over the seeds and the inventory, answering with SmolLM2 and up to 4,000 tokens."""
    from rag.config import Settings
    from rag.service import Rag

    docs = tmp_path_factory.mktemp("llm-docs")
    (docs / "inventory.md").write_text(INVENTORY)
    index = tmp_path_factory.mktemp("llm-index")
    Rag(Settings(index_dir=index), embedder).index([SEEDS, docs], progress=False)
    with rag_server(index, RAG_LLM_URL=f"{llm}/v1", RAG_LLM_MODEL="smollm2", RAG_LLM_MAX_TOKENS="4000",
                    RAG_LLM_TIMEOUT="600") as url:
        yield url


def generating(llm: str) -> bool:
    return httpx.get(f"{llm}/slots", timeout=10).json()[0]["is_processing"]


def ask_the_llm(page, url: str, question: str) -> None:
    page.goto(url)
    page.get_by_label("LLM: smollm2").check()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()


def test_stop_cancels_a_pending_llm_answer_in_the_page_and_on_the_llm_server(served_llm, llm, page):
    ask_the_llm(page, served_llm, LONG_QUESTION)
    page.locator("#chat .draft").wait_for(timeout=ANSWER_TIMEOUT)  # the model is writing
    assert page.locator("#question textarea").is_disabled()  # nothing typed meanwhile can be lost
    assert generating(llm)
    screenshot(page, "llm-draft-before-stop")
    page.get_by_role("button", name="Stop").click()
    page.locator("#chat .stopped").wait_for()
    assert page.locator("#question textarea").is_enabled()
    assert page.locator("#question textarea").input_value() == LONG_QUESTION  # ready to ask again
    wait_until(lambda: not generating(llm), "llama.cpp to stop generating", timeout=60)
    screenshot(page, "llm-stopped")


def test_an_llm_draft_is_marked_as_a_draft_until_the_verified_answer_replaces_it(served_llm, page):
    ask_the_llm(page, served_llm, "How many Ukrainian troops have French forces trained?")
    page.wait_for_function("""() => {  // one look at the page, so both hold at the same moment
        const stage = document.querySelector("#chat .stage"), label = document.querySelector("#chat .draft-label");
        return stage && label && stage.textContent.includes("Writing with smollm2")
               && label.textContent.includes("not yet checked against the sources");
    }""", timeout=ANSWER_TIMEOUT)
    screenshot(page, "llm-draft")
    page.locator("#chat button.copy-answer").wait_for(timeout=ANSWER_TIMEOUT)
    assert page.locator("#chat .draft").count() == 0 and page.locator("#chat .stage").count() == 0
    assert page.locator("#chat a.cite").count() > 0 or page.locator("#chat .abstained").count() == 1
    screenshot(page, "llm-verified")
