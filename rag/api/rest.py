"""The REST routes under /v1 and /health: the answer, search and document operations of `Rag`,
each with its response model and every error status it can answer documented in the OpenAPI
description (what /docs shows)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from rag import schemas
from rag.api.streaming import stream_answer
from rag.service import Rag

ERRORS = {
    400: "`llm: true` with no LLM configured, or an upload name that can't be used.",
    401: "Missing or wrong API key (only when the server runs with RAG_API_KEY).",
    404: "No indexed document has that name.",
    409: "Nothing is indexed yet.",
    413: "The request body is over RAG_MAX_REQUEST_MB (uploads: a file over RAG_MAX_FILE_MB, "
         "all files over RAG_MAX_UPLOAD_MB).",
    503: "Another process holds the index's write lock for longer than RAG_LOCK_TIMEOUT.",
}
SSE_EXAMPLE = ('event: delta\ndata: {"text": "French forces have trained "}\n\n…\n\n'
               'event: answer\ndata: {"question": "…", "answer": "…", "citations": [...], …}\n\n'
               "event: done\ndata: {}\n\n")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entries of these error statuses, each `{"detail": str}`."""
    return {status: {"model": schemas.Error, "description": ERRORS[status]} for status in statuses}


def router(rag: Rag) -> APIRouter:
    v1 = APIRouter(prefix="/v1")

    @v1.post("/ask", tags=["answers"], response_model=schemas.Answer, responses={
        200: {"description": "The answer JSON; with `stream: true`, server-sent events instead: `delta` "
                             "events (`{\"text\"}` pieces that concatenate to the final answer), then "
                             "`answer` (the answer JSON), then `done`.",
              "content": {"text/event-stream": {"schema": {"type": "string"}, "example": SSE_EXAMPLE}}},
        **errors(400, 401, 409, 413)})
    async def ask(body: schemas.AskRequest):
        """Answer a question: every sentence cited, or `abstained: true`."""
        answer = await run_in_threadpool(rag.ask, body.question, [t.model_dump() for t in body.history],
                                         use_llm=body.llm, k=body.k, sources=body.sources)
        if body.stream:
            return StreamingResponse(stream_answer(answer), media_type="text/event-stream")
        return answer.to_dict()

    @v1.post("/search", tags=["answers"], responses=errors(400, 401, 409, 413))
    def search(body: schemas.SearchRequest) -> schemas.SearchResult:
        """The passages that best match a question, as `rag search --json` prints them."""
        hits = rag.search(body.question, body.k, body.sources, body.per_document)
        return {"question": body.question, "hits": [h.to_dict() for h in hits]}

    @v1.get("/documents", tags=["documents"], responses=errors(401))
    def documents() -> schemas.Documents:
        """What is indexed."""
        return {"documents": rag.documents()}

    @v1.post("/documents", tags=["documents"], max_body_size=int(rag.settings.max_upload_mb * 1e6), responses={
        **errors(400, 401, 413, 503),
        422: {"model": schemas.UploadReport, "description": "None of the files could be read (each is listed "
                                                             "under `failures`), or no `files` were sent."}})
    async def upload(files: Annotated[list[UploadFile], File(description="txt, md, html, pdf, docx, …")]
                     ) -> schemas.UploadReport:
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

    @v1.delete("/documents/{source:path}", tags=["documents"], responses=errors(401, 404, 503))
    def remove(source: str) -> schemas.Removed:
        """Remove a document from the index (and its uploaded file)."""
        return {"removed": source, "chunks": rag.remove(source)}

    return v1


def health_router(rag: Rag) -> APIRouter:
    service = APIRouter(tags=["service"])

    @service.get("/health")
    def health() -> schemas.Health:
        """Liveness and what is loaded; open without a key, and it reveals no document names."""
        documents = rag.documents()
        return {"status": "ok", "documents": len(documents), "chunks": sum(d["chunks"] for d in documents),
                "llm": rag.settings.llm_model if rag.settings.llm_url else None}

    return service
