"""The faces other packages plug in at / (the Gradio UI, entry point group `rag.faces`), built after
the server listens.

Importing Gradio and building the UI takes ~2 s, longer than loading a 100k-chunk index. An API
client should not wait for a UI it never opens, so `rag serve` answers /v1 and /mcp at once and
builds the faces in a thread meanwhile. A browser that asks for / before they are ready waits for
them (they are seconds away) instead of getting an error page."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import EntryPoint

from fastapi import FastAPI
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from rag.service import Rag

log = logging.getLogger(__name__)

WAIT_S = 60.0  # how long a request to / waits for the faces before a 503


class LateFaces:
    """An ASGI app for the catch-all mount at /: the faces' own app once built, until then a wait.

    The faces mount themselves on an inner FastAPI app as they would on the server's (a face is a
    `mount(app, rag)`); its lifespan (Gradio's queue) runs in one task for the server's lifetime."""

    def __init__(self, rag: Rag, faces: list[EntryPoint]) -> None:
        self.rag, self.faces = rag, faces
        self.inner = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
        self.ready = asyncio.Event()
        self.failure: str | None = None

    def _build(self) -> None:
        for face in self.faces:
            face.load()(self.inner, self.rag)

    async def _run(self, stop: asyncio.Event) -> None:
        try:
            await asyncio.to_thread(self._build)
            async with self.inner.router.lifespan_context(self.inner):
                self.ready.set()
                await stop.wait()
        except Exception as e:  # the API goes on serving; / says why the UI is missing
            self.failure = f"the chat UI failed to start: {type(e).__name__}: {e}"
            log.exception("the chat UI failed to start")
            self.ready.set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the server's lifespan: builds the faces in the background while the server serves."""
        stop = asyncio.Event()
        task = asyncio.create_task(self._run(stop))
        try:
            yield
        finally:
            stop.set()
            await task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), WAIT_S)
            except TimeoutError:
                pass
        if self.failure or not self.ready.is_set():
            reason = self.failure or f"the chat UI is still starting after {WAIT_S:.0f} s; try again"
            if scope["type"] == "http":
                await PlainTextResponse(reason, status_code=503, headers={"Retry-After": "5"})(scope, receive, send)
            elif scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1013, "reason": reason[:120]})
            return
        await self.inner(scope, receive, send)
