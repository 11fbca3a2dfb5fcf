"""MCP face (Model Context Protocol, official `mcp` SDK): the tools `ask`, `search` and
`list_documents`, over stdio (`rag mcp`, for a desktop assistant that starts it) and Streamable
HTTP at /mcp of `rag serve`. `ask` returns the same answer JSON as every other face; the tools'
input schemas carry /v1/ask's limits."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from importlib.metadata import version

from mcp.server.mcpserver import MCPServer
from starlette.routing import BaseRoute

from rag import schemas
from rag.service import Rag

INSTRUCTIONS = ("Answers questions from the user's indexed documents. `ask` returns an answer whose every "
                "sentence ends with [n] markers resolved in `citations` (file, page, verbatim span), or "
                "`abstained: true` when the documents don't hold the answer: quote the citations, don't add to "
                "them. `search` returns the best matching passages, `list_documents` what is indexed.")
PATH = "/mcp"


def server(rag: Rag) -> MCPServer:
    mcp = MCPServer("rag", instructions=INSTRUCTIONS, version=version("rag"), log_level="WARNING")

    @mcp.tool()
    def ask(question: schemas.Question, history: schemas.History | None = None, llm: bool = False,
            k: schemas.K | None = None, sources: schemas.Sources | None = None) -> schemas.Answer:
        """Answer a question from the indexed documents: every sentence cited to a verbatim span, or
        `abstained: true`. `history`: earlier turns ({role: user|assistant, content}), oldest first.
        `sources`: only these documents (globs or folders, as list_documents names them)."""
        turns = [t.model_dump() for t in history or []]
        return schemas.Answer(**rag.ask(question, turns, use_llm=llm, k=k, sources=sources).to_dict())

    @mcp.tool()
    def search(question: schemas.Question, k: schemas.K | None = None,
               sources: schemas.Sources | None = None) -> schemas.SearchResult:
        """The passages that best match a question, ranked, each a verbatim span of its document.
        `sources`: only these documents (globs or folders)."""
        return schemas.SearchResult(question=question, hits=[h.to_dict() for h in rag.search(question, k, sources)])

    @mcp.tool()
    def list_documents() -> schemas.Documents:
        """The indexed documents: source, pages, chunks, and whether each was uploaded."""
        return schemas.Documents(documents=rag.documents())

    return mcp


def http(rag: Rag, *, host: str, max_body_bytes: int) -> tuple[list[BaseRoute], AbstractAsyncContextManager]:
    """(the /mcp route for `rag serve`'s app, the session manager its lifespan must run). Stateless:
    every request stands alone, so nothing is kept between them. Bound to loopback, it refuses Host
    and Origin headers of other names (DNS rebinding); on other interfaces RAG_API_KEY guards it."""
    mcp = server(rag)
    app = mcp.streamable_http_app(streamable_http_path=PATH, stateless_http=True, json_response=True,
                                  host=host, max_request_body_size=max_body_bytes)
    return app.routes, mcp.session_manager.run()
