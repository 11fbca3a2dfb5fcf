"""The JSON every face sends and takes, as pydantic models: the HTTP API validates requests and
documents responses with them, the MCP tools declare them as input and output schemas. Response
models allow extra fields, so a field added to rag.types reaches every face before it is
documented here (tests/test_api.py checks that none is missing)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_QUESTION_CHARS = 4000
MAX_TURN_CHARS = 20000
MAX_HISTORY_TURNS = 50

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS)]
K = Annotated[int, Field(ge=1, le=50, description="Passages retrieved (default RAG_TOP_K).")]
Sources = Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=1000)]], Field(
    max_length=100, description="Answer from these documents only: globs over the indexed paths (`ntsb/*.pdf`) or "
                                "folders (`ntsb`), as `rag documents` lists them; a pattern that matches nothing "
                                "is a 400. Empty or absent: every document.")]


# --- requests ------------------------------------------------------------------------------------
class Turn(BaseModel):
    role: str = Field(pattern="^(user|assistant)$")
    content: str = Field(max_length=MAX_TURN_CHARS)


History = Annotated[list[Turn], Field(max_length=MAX_HISTORY_TURNS,
                                      description="Earlier turns, oldest first, for follow-up questions.")]


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Question
    history: History = Field(default_factory=list)
    llm: bool = Field(False, description="Answer with the configured LLM (citations still enforced).")
    k: K | None = None
    stream: bool = Field(False, description="Server-sent events: `delta` text pieces, then `answer`, then `done`.")
    sources: Sources | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Question
    k: K | None = None
    sources: Sources | None = None
    per_document: int | None = Field(None, ge=1, le=50, description="At most this many hits of one document "
                                                                     "(`rag search --per-document`).")


# --- responses -----------------------------------------------------------------------------------
class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Citation(Open):
    """What an `[n]` marker resolves to: `text` is exactly `source_text[start:end]`."""

    n: int = Field(description="The number of the `[n]` marker in the answer.")
    source: str = Field(description="The document, as indexed (path relative to the folder indexed).")
    page: int | None = Field(description="PDF page, 1-based; null for documents without pages.")
    chunk_id: str
    start: int = Field(description="Character offset of the span in the page's text.")
    end: int
    text: str = Field(description="The cited span, verbatim.")
    score: float = Field(description="Retrieval score of the chunk the span was taken from: a weighted sum of "
                                     "its cosine to the question and its max-normalised BM25 score, 0–1.")
    strength: float | None = Field(None, description="How likely the span answers the question, 0–1: the "
                                                     "reading model's probability (`rag.answer.strength` says "
                                                     "what the words strong / moderate / weak mean).")


class ShortAnswer(Open):
    """The reading model's short answer: `text` is exactly `source_text[start:end]`, inside the span of
    citation `citation`."""

    text: str
    citation: int = Field(description="The `n` of the citation whose span holds it.")
    start: int = Field(description="Character offset in the same page text as the citation's.")
    end: int


class Answer(Open):
    """The answer contract: every sentence of `answer` ends with `[n]` markers resolved in
    `citations`, or `abstained` is true and the answer says the documents don't hold it."""

    question: str
    answer: str
    citations: list[Citation]
    abstained: bool
    answerer: str = Field(description='"extractive", or the LLM\'s model name.')
    timings_ms: dict[str, float] = Field(description="retrieve, answer, total (ms).")
    searched: str | None = Field(None, description="What was searched, when a follow-up was rewritten.")
    warnings: list[str] = Field(default_factory=list)
    short_answer: ShortAnswer | None = Field(None, description="The few words that answer the question, inside "
                                                               "a cited sentence; null when abstained, for a "
                                                               "yes/no question, or when no cited sentence holds it.")


class Hit(Open):
    rank: int
    score: float = Field(description="Fused dense + BM25 relevance.")
    chunk_id: str
    source: str
    page: int | None
    start: int
    end: int
    text: str = Field(description="The chunk, verbatim: `source_text[start:end]`.")


class SearchResult(Open):
    question: str
    hits: list[Hit]


class Document(Open):
    source: str
    pages: int
    chunks: int
    uploaded: bool = Field(description="Uploaded through the API/UI, not indexed from a folder.")
    type: str = Field(description="The file's extension, lower case: pdf, docx, html, md, txt, …")
    size: int | None = Field(description="The file's size in bytes; null once the file is gone.")
    indexed: str | None = Field(description="When it was last indexed (ISO 8601, UTC).")
    title: str = Field("", description="What the document calls itself: a PDF's title block (its largest type on the "
                                       "first page), metadata or running header; an HTML <title>; a first heading.")
    names: list[str] = Field([], description="Other names its first page gives it or its subject: a name beside its "
                                             "short form, a trading symbol, a form's identifying fields.")
    dates: list[str] = Field([], description="The dates its first page states (ISO 8601), in order.")
    date: str | None = Field(None, description="The document's date: the first of `dates` (a date in the title first).")


class Documents(Open):
    documents: list[Document]


class Failure(Open):
    file: str
    reason: str


class UploadReport(Open):
    files: int = Field(description="Files indexed.")
    added: int = Field(description="Chunks added.")
    unchanged: int = Field(description="Chunks that were already indexed.")
    deleted: int = Field(description="Chunks removed (a replaced file's old ones).")
    failures: list[Failure] = Field(description="Files that could not be read; they are not kept.")


class Removed(Open):
    removed: str
    chunks: int = Field(description="Chunks removed.")


class Health(Open):
    status: str
    documents: int
    chunks: int
    llm: str | None = Field(description="The configured LLM's model name, or null.")


class Error(BaseModel):
    detail: str = Field(description="What was wrong, in words.")
