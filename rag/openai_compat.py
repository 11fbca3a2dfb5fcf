"""OpenAI-compatible face: `POST /v1/chat/completions` and `GET /v1/models`, so the `openai` client,
LangChain's `ChatOpenAI` and chat front-ends talk to the answerer as if it were a model.

The last user message is the question, earlier user/assistant messages are the conversation
(system messages are ignored: the answerer's rules are not negotiable). The answer text keeps its
`[n]` markers; the citations travel in an extra top-level `citations` field (with `abstained`),
on the completion, or on the last chunk before `[DONE]` when streaming. Model `rag` answers
extractively, `rag-llm` with the configured LLM."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from rag.api import pieces
from rag.service import Rag
from rag.types import Answer

EXTRACTIVE, LLM = "rag", "rag-llm"


class Message(BaseModel):
    role: str
    content: str | list[dict] | None = None

    def text(self) -> str:
        """Content as plain text; the list form's text parts joined (images are not read)."""
        if isinstance(self.content, list):
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, …: accepted, not used
    model: str = EXTRACTIVE
    messages: list[Message] = Field(min_length=1, max_length=100)
    stream: bool = False


def openai_error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": code}},
                        status_code=status)


def completion(answer: Answer, model: str) -> dict:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                         "message": {"role": "assistant", "content": answer.answer}}],
            **extra_fields(answer)}


def extra_fields(answer: Answer) -> dict:
    return {"citations": answer.to_dict()["citations"], "abstained": answer.abstained}


def chunks(answer: Answer, model: str) -> Iterator[str]:
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model}

    def event(delta: dict, finish: str | None = None, **extra) -> str:
        body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for piece in pieces(answer.answer):
        yield event({"content": piece})
    yield event({}, "stop", **extra_fields(answer))
    yield "data: [DONE]\n\n"


def router(rag: Rag) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

    def models() -> list[str]:
        return [EXTRACTIVE, LLM] if rag.settings.llm_url else [EXTRACTIVE]

    @api.get("/models")
    def list_models() -> dict:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "rag"}
                                           for m in models()]}

    @api.post("/chat/completions")
    async def chat(body: ChatRequest):
        if body.model not in models():
            return openai_error(404, f"model {body.model!r} not found; available: {', '.join(models())}",
                                "model_not_found")
        *earlier, last = body.messages
        if last.role != "user" or not last.text().strip():
            return openai_error(400, "the last message must be a non-empty user message (the question)",
                                "invalid_messages")
        history = [{"role": m.role, "content": m.text()} for m in earlier if m.role in ("user", "assistant")]
        answer = await run_in_threadpool(rag.ask, last.text().strip(), history, use_llm=body.model == LLM)
        if body.stream:
            return StreamingResponse(chunks(answer, body.model), media_type="text/event-stream")
        return completion(answer, body.model)

    return api
