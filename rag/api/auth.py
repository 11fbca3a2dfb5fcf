"""RAG_API_KEY: every /v1 route depends on `bearer_auth`; the routes outside /v1 that reveal or
answer as much as the API (the OpenAPI description, its docs pages, the MCP endpoint) are kept
behind the key by `guard_paths`. /health and the docs' static assets stay open."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

BEARER = HTTPBearer(auto_error=False, description="Needed when the server runs with RAG_API_KEY set.")
UNAUTHORIZED = "missing or wrong API key: send `Authorization: Bearer <RAG_API_KEY>`"


def key_matches(api_key: str, authorization: str | None) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), api_key.encode())


def bearer_auth(api_key: str | None) -> Callable[..., None]:
    def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        given = f"Bearer {credentials.credentials}" if credentials else None
        if api_key is not None and not key_matches(api_key, given):
            raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})

    return check


def guard_paths(app: FastAPI, api_key: str, paths: set[str]) -> None:
    """Requests to `paths` need the key too."""

    @app.middleware("http")
    async def need_the_key(request: Request, call_next):
        if request.url.path in paths and not key_matches(api_key, request.headers.get("authorization")):
            return JSONResponse({"detail": UNAUTHORIZED}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return await call_next(request)
