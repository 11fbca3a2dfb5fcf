"""Streamed answers. What streams is the *verified* answer cut into word-sized pieces: the LLM's
unchecked draft never reaches a client, and the pieces concatenate to exactly the final answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from rag.types import Answer


def pieces(text: str) -> list[str]:
    """The answer as word-sized deltas whose concatenation is exactly the answer."""
    return re.findall(r"\S+\s*|\s+", text)


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream_answer(answer: Answer) -> Iterator[str]:
    """POST /v1/ask with `stream: true`: `delta` events, then `answer` (the answer JSON), then `done`."""
    for piece in pieces(answer.answer):
        yield sse("delta", {"text": piece})
    yield sse("answer", answer.to_dict())
    yield sse("done", {})
