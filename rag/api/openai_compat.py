"""OpenAI-compatible face: `POST /v1/chat/completions`, `GET /v1/models` and `/v1/models/{id}`,
so the openai SDK, LangChain's `ChatOpenAI`, the `llm` CLI and chat front-ends talk to the answerer
as if it were a model. Model `rag` answers extractively, `rag-llm` with the configured LLM.

The last user message is the question, earlier user/assistant messages are the conversation
(system messages are ignored: the answerer's rules are not negotiable). Most clients show only the
content, so the content is the answer with its `[n]` markers and then a sources block that says
what each marker cites (per request `"rag_sources": false`, or RAG_OPENAI_SOURCES=false, leaves it
out). The same citations travel machine-readable in the extra `citations` field, with `abstained`.
`usage` counts tokens with the embedding model's tokenizer."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from rag.api.errors import ApiError, OpenAIError
from rag.api.openai_schemas import EXTRACTIVE, LLM, ChatCompletion, ChatRequest, Model, ModelList
from rag.api.streaming import pieces
from rag.service import Rag
from rag.types import Answer

SOURCES_BLOCK = re.compile(r'\n\n(?:\[\d+\] [^\n]+?: "[^\n]*"\n?)+\Z')
CHUNKS_EXAMPLE = ('data: {"id": "chatcmpl-…", "object": "chat.completion.chunk", "choices": [{"index": 0, '
                  '"delta": {"content": "French "}, "finish_reason": null}], …}\n\n…\n\n'
                  'data: {…, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "citations": [...], '
                  '"abstained": false, "usage": {…}}\n\ndata: [DONE]\n\n')


def sources_block(answer: Answer) -> str:
    """A blank line, then `[n] file, page N: "span"` per citation ("" when nothing is cited)."""
    lines = [f"[{c.n}] {c.source}{f', page {c.page}' if c.page else ''}: \"{' '.join(c.text.split())}\""
             for c in answer.citations]
    return "\n\n" + "\n".join(lines) if lines else ""


def without_sources(text: str) -> str:
    """An earlier answer of ours sent back as history, without its sources block."""
    return SOURCES_BLOCK.sub("", text)


def tokens(rag: Rag, texts: list[str]) -> int:
    """Tokens of the embedding model's tokenizer, whole texts counted: the tokenizer truncates at the
    model's limit and keeps the rest as overflowing pieces, which are added back."""
    encodings = rag.embedder.tokenizer.encode_batch(texts, add_special_tokens=False) if texts else []
    return sum(len(e.ids) + sum(len(o.ids) for o in e.overflowing) for e in encodings)


@dataclass
class Reply:
    answer: Answer
    content: str
    usage: dict[str, int]


def reply(rag: Rag, body: ChatRequest) -> Reply:
    """Answer the request (in a worker thread: it embeds, searches and counts tokens)."""
    *earlier, last = body.messages
    history = [{"role": m.role, "content": without_sources(m.text()) if m.role == "assistant" else m.text()}
               for m in earlier if m.role in ("user", "assistant")]
    answer = rag.ask(last.text().strip(), history, use_llm=body.model == LLM,
                     sources=body.rag_filter.sources if body.rag_filter else None)
    sources = rag.settings.openai_sources if body.rag_sources is None else body.rag_sources
    content = answer.answer + (sources_block(answer) if sources else "")
    prompt, completion = tokens(rag, [m.text() for m in body.messages]), tokens(rag, [content])
    return Reply(answer, content, {"prompt_tokens": prompt, "completion_tokens": completion,
                                   "total_tokens": prompt + completion})


def rag_fields(answer: Answer) -> dict:
    data = answer.to_dict()
    return {"citations": data["citations"], "abstained": answer.abstained, "short_answer": data["short_answer"]}


def completion(r: Reply, model: str) -> dict:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                         "message": {"role": "assistant", "content": r.content}}],
            "usage": r.usage, **rag_fields(r.answer)}


def chunks(r: Reply, model: str, include_usage: bool) -> Iterator[str]:
    """The answer's pieces, the sources block as one more piece, the finish chunk with the citations,
    then (as OpenAI does when asked) a last chunk with empty `choices` and the usage. Unasked, the
    usage rides on the finish chunk, so the clients that read it there (LangChain, the SDK's
    `.stream()` helper) report it too."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model} | ({"usage": None} if include_usage else {})

    def event(choices: list[dict], **extra) -> str:
        return f"data: {json.dumps(base | {'choices': choices} | extra, ensure_ascii=False)}\n\n"

    def delta(content: dict, finish: str | None = None, **extra) -> str:
        return event([{"index": 0, "delta": content, "finish_reason": finish, "logprobs": None}], **extra)

    yield delta({"role": "assistant", "content": ""})
    for piece in pieces(r.answer.answer):
        yield delta({"content": piece})
    if block := r.content[len(r.answer.answer):]:
        yield delta({"content": block})
    yield delta({}, "stop", **rag_fields(r.answer), **({} if include_usage else {"usage": r.usage}))
    if include_usage:
        yield event([], usage=r.usage)
    yield "data: [DONE]\n\n"


def router(rag: Rag) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], responses={
        401: {"model": OpenAIError, "description": "Missing or wrong API key (only with RAG_API_KEY set)."}})

    def models() -> list[str]:
        return [EXTRACTIVE, LLM] if rag.settings.llm_url else [EXTRACTIVE]

    def known(model: str) -> str:
        if model not in models():
            raise ApiError(404, f"model {model!r} not found; available: {', '.join(models())}", "model_not_found",
                           "model")
        return model

    @api.get("/models")
    def list_models() -> ModelList:
        """`rag` (extractive) and, when an LLM is configured, `rag-llm`."""
        return ModelList(data=[Model(id=m) for m in models()])

    @api.get("/models/{model_id:path}", responses={
        404: {"model": OpenAIError, "description": "No such model."},
        422: {"model": OpenAIError, "description": "A malformed request."}})
    def get_model(model_id: str) -> Model:
        return Model(id=known(model_id))

    @api.api_route("/chat/completions", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def wrong_method() -> None:
        """Answered here, not by a face mounted at / (the UI), so the client gets OpenAI's error object."""
        raise ApiError(405, "use POST /v1/chat/completions", "method_not_allowed")

    @api.post("/chat/completions", response_model=ChatCompletion, responses={
        200: {"description": "The completion; with `stream: true`, server-sent events: `data:` lines each "
                             "holding a ChatCompletionChunk, then `data: [DONE]`.",
              "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/ChatCompletionChunk"},
                                                "example": CHUNKS_EXAMPLE}}},
        400: {"model": OpenAIError, "description": "The last message is not a non-empty user message."},
        404: {"model": OpenAIError, "description": "Unknown model."},
        409: {"model": OpenAIError, "description": "Nothing is indexed yet."},
        413: {"model": OpenAIError, "description": "The request body is over RAG_MAX_REQUEST_MB."},
        422: {"model": OpenAIError, "description": "Malformed JSON, a missing or mistyped field, a question over "
                                                   "4,000 characters, a message over 20,000, over 50 earlier turns."}})
    async def chat(body: ChatRequest):
        """Answer the last user message from the documents, the earlier messages as the conversation."""
        known(body.model)
        last = body.messages[-1]
        if last.role != "user" or not last.text().strip():
            raise ApiError(400, "the last message must be a non-empty user message (the question)",
                           "invalid_messages", "messages")
        r = await run_in_threadpool(reply, rag, body)
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(chunks(r, body.model, include_usage), media_type="text/event-stream")
        return completion(r, body.model)

    return api
