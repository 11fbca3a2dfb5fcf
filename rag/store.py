"""The one place that knows Chroma. Chunks live in a Chroma collection (embedded, or a `chroma run`
server when RAG_CHROMA_URL is set); beside it, a SQLite file under the index folder keeps LangChain's
record manager (what is indexed, for incremental runs), the text of every indexed page, so that
any citation can be re-checked against the exact text its offsets point into, and the sentence vectors."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import numpy as np
from tqdm import tqdm

from rag.answer.text import sentence_spans
from rag.cards import Card, card_from_dict, stored
from rag.config import Settings
from rag.embeddings import Embedder
from rag.types import Chunk, Page

if TYPE_CHECKING:
    from langchain_core.documents import Document

# Beside LangChain's record manager (table upsertion_record), in the same file: the text of every page
# (page 0 for sources without pages; root = the folder given to `rag index`, for pruning) and, one row
# per chunk, the embeddings of its sentences (rows in sentence_spans(chunk.text) order, float16 to halve
# the file). The extractive answerer scores sentences by them; embedding them per question cost ~60 ms
# of a ~75 ms answer, so they are computed at index time, in the chunk's own encoder pass
# (Embedder.encode_chunks). Plain sqlite3, for these and for the record manager (Records): SQLAlchemy
# costs a question 0.1 s to import, and LangChain's SQL record manager with it ~0.4 s of `rag index`.
SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (source VARCHAR NOT NULL, page INTEGER NOT NULL, root VARCHAR NOT NULL,
                                  text TEXT NOT NULL, PRIMARY KEY (source, page));
CREATE TABLE IF NOT EXISTS sentence_vectors (chunk_id VARCHAR NOT NULL PRIMARY KEY, vectors BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR NOT NULL PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS cards (source VARCHAR NOT NULL PRIMARY KEY, card TEXT NOT NULL, vector BLOB);
CREATE TABLE IF NOT EXISTS exact_vectors (chunk_id VARCHAR NOT NULL PRIMARY KEY, chunk BLOB NOT NULL,
                                          sentences BLOB NOT NULL);
"""
# cards: each source's document card (rag.cards, as JSON) and the embedding of its label (NULL until
# sync_card_vectors, which runs after the chunks are embedded), which questions are matched against.
# meta 'bf16' = '1': some vectors of this index were embedded in bf16 (a writer sets it, none clears it;
# a new index folder starts without it). Its answers then settle close decisions on exact vectors, which
# are kept in exact_vectors once computed (by whichever process asked), so each chunk costs its ~30 ms
# once per index, not once per process; a chunk's id hashes its content, so a kept row is never stale.
# LangChain's record manager's table and indexes, as langchain_classic's SQLRecordManager creates them,
# so that an index folder written by either is read and written by both (Records, below).
RECORDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS upsertion_record (uuid VARCHAR NOT NULL, "key" VARCHAR, namespace VARCHAR NOT NULL,
                                             group_id VARCHAR, updated_at FLOAT, PRIMARY KEY (uuid),
                                             CONSTRAINT uix_key_namespace UNIQUE ("key", namespace));
CREATE INDEX IF NOT EXISTS ix_key_namespace ON upsertion_record ("key", namespace);
CREATE INDEX IF NOT EXISTS ix_upsertion_record_uuid ON upsertion_record (uuid);
CREATE INDEX IF NOT EXISTS ix_upsertion_record_key ON upsertion_record ("key");
CREATE INDEX IF NOT EXISTS ix_upsertion_record_group_id ON upsertion_record (group_id);
CREATE INDEX IF NOT EXISTS ix_upsertion_record_namespace ON upsertion_record (namespace);
CREATE INDEX IF NOT EXISTS ix_upsertion_record_updated_at ON upsertion_record (updated_at);
"""


HNSW = {"hnsw": {"space": "cosine"}}
KEPT_CHUNKS = 4096  # chunks kept in memory once read (Store.chunks): ~2 MB of text at 500 characters each
KEPT_EXACT = 1024  # chunks' exact vectors kept once computed (Store.exact): ~10 KB each


def chunk_to_document(chunk: Chunk) -> Document:
    from langchain_core.documents import Document

    meta = {"source": chunk.source, "start": chunk.start, "end": chunk.end, "chunk_id": chunk.id,
            "context": chunk.context}
    if chunk.page is not None:
        meta["page"] = chunk.page  # Chroma metadata can't hold None
    return Document(page_content=chunk.text, metadata=meta, id=chunk.id)


def encode_chunks(embedder: Embedder, texts: list[str], contexts: list[str], *, exact: bool = False
                  ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Chunk vectors and their sentences' vectors, from one encoder pass over "context\ntext": the
    context (which document, which section) shapes the chunk's vector; sentences are pooled from their
    own tokens, read with it. `exact`: see Embedder.encode_chunks."""
    inputs, spans = [], []
    for text, context in zip(texts, contexts, strict=True):
        prefix = f"{context}\n" if context else ""
        inputs.append(prefix + text)
        spans.append([(s + len(prefix), e + len(prefix)) for s, e in sentence_spans(text)])
    return embedder.encode_chunks(inputs, spans, exact=exact)


def _units(chunk: Chunk) -> int:
    return len(sentence_spans(chunk.text))


def _fits(vectors: bytes | None, chunk: Chunk, row_bytes: int) -> bool:
    """Stored sentence vectors are one row per unit as sentence_spans cuts the chunk today: an index
    built before a change to how sentences are cut gets those chunks' sentences embedded again."""
    return vectors is not None and len(vectors) == row_bytes * _units(chunk)


def _keep(kept: dict, new: dict, most: int) -> None:
    """Add `new` to a memo kept oldest first, dropping the oldest beyond `most`."""
    kept |= new
    for oldest in list(kept)[:max(0, len(kept) - most)]:
        del kept[oldest]


def _chunk(id_: str, text: str, meta: dict) -> Chunk:
    return Chunk(id_, meta["source"], meta.get("page"), meta["start"], meta["end"], text, meta.get("context", ""))


def chroma_client(settings: Settings, *, reread: bool = False):
    """`reread`: an embedded client that reads the folder anew. Chroma shares one system per folder
    in a process, which keeps the vector index it loaded and never sees another process's writes;
    dropping it from the cache makes the next client load the folder again, while the old system
    serves whoever still holds it and is freed with its last reference."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=chroma_settings)
    path = str(settings.index_dir / "chroma")
    if reread:
        SharedSystemClient._identifier_to_system.pop(path, None)
    return chromadb.PersistentClient(path=path, settings=chroma_settings)


Connect = Callable[[], AbstractContextManager[sqlite3.Connection]]


class Records:
    """LangChain's record manager on plain sqlite3: the part of its interface that LangChain's `index()`
    and the Store call, over langchain_classic's SQLRecordManager table and with its semantics (a
    record's time is SQLite's clock; an upsert refreshes the time and group of a key already recorded).
    That one is built on SQLAlchemy: importing it cost `rag index` ~0.4 s, and compiling each batch's
    upsert statement ~0.2 s more on 335 chunks."""

    def __init__(self, namespace: str, connect: Connect) -> None:
        self.namespace, self._connect = namespace, connect
        with connect() as db:
            db.executescript(RECORDS_SCHEMA)

    def get_time(self) -> float:
        with self._connect() as db:
            return _now(db)

    def update(self, keys: Sequence[str], *, group_ids: Sequence[str | None] | None = None,
               time_at_least: float | None = None) -> None:
        """Record these keys (with their groups) as written now."""
        group_ids = [None] * len(keys) if group_ids is None else group_ids
        if len(keys) != len(group_ids):
            raise ValueError(f"Number of keys ({len(keys)}) does not match number of group_ids ({len(group_ids)})")
        with self._connect() as db:
            now = _now(db)
            if time_at_least and now < time_at_least:  # LangChain's guard: cleanup must not delete new records
                raise AssertionError(f"Time sync issue: {now} < {time_at_least}")
            db.executemany('INSERT INTO upsertion_record (uuid, "key", namespace, group_id, updated_at) '
                           'VALUES (?, ?, ?, ?, ?) ON CONFLICT ("key", namespace) '
                           "DO UPDATE SET updated_at = excluded.updated_at, group_id = excluded.group_id",
                           [(str(uuid.uuid4()), key, self.namespace, group, now)
                            for key, group in zip(keys, group_ids, strict=True)])

    def exists(self, keys: Sequence[str]) -> list[bool]:
        with self._connect() as db:
            found = {row[0] for row in db.execute(
                'SELECT "key" FROM upsertion_record WHERE namespace = ? AND "key" IN (SELECT value FROM json_each(?))',
                (self.namespace, json.dumps(list(keys))))}
        return [key in found for key in keys]

    def list_keys(self, *, before: float | None = None, after: float | None = None,
                  group_ids: Sequence[str] | None = None, limit: int | None = None) -> list[str]:
        """Recorded keys, optionally only those updated after/before a time or of these groups."""
        query = 'SELECT "key" FROM upsertion_record WHERE namespace = ?'
        args: list[str | float] = [self.namespace]
        if after:
            query += " AND updated_at > ?"
            args.append(after)
        if before:
            query += " AND updated_at < ?"
            args.append(before)
        if group_ids:
            query += " AND group_id IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(list(group_ids)))
        if limit:
            query += " LIMIT ?"
            args.append(limit)
        with self._connect() as db:
            return [row[0] for row in db.execute(query, args)]

    def delete_keys(self, keys: Sequence[str]) -> None:
        with self._connect() as db:
            db.execute('DELETE FROM upsertion_record WHERE namespace = ? AND "key" IN (SELECT value FROM json_each(?))',
                       (self.namespace, json.dumps(list(keys))))


def _now(db: sqlite3.Connection) -> float:
    """SQLite's clock in Unix seconds, as SQLRecordManager reads it (julianday works on old SQLite too)."""
    return db.execute("SELECT (julianday('now') - 2440587.5) * 86400.0").fetchone()[0]


class Store:
    """Reads go straight to chromadb; LangChain's Chroma wrapper, which only writes need, is loaded on
    first use: importing it costs about a second that a question need not pay."""

    def __init__(self, settings: Settings, embedder: Embedder, *, reread: bool = False) -> None:
        self.settings, self.embedder = settings, embedder
        index_dir = Path(settings.index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        self.client = chroma_client(settings, reread=reread)
        self.collection = self.client.get_or_create_collection(settings.collection, embedding_function=None,
                                                               configuration=HNSW)
        self.db_path = (index_dir / "records.sqlite").resolve()
        with self._db() as db:
            db.executescript(SCHEMA)
        self._kept: dict[str, Chunk] = {}  # chunks read, by id, oldest first (chunks())
        self._exact: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # exact(), by chunk id, oldest first
        self._kept_lock = threading.Lock()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection for one call, its changes committed if the call succeeds. One per call: they
        cost microseconds, and none is shared between the threads of a server."""
        db = sqlite3.connect(self.db_path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    @cached_property
    def vectors(self):
        """The collection as a LangChain vector store, for LangChain's indexing API."""
        from rag.chunk_vectors import ChunkVectors

        return ChunkVectors(client=self.client, collection_name=self.settings.collection,
                            embedding_function=self.embedder, collection_configuration=HNSW,
                            on_sentences=self._put_sentences, on_delete=self._forget)

    @property
    def _namespace(self) -> str:
        return f"chroma/{self.settings.collection}"

    @cached_property
    def records(self) -> Records:
        return Records(self._namespace, self._db)  # stamp() and documents() read its table directly

    # --- chunks -------------------------------------------------------------------------
    def count(self) -> int:
        return self.collection.count()

    def all_chunks(self) -> list[Chunk]:
        got = self._get_all(["documents", "metadatas"])
        return [_chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        """The chunks of these ids that are still in the collection, by id. Once read, a chunk is kept
        in memory (up to KEPT_CHUNKS): its id hashes every field of it (rag.chunking.chunk_id), so a
        kept chunk never differs from Chroma's, and one deleted through this Store (or its LangChain
        vector store) is forgotten; the service opens a new Store when another process changes the index. Reading them back from
        Chroma was ~1.2 ms of a ~10 ms answer on the seed corpus (a round trip with a Chroma server)."""
        with self._kept_lock:
            found = {i: self._kept[i] for i in ids if i in self._kept}
        if missing := [i for i in ids if i not in found]:
            got = self.collection.get(ids=missing, include=["documents", "metadatas"])
            read = {i: _chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
            with self._kept_lock:
                _keep(self._kept, read, KEPT_CHUNKS)
            found |= read
        return found

    def _forget(self, ids: Iterable[str]) -> None:
        with self._kept_lock:
            for i in ids:
                self._kept.pop(i, None)
                self._exact.pop(i, None)

    def stamp(self) -> str:
        """The record manager's state, which every change of the index changes: its row count and
        latest update time. Read with one query, without importing LangChain."""
        query = "SELECT count(*), max(updated_at) FROM upsertion_record WHERE namespace = ?"
        try:
            with self._db() as db:
                count, latest = db.execute(query, (self._namespace,)).fetchone()
        except sqlite3.OperationalError:  # no such table: nothing was ever indexed here
            return "0:None"
        return f"{count}:{latest!r}"

    def close(self) -> None:
        """Let go of the folder's files: Chroma's system (SQLite connections last one call each)."""
        self.client.close()

    def _get_all(self, include: list[str], page: int = 5000) -> dict[str, list]:
        """Every record of the collection, read a page at a time: one `get()` of everything fails
        past ~30k chunks ("too many SQL variables" inside Chroma)."""
        out: dict[str, list] = {"ids": [], **{field: [] for field in include}}
        while True:
            got = self.collection.get(include=include, limit=page, offset=len(out["ids"]))
            for field in out:
                out[field] += got[field]
            if len(got["ids"]) < page:
                return out

    def dense_search(self, embedding: list[float], n: int, sources: frozenset[str] | None = None
                     ) -> list[tuple[str, float, str]]:
        """(chunk id, cosine similarity, source), best first, of the chunks of `sources` (None: all); n
        must not exceed count(). Chroma filters inside its search, so a scoped question gets n of its own."""
        where = None if sources is None else {"source": {"$in": sorted(sources)}}
        got = self.collection.query(query_embeddings=[embedding], n_results=n, where=where,
                                    include=["distances", "metadatas"])
        return [(i, 1.0 - d, m["source"]) for i, d, m in zip(got["ids"][0], got["distances"][0], got["metadatas"][0])]

    def nearest_in(self, source: str, embedding: list[float], n: int) -> list[tuple[Chunk, np.ndarray]]:
        """The n chunks of one document nearest to the embedding, best first, with their vectors."""
        got = self.collection.query(query_embeddings=[embedding], n_results=n, where={"source": source},
                                    include=["documents", "metadatas", "embeddings"])
        return [(_chunk(*row), np.asarray(vector)) for *row, vector in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["embeddings"][0])]

    def reconcile(self) -> None:
        """Make Chroma and the record manager agree again after a killed run.

        LangChain's `index()` writes vectors before recording them and deletes them before forgetting
        them, so a run killed in between leaves vectors nobody records (cleanup goes by the records, so
        they would stay for good, e.g. chunks of a file edited or deleted since) or records of vectors
        that are gone (the next run would skip such a chunk as already indexed). Dropping both lets the
        next `index()` re-add whatever is still current. Unrecorded vectors are dropped only for this
        folder's sources (their page texts are written before their vectors), so that a Chroma
        collection shared with other index folders keeps theirs. Safe only with no other writer at
        work, whose batch in flight would look the same: the caller holds the index folder's lock."""
        got = self._get_all(["metadatas"])
        records, ours = set(self.records.list_keys()), set(self.sources())
        unrecorded = [i for i, meta in zip(got["ids"], got["metadatas"]) if i not in records and meta["source"] in ours]
        if unrecorded:
            self.collection.delete(ids=unrecorded)
            self._forget(unrecorded)
        if vanished := list(records - set(got["ids"])):
            self.records.delete_keys(vanished)

    def delete_source(self, source: str) -> int:
        keys = self.records.list_keys(group_ids=[source])
        if keys:
            self.collection.delete(ids=keys)
            self.records.delete_keys(keys)
            self._forget(keys)
        with self._db() as db:
            db.execute("DELETE FROM pages WHERE source = ?", (source,))
            db.execute("DELETE FROM cards WHERE source = ?", (source,))
        return len(keys)

    # --- sentence vectors ---------------------------------------------------------------
    def sentence_vectors(self, chunks: list[Chunk], exact: Iterable[str] = ()) -> list[np.ndarray]:
        """Each chunk's sentence embeddings (float32, one row per sentence), from the index where
        present, else computed now and stored, so an index built by an older version still answers.
        Chunks whose id is in `exact` get their exact vectors instead (Store.exact)."""
        exact = set(exact)
        if exact:
            settled = self.exact([c for c in chunks if c.id in exact])
            rest = iter(self.sentence_vectors([c for c in chunks if c.id not in exact]))
            return [settled[c.id][1] if c.id in exact else next(rest) for c in chunks]
        ids = list({c.id for c in chunks})
        stored: dict[str, bytes] = {}
        with self._db() as db:
            for i in range(0, len(ids), 900):  # SQLite caps the parameters of a statement
                part = ids[i:i + 900]
                stored |= dict(db.execute(f"SELECT chunk_id, vectors FROM sentence_vectors WHERE chunk_id IN "
                                          f"({','.join('?' * len(part))})", part))
        dim = self.embedder.dimension
        missing = list({c.id: c for c in chunks if not _fits(stored.get(c.id), c, 2 * dim)}.values())
        if missing:
            stored |= self._embed_sentences(missing)
        return [np.frombuffer(stored[c.id], dtype=np.float16).reshape(-1, dim).astype(np.float32) for c in chunks]

    def _embed_sentences(self, chunks: list[Chunk]) -> dict[str, bytes]:
        # the pass yields chunk vectors too; Chroma already has them
        _, sentences = encode_chunks(self.embedder, [c.text for c in chunks], [c.context for c in chunks])
        return self._put_sentences({c.id: v for c, v in zip(chunks, sentences)})

    def _put_sentences(self, vectors: dict[str, np.ndarray]) -> dict[str, bytes]:
        rows = {chunk_id: v.astype(np.float16).tobytes() for chunk_id, v in vectors.items()}
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO sentence_vectors (chunk_id, vectors) VALUES (?, ?)", rows.items())
            if rows and self.embedder.bf16:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('bf16', '1')")
        return rows

    @cached_property
    def bf16(self) -> bool:
        """Some of the index's vectors were embedded in bf16, whose rounding moves a cosine by up to
        BF16_CHUNK_NOISE and BF16_SENTENCE_NOISE (rag.embeddings): the answerer settles the decisions that close on exact ones.
        Read once per Store: the service opens a new Store when another process changes the index."""
        with self._db() as db:
            return db.execute("SELECT value FROM meta WHERE key = 'bf16'").fetchone() is not None

    def exact(self, chunks: list[Chunk]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """chunk id -> (the chunk's vector, its sentences' vectors) as an fp32 index holds them (the
        sentences through float16, as stored): kept in memory (up to KEPT_EXACT), else read from the
        index's exact_vectors, else computed now on ONNX Runtime (25–35 ms for a chunk of 200–300
        tokens) and written there for every later question and process."""
        with self._kept_lock:
            found = {c.id: self._exact[c.id] for c in chunks if c.id in self._exact}
        missing = list({c.id: c for c in chunks if c.id not in found}.values())
        if not missing:
            return found
        dim = self.embedder.dimension
        with self._db() as db:
            rows = db.execute(f"SELECT chunk_id, chunk, sentences FROM exact_vectors WHERE chunk_id IN "
                              f"({','.join('?' * len(missing))})", [c.id for c in missing]).fetchall()
        made = {i: (np.frombuffer(v, dtype=np.float32), np.frombuffer(s, dtype=np.float32).reshape(-1, dim))
                for i, v, s in rows}
        if computed := [c for c in missing if not (c.id in made and len(made[c.id][1]) == _units(c))]:
            vectors, sentences = encode_chunks(self.embedder, [c.text for c in computed],
                                               [c.context for c in computed], exact=True)
            new = {c.id: (v, s.astype(np.float16).astype(np.float32)) for c, v, s in zip(computed, vectors, sentences)}
            try:
                with self._db() as db:
                    db.executemany("INSERT OR REPLACE INTO exact_vectors (chunk_id, chunk, sentences) VALUES (?, ?, ?)",
                                   [(i, v.tobytes(), s.tobytes()) for i, (v, s) in new.items()])
            except sqlite3.OperationalError:  # a read-only index folder: they are kept in memory only
                pass
            made |= new
        with self._kept_lock:
            _keep(self._exact, made, KEPT_EXACT)
        return found | made

    def sentence_vector_ids(self) -> set[str]:
        with self._db() as db:
            return {row[0] for row in db.execute("SELECT chunk_id FROM sentence_vectors")}

    def sync_sentence_vectors(self, progress: bool | None = None, batch: int = 256) -> None:
        """After indexing: drop the vectors of deleted chunks, compute those of new ones."""
        present, have = set(self.records.list_keys()), self.sentence_vector_ids()
        with self._db() as db:
            for table in ("sentence_vectors", "exact_vectors"):
                db.executemany(f"DELETE FROM {table} WHERE chunk_id = ?", [(gone,) for gone in have - present])
        missing = sorted(present - have)
        bar_off = (None if progress is None else not progress) if missing else True
        with tqdm(total=len(missing), desc="sentences", unit="chunk", disable=bar_off) as bar:
            for i in range(0, len(missing), batch):
                got = self.collection.get(ids=missing[i:i + batch], include=["documents", "metadatas"])
                self._embed_sentences([_chunk(*row) for row in zip(got["ids"], got["documents"], got["metadatas"])])
                bar.update(len(got["ids"]))

    # --- page texts ---------------------------------------------------------------------
    def put_pages(self, root: str, pages: list[Page], card: Card | None = None) -> None:
        """Replace the stored texts of one source by its current pages, and its card (its vector is
        kept while the label is the same)."""
        source = pages[0].source
        with self._db() as db:
            db.execute("DELETE FROM pages WHERE source = ?", (source,))
            db.executemany("INSERT INTO pages (source, page, root, text) VALUES (?, ?, ?, ?)",
                           [(p.source, p.page or 0, root, p.text) for p in pages])
            if card is not None:
                old = db.execute("SELECT card, vector FROM cards WHERE source = ?", (source,)).fetchone()
                kept = old[1] if old and json.loads(old[0]).get("label") == card.label else None
                db.execute("INSERT OR REPLACE INTO cards (source, card, vector) VALUES (?, ?, ?)",
                           (source, json.dumps(stored(card)), kept))

    def cards(self) -> dict[str, tuple[Card, np.ndarray | None]]:
        """Every document's card and its label's embedding (None until sync_card_vectors), by source."""
        with self._db() as db:
            rows = db.execute("SELECT source, card, vector FROM cards").fetchall()
        return {source: (card_from_dict(source, json.loads(card)),
                         None if vector is None else np.frombuffer(vector, dtype=np.float32))
                for source, card, vector in rows}

    def sync_card_vectors(self) -> None:
        """Embed the labels of the cards that have no vector yet (new or changed documents)."""
        with self._db() as db:
            rows = db.execute("SELECT source, card FROM cards WHERE vector IS NULL").fetchall()
        if not rows:
            return
        vectors = self.embedder.encode([json.loads(card)["label"] for _, card in rows])
        with self._db() as db:
            db.executemany("UPDATE cards SET vector = ? WHERE source = ?",
                           [(np.asarray(v, dtype=np.float32).tobytes(), s) for (s, _), v in zip(rows, vectors)])

    def page_text(self, source: str, page: int | None) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT text FROM pages WHERE source = ? AND page = ?", (source, page or 0)).fetchone()
        return row[0] if row else None

    def page_texts(self, source: str) -> list[str]:
        """Every stored page text of one source, in page order."""
        with self._db() as db:
            return [row[0] for row in db.execute("SELECT text FROM pages WHERE source = ? ORDER BY page", (source,))]

    def documents(self) -> list[dict]:
        """Every indexed source with its page and chunk counts, when it was last indexed (the record
        manager's updated_at, seconds since the epoch) and its card (rag.cards.Card.to_dict), by name. Plain SQL on the record
        manager's table: importing LangChain's record manager for it cost /health 0.5 s at start."""
        chunks = ("SELECT group_id, count(*), max(updated_at) FROM upsertion_record WHERE namespace = ? "
                  "GROUP BY group_id")
        with self._db() as db:
            try:
                counts = {group: (n, updated) for group, n, updated in db.execute(chunks, (self._namespace,))}
            except sqlite3.OperationalError:  # no such table: nothing was ever indexed here
                counts = {}
            cards = {s: json.loads(card) for s, card in db.execute("SELECT source, card FROM cards")}
            rows = db.execute("SELECT source, count(*), max(root) FROM pages GROUP BY source ORDER BY source")
            return [{"source": s, "pages": n, "chunks": chunks, "root": root, "indexed": indexed,
                     "card": card_from_dict(s, cards.get(s, {})).to_dict()}
                    for (s, n, root), (chunks, indexed) in ((row, counts.get(row[0], (0, None))) for row in rows)]

    def chunk_ids(self, sources: Iterable[str]) -> list[str]:
        """The ids of every chunk of these sources, from the record manager's table."""
        return self.records.list_keys(group_ids=sorted(sources))

    def sources(self, root: str | None = None) -> list[str]:
        where, args = (" WHERE root = ?", (root,)) if root is not None else ("", ())
        with self._db() as db:
            return [r[0] for r in db.execute(f"SELECT DISTINCT source FROM pages{where} ORDER BY source", args)]
