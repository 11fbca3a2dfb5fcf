"""Every error the app answers, in the shape its caller's client reads: `{"detail": ...}` on the
REST routes (FastAPI's own), and OpenAI's error object `{"error": {"message", "type", "param",
"code"}}` on the OpenAI-compatible ones, for every status, so the openai SDK shows the reason
instead of a bare "Error code: 422". That covers what FastAPI and Starlette raise themselves too
(422 validation, 413 body too large, 405, 401 from the auth dependency)."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.errors import DocumentNotFoundError, IndexLockedError, IndexNotFoundError, RagError

OPENAI_PATHS = re.compile(r"^/v1/(chat/completions|models(/.*)?)$")
CODES = {400: "invalid_request", 401: "invalid_api_key", 404: "model_not_found", 405: "method_not_allowed",
         409: "index_empty", 413: "request_too_large", 503: "index_locked"}


class OpenAIErrorBody(BaseModel):
    message: str
    type: str = Field(description='"invalid_request_error", or "server_error" for 5xx.')
    param: str | None = Field(description="The request field at fault, dotted (messages.0.content).")
    code: str | None = Field(description="invalid_api_key, model_not_found, string_too_long, request_too_large, …")


class OpenAIError(BaseModel):
    error: OpenAIErrorBody


class ApiError(HTTPException):
    """An HTTPException that names OpenAI's `code` and `param` for its error object."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None) -> None:
        super().__init__(status, message)
        self.code, self.param = code, param


def openai_error(status: int, message: str, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error",
            "param": param, "code": code or CODES.get(status)}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def error(request: Request, status: int, message: str, *, code: str | None = None, param: str | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    if OPENAI_PATHS.match(request.url.path):
        return openai_error(status, message, code, param, headers)
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    app.add_middleware(JsonTooLarge)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> JSONResponse:
        message = too_large(request.scope) if e.status_code == 413 and e.detail == TOO_LARGE else str(e.detail)
        return error(request, e.status_code, message, code=getattr(e, "code", None),
                     param=getattr(e, "param", None), headers=e.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        if not OPENAI_PATHS.match(request.url.path):
            return await request_validation_exception_handler(request, e)
        first = e.errors()[0]
        if first["type"] == "json_invalid":  # its loc is the character where the JSON broke
            return openai_error(422, f"the body is not valid JSON: {first['ctx']['error']} at character "
                                     f"{first['loc'][-1]}", "json_invalid")
        param = ".".join(str(part) for part in first["loc"] if part != "body") or None
        return openai_error(422, f"{param}: {first['msg']}" if param else first["msg"], first["type"], param)

    @app.exception_handler(RagError)
    async def rag_error(request: Request, e: RagError) -> JSONResponse:
        status = (404 if isinstance(e, DocumentNotFoundError) else 409 if isinstance(e, IndexNotFoundError)
                  else 503 if isinstance(e, IndexLockedError) else 400)
        return error(request, status, str(e))

    @app.exception_handler(ValueError)
    async def value_error(request: Request, e: ValueError) -> JSONResponse:
        return error(request, 400, str(e))


TOO_LARGE = "Content Too Large"  # Starlette's detail when a body passes a route's max_body_size


def too_large(scope: Scope) -> str:
    limit = scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    said = f" of {limit / 1e6:g} MB" if limit else ""
    return f"the request body is over this route's limit{said} (RAG_MAX_REQUEST_MB; uploads: RAG_MAX_UPLOAD_MB)"


class JsonTooLarge:
    """Starlette answers a body over a route's `max_body_size` itself, in plain text, whatever the
    app would have sent (it checks Content-Length when the response starts): this ASGI middleware
    turns that answer into the error JSON of the route's face."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        replaced = False

        async def send_json(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413 and not replaced \
                    and dict(message.get("headers", [])).get(b"content-type", b"").startswith(b"text/plain"):
                response = error(Request(scope), 413, too_large(scope))
                replaced = True
                await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
                await send({"type": "http.response.body", "body": response.body})
            elif not replaced:
                await send(message)

        await self.app(scope, receive, send_json)
