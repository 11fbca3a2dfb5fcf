"""HTTP face: REST under /v1, an OpenAI-compatible chat endpoint (rag/openai_compat.py), /health.

Every route calls the same `Rag` the CLI uses and returns the same answer JSON. Other faces (the
Gradio UI in `ui/`) plug in through the `rag.faces` entry point group, so this core package never
imports them: each entry point is a `mount(app, rag) -> None`."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterator
from importlib.metadata import entry_points, version
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rag.errors import DocumentNotFoundError, IndexLockedError, IndexNotFoundError, RagError
from rag.service import Rag
from rag.types import Answer

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class Turn(BaseModel):
    role: str = Field(pattern="^(user|assistant)$")
    content: str = Field(max_length=20000)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Question
    history: list[Turn] = Field(default_factory=list, max_length=50,
                                description="Earlier turns, oldest first, for follow-up questions.")
    llm: bool = Field(False, description="Answer with the configured LLM (citations still enforced).")
    k: int | None = Field(None, ge=1, le=50, description="Passages retrieved (default RAG_TOP_K).")
    stream: bool = Field(False, description="Server-sent events: `delta` text pieces, then `answer`, then `done`.")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Question
    k: int | None = Field(None, ge=1, le=50)


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def pieces(text: str) -> list[str]:
    """The answer as word-sized deltas whose concatenation is exactly the answer."""
    return re.findall(r"\S+\s*|\s+", text)


def stream_answer(answer: Answer) -> Iterator[str]:
    """Streamed text is the *verified* answer: the LLM's unchecked draft never reaches a client."""
    for piece in pieces(answer.answer):
        yield sse("delta", {"text": piece})
    yield sse("answer", answer.to_dict())
    yield sse("done", {})


BEARER = HTTPBearer(auto_error=False, description="Needed when the server runs with RAG_API_KEY set.")


UNAUTHORIZED = "missing or wrong API key: send `Authorization: Bearer <RAG_API_KEY>`"


def key_matches(api_key: str, authorization: str | None) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), api_key.encode())


def bearer_auth(api_key: str | None):
    def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        given = f"Bearer {credentials.credentials}" if credentials else None
        if api_key is not None and not key_matches(api_key, given):
            raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})

    return check


def create_app(rag: Rag, *, faces: bool = True) -> FastAPI:
    """The one FastAPI app `rag serve` runs. `faces=False` leaves out the UI (API-only tests)."""
    from rag.openai_compat import router as openai_router

    app = FastAPI(title="rag", version=version("rag"),
                  description="Answers from your documents, every sentence cited to a verbatim span.")
    app.state.rag = rag
    limit = int(rag.settings.max_request_mb * 1e6)  # per router, not app-wide: the UI's uploads have their own
    auth = [Depends(bearer_auth(rag.settings.api_key))]
    v1 = APIRouter(prefix="/v1", dependencies=auth, max_body_size=limit)

    if rag.settings.api_key:
        @app.middleware("http")
        async def docs_need_the_key(request: Request, call_next):
            """The API description is a route too; with a key it is no more open than the API."""
            if request.url.path in (app.docs_url, app.redoc_url, app.openapi_url, app.swagger_ui_oauth2_redirect_url) \
                    and not key_matches(rag.settings.api_key, request.headers.get("authorization")):
                return JSONResponse({"detail": UNAUTHORIZED}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
            return await call_next(request)

    @app.exception_handler(RagError)
    async def rag_error(request: Request, e: RagError) -> JSONResponse:
        status = (404 if isinstance(e, DocumentNotFoundError) else 409 if isinstance(e, IndexNotFoundError)
                  else 503 if isinstance(e, IndexLockedError) else 400)
        return JSONResponse({"detail": str(e)}, status_code=status)

    @app.exception_handler(ValueError)
    async def value_error(request: Request, e: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=400)

    @app.get("/health", tags=["service"])
    def health() -> dict:
        """Liveness and what is loaded; open without a key, and it reveals no document names."""
        documents = rag.documents()
        return {"status": "ok", "documents": len(documents), "chunks": sum(d["chunks"] for d in documents),
                "llm": rag.settings.llm_model if rag.settings.llm_url else None}

    @v1.post("/ask", tags=["answers"], responses={200: {"description": "The answer JSON, or with "
                                                         "`stream: true` a text/event-stream."}})
    async def ask(body: AskRequest):
        """Answer a question: every sentence cited, or `abstained: true`."""
        answer = await run_in_threadpool(rag.ask, body.question, [t.model_dump() for t in body.history],
                                         use_llm=body.llm, k=body.k)
        if body.stream:
            return StreamingResponse(stream_answer(answer), media_type="text/event-stream")
        return answer.to_dict()

    @v1.post("/search", tags=["answers"])
    def search(body: SearchRequest) -> dict:
        """The passages that best match a question, as `rag search --json` prints them."""
        return {"question": body.question, "hits": [h.to_dict() for h in rag.search(body.question, body.k)]}

    @v1.get("/documents", tags=["documents"])
    def documents() -> dict:
        return {"documents": rag.documents()}

    @v1.post("/documents", tags=["documents"], max_body_size=int(rag.settings.max_upload_mb * 1e6))
    async def upload(files: Annotated[list[UploadFile], File(description="txt, md, html, pdf or docx")]):
        """Upload and index documents. Files that can't be read are listed under `failures` and not
        kept; if none could be indexed the answer is 422."""
        limit = int(rag.settings.max_file_mb * 1e6)
        data = {}
        for f in files:
            content = await f.read(limit + 1)
            if len(content) > limit:
                raise HTTPException(413, f"{f.filename}: over the {rag.settings.max_file_mb:g} MB limit")
            data[f.filename or ""] = content
        report = await run_in_threadpool(rag.add, data)
        body = {"files": report.files, "added": report.added, "unchanged": report.skipped,
                "deleted": report.deleted, "failures": [{"file": e.path.rsplit("/", 1)[-1], "reason": e.reason}
                                                        for e in report.failures]}
        return JSONResponse(body, status_code=422 if report.failures and not report.files else 200)

    @v1.delete("/documents/{source:path}", tags=["documents"])
    def remove(source: str) -> dict:
        """Remove a document from the index (and its uploaded file)."""
        return {"removed": source, "chunks": rag.remove(source)}

    app.include_router(v1)
    app.include_router(openai_router(rag), dependencies=auth, max_body_size=limit)
    if faces:
        for face in entry_points(group="rag.faces"):
            face.load()(app, rag)
    return app
