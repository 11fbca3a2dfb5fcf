"""The one place that knows Chroma. Chunks live in a Chroma collection (embedded, or a `chroma run`
server when RAG_CHROMA_URL is set); beside it, a SQLite file under the index folder keeps LangChain's
record manager (what is indexed, for incremental runs) and the text of every indexed page, so that
any citation can be re-checked against the exact text its offsets point into."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import sqlalchemy as sa
from langchain_core.documents import Document

from rag.config import Settings
from rag.embeddings import Embedder
from rag.types import Chunk, Page

PAGES = sa.Table(
    "pages", sa.MetaData(),
    sa.Column("source", sa.String, primary_key=True),
    sa.Column("page", sa.Integer, primary_key=True),  # 0 for sources without pages
    sa.Column("root", sa.String, nullable=False),      # the folder given to `rag index`, for pruning
    sa.Column("text", sa.Text, nullable=False),
)


def chunk_to_document(chunk: Chunk) -> Document:
    meta = {"source": chunk.source, "start": chunk.start, "end": chunk.end, "chunk_id": chunk.id}
    if chunk.page is not None:
        meta["page"] = chunk.page  # Chroma metadata can't hold None
    return Document(page_content=chunk.text, metadata=meta, id=chunk.id)


def _chunk(id_: str, text: str, meta: dict) -> Chunk:
    return Chunk(id_, meta["source"], meta.get("page"), meta["start"], meta["end"], text)


def chroma_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=chroma_settings)
    return chromadb.PersistentClient(path=str(settings.index_dir / "chroma"), settings=chroma_settings)


class Store:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        from langchain_chroma import Chroma
        from langchain_classic.indexes import SQLRecordManager

        index_dir = Path(settings.index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        self.vectors = Chroma(
            client=chroma_client(settings), collection_name=settings.collection, embedding_function=embedder,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        self.engine = sa.create_engine(f"sqlite:///{(index_dir / 'records.sqlite').resolve()}")
        self.records = SQLRecordManager(f"chroma/{settings.collection}", engine=self.engine)
        self.records.create_schema()
        PAGES.metadata.create_all(self.engine)

    # --- chunks -------------------------------------------------------------------------
    def count(self) -> int:
        return self.vectors._collection.count()

    def all_chunks(self) -> list[Chunk]:
        got = self.vectors._collection.get(include=["documents", "metadatas"])
        return [_chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def dense_search(self, embedding: list[float], n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first; n must not exceed count()."""
        got = self.vectors._collection.query(query_embeddings=[embedding], n_results=n, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0])]

    def delete_source(self, source: str) -> int:
        keys = self.records.list_keys(group_ids=[source])
        if keys:
            self.vectors.delete(ids=keys)
            self.records.delete_keys(keys)
        with self.engine.begin() as db:
            db.execute(PAGES.delete().where(PAGES.c.source == source))
        return len(keys)

    # --- page texts ---------------------------------------------------------------------
    def put_pages(self, root: str, pages: list[Page]) -> None:
        """Replace the stored texts of one source by its current pages."""
        with self.engine.begin() as db:
            db.execute(PAGES.delete().where(PAGES.c.source == pages[0].source))
            db.execute(PAGES.insert(), [{"source": p.source, "page": p.page or 0, "root": root, "text": p.text}
                                        for p in pages])

    def page_text(self, source: str, page: int | None) -> str | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(PAGES.c.text).where(PAGES.c.source == source,
                                                           PAGES.c.page == (page or 0))).first()
        return row[0] if row else None

    def sources(self, root: str | None = None) -> list[str]:
        query = sa.select(PAGES.c.source).distinct().order_by(PAGES.c.source)
        if root is not None:
            query = query.where(PAGES.c.root == root)
        with self.engine.connect() as db:
            return [r[0] for r in db.execute(query)]
