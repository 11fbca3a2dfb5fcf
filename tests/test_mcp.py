"""The MCP face through the official SDK's own client: `rag mcp` over stdio, and Streamable HTTP at
/mcp of a real `rag serve`. An assistant gets a cited answer, the passages and the documents."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from mcp import Client, StdioServerParameters

from .conftest import seed_index
from .rag_server import RAG
from .test_api import QUESTION, assert_valid_citations

pytestmark = pytest.mark.server
TOOLS = {"ask", "search", "list_documents"}


def call(server, tool: str, arguments: dict) -> tuple[set[str], object]:
    """(the server's tool names, the tool's result), through one client session."""

    async def session():
        async with Client(server) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            return names, await client.call_tool(tool, arguments)

    # in a thread of its own: the browser tests' Playwright keeps an event loop running in this one
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(anyio.run, session).result()


@pytest.fixture(scope="module")
def stdio(tmp_path_factory, embedder) -> StdioServerParameters:
    """`rag mcp` as an assistant starts it, over its own seed index."""
    index = seed_index(tmp_path_factory.mktemp("mcp-index"), embedder)
    return StdioServerParameters(command=RAG, args=["mcp", "--index", str(index)])


def test_over_stdio_ask_gives_a_cited_answer(stdio):
    tools, result = call(stdio, "ask", {"question": QUESTION})
    assert tools == TOOLS and not result.is_error
    answer = result.structured_content
    assert "10,000" in answer["answer"] and not answer["abstained"]
    assert_valid_citations(answer)


def test_over_stdio_a_question_over_the_cap_is_a_tool_error(stdio):
    _, result = call(stdio, "ask", {"question": "x" * 4001})
    assert result.is_error and "at most 4000 characters" in result.content[0].text


def test_over_http_ask_gives_a_cited_answer(served):
    tools, result = call(f"{served}/mcp", "ask", {"question": QUESTION})
    assert tools == TOOLS and not result.is_error
    assert_valid_citations(result.structured_content)


def test_over_http_search_gives_ranked_verbatim_passages(served):
    _, result = call(f"{served}/mcp", "search", {"question": "Who is the Estonian prime minister?", "k": 3})
    hits = result.structured_content["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3] and "Kaja Kallas" in hits[0]["text"]


def test_over_http_list_documents_names_what_is_indexed(served):
    _, result = call(f"{served}/mcp", "list_documents", {})
    assert "000_aea647b47e874b1a.txt" in {d["source"] for d in result.structured_content["documents"]}
