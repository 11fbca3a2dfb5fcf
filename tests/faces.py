"""Faces (`rag.faces` entry points) for tests of rag.api.faces: one that is built only when a test
lets it, one that fails to build."""

from __future__ import annotations

import threading
from importlib.metadata import EntryPoint

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

RELEASE = threading.Event()


def face(name: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"tests.faces:{name}", group="rag.faces")


def held(app: FastAPI, _rag) -> None:
    RELEASE.wait(timeout=300)
    app.add_api_route("/", lambda: PlainTextResponse("the held face"))


def broken(_app: FastAPI, _rag) -> None:
    raise RuntimeError("no display for this face")
