"""The small data types that travel between stages and out through every face (CLI, API, UI, eval)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Page:
    """Text of one source (or one page of a PDF) exactly as it is indexed; offsets point into `text`."""

    source: str
    page: int | None
    text: str
    title: str | None = None  # the document's own title (PDF/DOCX/HTML metadata), when it has one


@dataclass(frozen=True)
class Chunk:
    """A verbatim span of a Page: `page_text[start:end] == text` always holds. `context` says which
    document (and section) it comes from; it is embedded and BM25-indexed with the text, never cited."""

    id: str
    source: str
    page: int | None
    start: int
    end: int
    text: str
    context: str = ""


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its rank and fused relevance score. `dense`: the cosine the score holds
    (None when the chunk was found by BM25 alone and the dense floor stood in for it)."""

    rank: int
    score: float
    chunk: Chunk
    dense: float | None = None

    def to_dict(self) -> dict:
        c = self.chunk
        return {"rank": self.rank, "score": round(self.score, 6), "chunk_id": c.id, "source": c.source,
                "page": c.page, "start": c.start, "end": c.end, "text": c.text}


@dataclass(frozen=True)
class Citation:
    """What an `[n]` marker resolves to: `text == page_text[start:end]` of the cited source."""

    n: int
    source: str
    page: int | None
    chunk_id: str
    start: int
    end: int
    text: str
    score: float
    strength: float | None = None  # the reading model's P(this span answers the question)


@dataclass(frozen=True)
class ShortAnswer:
    """The few words that answer the question, as the reading model marks them inside the unit cited
    by `[citation]`: `text == page_text[start:end]` of that citation's source, within its span."""

    text: str
    citation: int
    start: int
    end: int


@dataclass
class Answer:
    """The one answer shape: the CLI prints it, the API returns it, eval records it."""

    question: str
    answer: str
    citations: list[Citation]
    abstained: bool
    answerer: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    searched: str | None = None
    warnings: list[str] = field(default_factory=list)
    short_answer: ShortAnswer | None = None

    def to_dict(self) -> dict:
        return asdict(self)
