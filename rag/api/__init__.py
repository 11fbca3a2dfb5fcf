"""HTTP face: REST under /v1 (rag.api.rest), the OpenAI-compatible endpoints
(rag.api.openai_compat), MCP over Streamable HTTP at /mcp (rag.mcp_server), /health, and offline
API docs at /docs and /redoc (rag.api.docs).

Every route calls the same `Rag` the CLI uses and returns the same answer JSON. Other faces (the
Gradio UI in `ui/`) plug in through the `rag.faces` entry point group, so this core package never
imports them: each entry point is a `mount(app, rag) -> None`, built after the server listens
(rag.api.faces)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import EntryPoint, entry_points, version

from fastapi import Depends, FastAPI

from rag import mcp_server
from rag.api import auth, docs, errors, openai_compat, rest
from rag.api.faces import LateFaces
from rag.api.openai_schemas import ChatCompletionChunk
from rag.api.streaming import pieces
from rag.service import Rag

__all__ = ["create_app", "pieces"]


def create_app(rag: Rag, *, faces: list[EntryPoint] | None = None, host: str = "127.0.0.1") -> FastAPI:
    """The one FastAPI app `rag serve` runs on `host`, with the installed `rag.faces` unless `faces`
    names others ([] for none)."""
    limit = int(rag.settings.max_request_mb * 1e6)  # per router, not app-wide: the UI's uploads have their own
    mcp_routes, mcp_sessions = mcp_server.http(rag, host=host, max_body_bytes=limit)
    late = LateFaces(rag, list(entry_points(group="rag.faces")) if faces is None else faces)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with mcp_sessions, late.running():
            yield

    app = FastAPI(title="rag", version=version("rag"), docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Answers from your documents, every sentence cited to a verbatim span. REST under "
                              "/v1, OpenAI-compatible chat completions, MCP at /mcp.")
    app.state.rag = rag
    errors.install(app)
    revealing = docs.serve(app) | {mcp_server.PATH}
    if rag.settings.api_key:
        auth.guard_paths(app, rag.settings.api_key, revealing)
    key = [Depends(auth.bearer_auth(rag.settings.api_key))]
    app.include_router(rest.health_router(rag))
    app.include_router(rest.router(rag), dependencies=key, max_body_size=limit)
    app.include_router(openai_compat.router(rag), dependencies=key, max_body_size=limit)
    docs.add_schemas(app, ChatCompletionChunk)
    app.router.routes.extend(mcp_routes)
    if late.faces:
        app.mount("/", late)
    return app
