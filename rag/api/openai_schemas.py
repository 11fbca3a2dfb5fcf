"""The OpenAI chat-completions shapes /v1/chat/completions and /v1/models take and return, as far
as this server uses them; the request allows every other OpenAI field (temperature, …) and
ignores it. The limits are /v1/ask's: a question (the last message) of at most 4,000 characters,
turns of at most 20,000, at most 50 earlier user/assistant turns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from rag import schemas

EXTRACTIVE, LLM = "rag", "rag-llm"


def text_of(content: str | list[dict] | None) -> str:
    """Content as plain text; the list form's text parts joined (images are not read)."""
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return content or ""


class Message(BaseModel):
    role: str
    content: str | list[dict] | None = None

    def text(self) -> str:
        return text_of(self.content)

    @field_validator("content")
    @classmethod
    def not_too_long(cls, content: str | list[dict] | None) -> str | list[dict] | None:
        if (size := len(text_of(content))) > schemas.MAX_TURN_CHARS:
            raise PydanticCustomError("string_too_long", "a message has {size} characters; at most {limit}",
                                      {"size": size, "limit": schemas.MAX_TURN_CHARS})
        return content


class StreamOptions(BaseModel):
    include_usage: bool = Field(False, description="A last chunk with empty `choices` and the `usage`, as OpenAI sends.")


class RagFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: schemas.Sources | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, …: accepted, not used
    model: str = EXTRACTIVE
    messages: list[Message] = Field(min_length=1, max_length=2 * schemas.MAX_HISTORY_TURNS + 1,
                                    description="The last one, a user message, is the question; earlier user and "
                                                "assistant messages are the conversation; system messages are ignored.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    rag_sources: bool | None = Field(None, description="Append the sources block (a blank line, then "
                                                       '`[n] file, page N: "span"` per citation) to the content; '
                                                       "default RAG_OPENAI_SOURCES (on).")
    rag_filter: RagFilter | None = Field(None, description='Scope the question: `{"sources": [...]}`, as '
                                                           "/v1/ask's `sources`.")

    @field_validator("messages")
    @classmethod
    def within_limits(cls, messages: list[Message]) -> list[Message]:
        question = messages[-1].text().strip()
        if len(question) > schemas.MAX_QUESTION_CHARS:
            raise PydanticCustomError("string_too_long", "the question (the last message) has {size} characters; "
                                      "at most {limit}", {"size": len(question), "limit": schemas.MAX_QUESTION_CHARS})
        turns = sum(m.role in ("user", "assistant") for m in messages[:-1])
        if turns > schemas.MAX_HISTORY_TURNS:
            raise PydanticCustomError("too_long", "{turns} earlier user/assistant messages; at most {limit}",
                                      {"turns": turns, "limit": schemas.MAX_HISTORY_TURNS})
        return messages


# --- responses -----------------------------------------------------------------------------------
class Usage(BaseModel):
    """Counted with the embedding model's tokenizer (rag.embeddings.Embedder.tokenizer, WordPiece):
    prompt = every message's text, completion = the content returned, sources block included."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: str
    logprobs: None = None


class RagFields(BaseModel):
    """The answer contract's machine-readable part, beside OpenAI's fields."""

    citations: list[schemas.Citation] = Field(description="What the `[n]` markers in the content resolve to.")
    abstained: bool = Field(description="True when the documents don't hold the answer.")
    short_answer: schemas.ShortAnswer | None = Field(None, description="The few words that answer the question, "
                                                                       "inside a cited sentence (see /v1/ask).")


class ChatCompletion(RagFields):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int
    delta: Delta
    finish_reason: str | None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One `data:` line of the stream. The chunk with `finish_reason: "stop"` also carries `citations`,
    `abstained` and `short_answer`, and `usage` unless `stream_options.include_usage` asked for OpenAI's own last
    chunk (empty `choices`, `usage`)."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    citations: list[schemas.Citation] | None = None
    abstained: bool | None = None
    short_answer: schemas.ShortAnswer | None = None


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "rag"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]
