"""One settings object. Environment variables `RAG_*` set it; CLI flags override single fields."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    index_dir: Path = Field(Path("index"), description="Where the embedded Chroma store and the records live.")
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server; unset = embedded.")
    collection: str = "rag"
    embed_model: str | None = Field(
        None, description="Folder of a local sentence-transformers model with mean pooling (all-MiniLM-*, "
                          "all-mpnet-base-v2, …); unset = the bundled all-MiniLM-L6-v2."
    )
    embed_precision: str = Field("auto", pattern="^(auto|fp32|bf16)$",
                                 description="Indexing arithmetic: auto = bf16 where the CPU has native bf16.")
    cache_dir: Path | None = Field(None, description="Where the ONNX export of the model is kept; "
                                                     "unset = $XDG_CACHE_HOME/rag or ~/.cache/rag.")
    chunk_size: int = Field(500, gt=50, description="Maximum characters per chunk.")
    chunk_overlap: int = Field(60, ge=0)
    top_k: int = Field(5, gt=0)
    candidates: int = Field(50, gt=0, description="Hits taken from each of dense and BM25 before fusion.")
    dense_weight: float = Field(0.6, ge=0, le=1, description="Weight of cosine vs. max-normalised BM25.")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are skipped with a message.")
    max_file_chars: int = Field(5_000_000, gt=0, description="Files with more extracted text are skipped: it bounds "
                                                           "chunking memory and embedding time.")
    max_inflated_mb: float = Field(50.0, gt=0, description="Compressed content (a DOCX's parts together, each PDF "
                                                          "stream) may inflate to this much; bombs are skipped.")
    max_pdf_pages: int = Field(5000, gt=0, description="PDFs with more pages are skipped.")
    max_load_seconds: float = Field(60.0, gt=0, description="Reading one file stops after this long (checked between "
                                                            "pages, paragraphs and tags).")
    lock_timeout: float = Field(600.0, ge=0, description="Seconds a writer waits for another process that is "
                                                         "writing to the same index folder before giving up.")

    upload_dir: Path | None = Field(None, description="Where documents uploaded through the API/UI are kept; "
                                                      "unset = <index_dir>/uploads.")
    api_key: str | None = Field(None, repr=False, description="When set, every /v1 route needs "
                                                               "`Authorization: Bearer <key>`.")
    max_request_mb: float = Field(1.0, gt=0, description="Largest JSON request body `rag serve` reads (413 above).")
    max_upload_mb: float = Field(200.0, gt=0, description="Largest document upload request, all files together.")
    openai_sources: bool = Field(True, description="/v1/chat/completions appends a sources block to the content "
                                                   '(per request: "rag_sources"), for clients that show only it.')

    llm_url: str | None = Field(None, description="OpenAI-compatible base URL (…/v1) or an Ollama URL.")
    llm_model: str = Field("smollm2", description="Model name the LLM server knows.")
    llm_api_key: str = Field("none", repr=False, description="Sent as a Bearer token; never logged.")
    llm_provider: str = Field("openai", pattern="^(openai|ollama)$", description="Protocol of RAG_LLM_URL.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before a call to the LLM gives up.")
    llm_max_retries: int = Field(1, ge=0)
    llm_max_tokens: int = Field(256, gt=0)

    @property
    def uploads(self) -> Path:
        return self.upload_dir or self.index_dir / "uploads"
