"""Crash safety and exclusive writing, on real `rag index` processes.

A run killed with SIGKILL at any point (importing, loading the model, embedding, recording, cleaning
up, computing sentence vectors) must leave an index that the next run completes into exactly what a
clean build gives. A second writer on the same index folder waits for the first, or gives up with a
clear message; it never interleaves with it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.cards import make_card
from rag.chunking import make_splitter, split
from rag.config import Settings
from rag.embeddings import Embedder
from rag.loaders import discover, load
from rag.service import Rag
from rag.store import Store
from rag.types import Chunk

from .waiting import wait_until

RAG = str(Path(sys.executable).parent / "rag")

# --- a corpus of town chronicles, every file several chunks, rewritable into new versions ----------

TOWNS = ["Alderbrook", "Brackenford", "Corrin Bay", "Dunmere", "Elswick", "Fallowmead", "Greyhaven", "Hollins Cross",
         "Ivybridge", "Juniper Falls", "Kestrel Point", "Larkspur", "Marrowdale", "Northwick", "Oakhurst",
         "Pellingham", "Quarry Hill", "Redwater", "Saltmarsh", "Thornbury", "Umberleigh", "Valewood", "Westmoor",
         "Yarrowby", "Ashcombe", "Birchfield"]
TRADES = ["wool weaving", "salt panning", "clock making", "cider pressing", "slate quarrying", "boat building",
          "cheese making", "glass blowing", "rope making", "paper milling", "bell founding", "lace making"]
PEOPLE = ["Margaret Ellery", "Thomas Whitcombe", "Agnes Pryor", "Samuel Okafor", "Helena Varga", "Owen Treharne",
          "Ruth Calloway", "Ibrahim Haddad", "Clara Lindqvist", "Declan Furlong", "Priya Raman", "Walter Ashby"]
LANDMARKS = ["a stone bridge with seven arches", "a lighthouse painted in red and white bands", "a covered market hall",
             "a ruined priory", "a tidal mill", "a clock tower that runs four minutes fast", "an iron footbridge",
             "a walled garden of medlar trees", "a canal basin", "a windmill without sails"]
QUESTIONS = ["Who founded Dunmere?", "When does Greyhaven hold its festival?", "How many people live in Larkspur?",
             "Which town has a lighthouse painted in red and white bands?", "Who is the mayor of Thornbury?"]


def chronicle(town: int, version: int) -> str:
    """About 1,100 characters of prose (three or four chunks); each version tells different facts."""
    rng = random.Random(town * 1000 + version)
    name, trade, landmark = TOWNS[town], rng.choice(TRADES), rng.choice(LANDMARKS)
    founder, mayor = rng.sample(PEOPLE, 2)
    year = rng.randint(1120, 1790)
    paragraphs = [
        (f"{name} grew up around {landmark}. According to the parish records it was founded in {year} by "
         f"{founder}, who bought the land from the abbey for a rent of two geese a year. The first houses stood "
         f"along the lane that is still called Founders Row, and several of them survive behind later brick fronts."),
        (f"For most of its history the town lived from {trade}. At its height, in the decades after "
         f"{year + rng.randint(90, 200)}, more than {rng.randint(12, 90)} workshops were busy, and the trade gave "
         f"its name to the guild hall on the market square. Today only {rng.randint(1, 6)} workshops remain, but "
         f"visitors can watch the work on weekday mornings."),
        (f"{name} has about {rng.randint(800, 48000)} inhabitants. Its mayor, {mayor}, was elected in "
         f"{rng.randint(2001, 2024)} after a campaign about the bus service to the county town. The council meets "
         f"on the first Tuesday of each month in the old court room above the library."),
        (f"Every {rng.choice(['March', 'May', 'June', 'August', 'October'])} {name} holds a festival in honour of "
         f"{trade}. It opens with a procession from {landmark.split(' ', 1)[1]} to the square and ends with a "
         f"supper for {rng.randint(200, 1500)} guests. Tickets are sold at the library a month ahead."),
    ]
    paragraphs[1:3] = rng.sample(paragraphs[1:3], 2)
    return "\n\n".join(paragraphs) + "\n"


def chronicle_path(folder: Path, town: int) -> Path:
    suffix = "md" if town % 6 == 0 else "txt"
    return folder / f"{town:02d}-{TOWNS[town].lower().replace(' ', '-')}.{suffix}"


def write_chronicle(folder: Path, town: int, version: int = 0) -> None:
    path, text = chronicle_path(folder, town), chronicle(town, version)
    path.write_text(f"# {TOWNS[town]}\n\n{text}" if path.suffix == ".md" else text, encoding="utf-8")


def chronicles(folder: Path, towns: list[int]) -> Path:
    folder.mkdir()
    for town in towns:
        write_chronicle(folder, town)
    return folder


class Corpus:
    """A folder of one chronicle per town (every sixth one Markdown) that the test rewrites, deletes
    and restores between runs; it remembers each file's version so that it can revert one."""

    def __init__(self, folder: Path) -> None:
        self.folder = chronicles(folder, list(range(len(TOWNS))))
        self.versions: dict[int, list[int]] = {town: [0] for town in range(len(TOWNS))}
        self.deleted: set[int] = set()

    def _write(self, town: int) -> None:
        write_chronicle(self.folder, town, self.versions[town][-1])

    def rewrite(self, town: int, version: int) -> None:
        self.versions[town].append(version)
        self._write(town)

    def revert(self, town: int) -> None:
        if len(self.versions[town]) > 1:
            self.versions[town].pop()
        self._write(town)

    def delete(self, town: int) -> None:
        chronicle_path(self.folder, town).unlink()
        self.deleted.add(town)

    def restore_deleted(self) -> None:
        for town in self.deleted:
            self._write(town)
        self.deleted.clear()

    def change_for_run(self, n: int) -> list[int]:
        """Work for the n-th run: two files rewritten, the deleted ones back, another one deleted.
        Returns the towns whose text the run has to index: the rewritten ones, then the restored."""
        restored = sorted(self.deleted)
        self.restore_deleted()
        rewritten = [(2 * n + k) % len(TOWNS) for k in range(2)]
        for town in rewritten:
            self.rewrite(town, 1 + n)
        doomed = (5 * n + 13) % len(TOWNS)
        if doomed not in rewritten + restored:
            self.delete(doomed)
        return rewritten + restored

    def change_after_crash(self, changed: list[int], n: int) -> None:
        """Between a killed run and the next one, the files the killed run was indexing move on: one
        is rewritten again, one reverted to its previous version, the restored ones deleted again."""
        again, back, *gone = changed
        self.rewrite(again, 1000 + n)
        self.revert(back)
        for town in gone:
            self.delete(town)


def expected_chunks(folder: Path) -> dict[str, Chunk]:
    """The chunks a clean build of `folder` holds, by id (ids depend on text and place only)."""
    settings = Settings()
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    loaded = [load(path, path.relative_to(root).as_posix(), 10**9) for root, path in discover([folder])]
    return {c.id: c for pages in loaded for page in pages for c in split(page, splitter, make_card(pages).label)}


# --- reading an index folder ---------------------------------------------------------------------


@dataclass(frozen=True)
class IndexState:
    """Everything an index folder holds, read with the product's own store."""

    chunks: list[Chunk]          # Chroma
    record_keys: list[str]       # LangChain's record manager
    sentence_ids: set[str]       # table sentence_vectors
    pages: dict[str, str]        # table pages: source -> stored text (txt/md have one page)
    carded: set[str]             # table cards: the sources whose card has its label's vector

    @property
    def ids(self) -> set[str]:
        return {c.id for c in self.chunks}




def read_state(store: Store) -> IndexState:
    return IndexState(store.all_chunks(), store.records.list_keys(), store.sentence_vector_ids(),
                      {s: store.page_text(s, None) for s in store.sources()},
                      {s for s, (_, vector) in store.cards().items() if vector is not None})


def read_index(index_dir: Path, embedder: Embedder) -> IndexState:
    store = Store(Settings(index_dir=index_dir), embedder)
    try:
        return read_state(store)
    finally:
        store.close()  # a process keeps one Chroma system per folder, which fails once another writes there


def index_in_process(index_dir: Path, folder: Path, embedder: Embedder) -> IndexState:
    """Index `folder`; fails fast should a killed writer have left the index folder locked."""
    rag = Rag(Settings(index_dir=index_dir, lock_timeout=10), embedder)
    try:
        rag.index([folder], progress=False)
        return read_state(rag.store)
    finally:
        rag.store.close()


def assert_consistent(state: IndexState, folder: Path) -> None:
    """What a clean build of `folder` would hold: its chunks and nothing else, each an exact span of
    its source's stored text, every one recorded and with its sentence vectors, and each source's card."""
    expected = expected_chunks(folder)
    ids = [c.id for c in state.chunks]
    assert len(ids) == len(set(ids)), "duplicate chunk ids in Chroma"
    assert set(ids) == set(expected), (f"lost: {sorted(expected[i].source for i in set(expected) - set(ids))}, "
                                       f"left over: {sorted(c.source for c in state.chunks if c.id not in expected)}")
    assert sorted(state.record_keys) == sorted(ids), "the record manager and Chroma disagree"
    assert state.sentence_ids == set(ids), "sentence vectors are not exactly those of the chunks"
    assert state.pages == {s: (folder / s).read_text(encoding="utf-8") for s in {c.source for c in expected.values()}}
    assert state.carded == set(state.pages), "a document without its card, or a card without its document"
    for c in state.chunks:
        assert state.pages[c.source][c.start:c.end] == c.text


# --- killing `rag index` -------------------------------------------------------------------------

HALT_AT = str(Path(__file__).parent / "halt_at.py")


@dataclass(frozen=True)
class HaltPoint:
    """A place in `rag index`'s code: before or after the n-th call of a function (tests/halt_at.py)."""

    target: str   # module:qualname
    when: str     # "before" | "after"
    nth: int = 1

    def __str__(self) -> str:
        return f"{self.when} {self.target.split(':')[1]}#{self.nth}"


def index_command(folder: Path, index_dir: Path) -> list[str]:
    return [RAG, "index", str(folder), "--index", str(index_dir)]


def halted_index_command(folder: Path, index_dir: Path, point: HaltPoint, action: str) -> list[str]:
    return [sys.executable, HALT_AT, point.target, point.when, str(point.nth), action, "--",
            *index_command(folder, index_dir)[1:]]


def run_killed_at(folder: Path, index_dir: Path, point: HaltPoint) -> bool:
    """Run `rag index`, SIGKILLed by itself at `point`; whether it was (it wasn't if it never got there)."""
    run = subprocess.run(halted_index_command(folder, index_dir, point, "kill"), capture_output=True, text=True,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=600, check=False)
    assert run.returncode in (0, -signal.SIGKILL), run.stderr
    return run.returncode == -signal.SIGKILL


@dataclass(frozen=True)
class CrashPoint:
    """Where in its run a killed `rag index` stopped, read from the index it left: a phase, the chunks
    in Chroma, and how far each store had got with the run's work."""

    phase: str
    chunks: int        # in Chroma, old and new
    vectors: int       # new chunks in Chroma
    records: int       # new chunks recorded
    old_removed: int   # chunks of old versions and deleted files gone from the records
    sentences: int     # new chunks with sentence vectors
    pages: int         # sources whose stored page text changed

    def __str__(self) -> str:
        return (f"{self.phase:37} chunks={self.chunks} vectors={self.vectors} records={self.records} "
                f"old-removed={self.old_removed} sentences={self.sentences} pages={self.pages}")


def crash_point(before: IndexState, killed: IndexState, target: set[str]) -> CrashPoint:
    new, stale = target - before.ids, before.ids - target
    vectors, records = killed.ids & new, set(killed.record_keys) & new
    removed = len(stale - set(killed.record_keys))
    pages = sum(killed.pages.get(s) != before.pages.get(s) for s in killed.pages.keys() | before.pages.keys())
    if not vectors:
        phase = "page texts written" if pages else "nothing written"
    elif vectors - records:
        phase = "vectors written, not recorded"
    elif removed < len(stale):
        phase = "recorded, old chunks not all deleted"
    elif killed.sentence_ids != set(killed.record_keys):
        phase = "sentence vectors pending"
    else:
        phase = "all written, not exited"
    return CrashPoint(phase, len(killed.chunks), len(vectors), len(records), removed,
                      len(killed.sentence_ids & new), pages)


COLLECTION, RECORDS = "chromadb.api.models.Collection:Collection", "rag.store:Records"
# Every write `rag index` makes, in the order it makes them, with a kill before and after: the first
# run (on an empty folder) as it starts; reconciling a killed run; writing page texts; embedding;
# storing vectors; storing sentence vectors; recording; deleting old chunks from Chroma and from the
# records; pruning deleted files; the sentence-vector pass; after it all, before and after printing.
KILLS = [HaltPoint("rag.cli:_rag", "before"),
         HaltPoint("rag.store:Store.reconcile", "after"),
         HaltPoint("rag.store:Store.put_pages", "after"), HaltPoint("rag.store:Store.put_pages", "after", 3),
         HaltPoint("rag.embeddings:Embedder.encode_chunks", "before"),
         HaltPoint(f"{COLLECTION}.upsert", "before"), HaltPoint(f"{COLLECTION}.upsert", "after"),
         HaltPoint("rag.store:Store._put_sentences", "after"),
         HaltPoint(f"{RECORDS}.update", "before"), HaltPoint(f"{RECORDS}.update", "after"),
         HaltPoint(f"{RECORDS}.update", "after", 2),
         HaltPoint(f"{COLLECTION}.delete", "before"), HaltPoint(f"{COLLECTION}.delete", "after"),
         HaltPoint(f"{RECORDS}.delete_keys", "before"), HaltPoint(f"{RECORDS}.delete_keys", "after"),
         HaltPoint("rag.store:Store.delete_source", "before"), HaltPoint("rag.store:Store.delete_source", "after"),
         HaltPoint("rag.store:Store.sync_sentence_vectors", "before"),
         HaltPoint("rag.store:Store.sync_sentence_vectors", "after"),
         HaltPoint("rag.indexer:index_paths", "after"),
         HaltPoint("click:echo", "after")]


@pytest.mark.slow
def test_a_run_killed_at_any_point_is_completed_by_the_next_run(tmp_path, embedder):
    """Every run has work (files rewritten, deleted, restored). After every other kill, the files the
    killed run was indexing change again before the next run, so that what it left half done must be
    cleaned up, not merely completed."""
    corpus = Corpus(tmp_path / "docs")
    index_dir = tmp_path / "index"
    state, lines, killed = IndexState([], [], set(), {}, set()), [], []
    for n, point in enumerate(KILLS):
        changing = corpus.change_for_run(n) if n else []
        target = set(expected_chunks(corpus.folder))
        was_killed = run_killed_at(corpus.folder, index_dir, point)
        crash = crash_point(state, read_index(index_dir, embedder), target)
        lines.append(f"{point!s:45} killed={was_killed!s:5} {crash}")
        print(lines[-1])  # with a failure, pytest shows how far the runs got
        killed += [crash] if was_killed else []
        if n % 2:
            corpus.change_after_crash(changing, n)
        state = index_in_process(index_dir, corpus.folder, embedder)
        assert_consistent(state, corpus.folder)

    print(f"{len(killed)} runs killed mid-run at {len(set(killed))} distinct crash points")
    assert len(killed) == len(KILLS), "\n".join(lines)
    assert len(set(killed)) >= 10 and len({point.phase for point in killed}) >= 5, "\n".join(lines)
    clean = Rag(Settings(index_dir=tmp_path / "clean"), embedder)
    clean.index([corpus.folder], progress=False)
    recovered = Rag(Settings(index_dir=index_dir), embedder)
    for question in QUESTIONS:
        assert_same_hits(recovered, clean, question)


def assert_same_hits(rag: Rag, reference: Rag, question: str) -> None:
    """Same chunks in the same order; scores equal up to float noise (embedding batches differ). The
    suite indexes in fp32 (conftest): in bf16 a vector moves by ~1e-3 with the other texts of its
    batch, enough to swap two chunks with the same text."""
    got, want = rag.search(question, 10), reference.search(question, 10)
    assert [h.chunk for h in got] == [h.chunk for h in want], question
    assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-5), question


# --- a second writer -----------------------------------------------------------------------------

WAITING = ("another process is indexing into {index_dir}: waiting for it to finish (up to {seconds} s, "
           "RAG_LOCK_TIMEOUT)\n")
# holds the lock until the test closes its stdin (or kills it): no clock involved
HOLD_LOCK = ("import sys; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire(); "
             "print('locked', flush=True); sys.stdin.read()")


def files_with_contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != ".write.lock"}


def test_a_writer_that_finds_the_index_locked_too_long_gives_up_with_a_clear_message(tmp_path, embedder):
    index_dir = tmp_path / "index"
    index_in_process(index_dir, chronicles(tmp_path / "first", [0, 1]), embedder)
    before = files_with_contents(index_dir)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(index_dir / ".write.lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        second = subprocess.run(index_command(chronicles(tmp_path / "second", [2]), index_dir), capture_output=True,
                                env={**os.environ, "RAG_LOCK_TIMEOUT": "1"}, text=True, timeout=120, check=False)
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 1
    assert second.stderr == WAITING.format(index_dir=index_dir, seconds=1) + (
        f"error: another process is indexing into {index_dir}: gave up after waiting 1 s "
        "for it to finish (RAG_LOCK_TIMEOUT)\n")
    assert files_with_contents(index_dir) == before


def process_state(pid: int) -> str:
    """The state letter of /proc/PID/stat: "T" once the process is stopped."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.mark.slow
def test_a_second_index_run_waits_for_the_first_and_together_they_build_what_one_run_builds(tmp_path, embedder):
    first, second = chronicles(tmp_path / "first", [0, 1, 2]), chronicles(tmp_path / "second", [3, 4, 5])
    index_dir = tmp_path / "index"
    # the first run stops itself once it has written its three page texts, holding the index folder
    holder = halted_index_command(first, index_dir, HaltPoint("rag.store:Store.put_pages", "after", 3), "stop")
    runs = [subprocess.Popen(holder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    try:
        wait_until(lambda: runs[0].poll() is not None or process_state(runs[0].pid) == "T",
                   "the first run to stop after writing its page texts")
        assert runs[0].poll() is None
        assert read_index(index_dir, embedder).pages.keys() == {p.name for p in first.iterdir()}
        log = tmp_path / "second.stderr"
        with log.open("w") as stderr:
            runs.append(subprocess.Popen(index_command(second, index_dir), stdout=subprocess.PIPE, stderr=stderr,
                                         text=True))
        wait_until(lambda: log.read_text().endswith("\n") or runs[1].poll() is not None, "the second run to say it waits")
        assert log.read_text() == WAITING.format(index_dir=index_dir, seconds=600)
        assert runs[1].poll() is None and read_index(index_dir, embedder).pages.keys() == {
            p.name for p in first.iterdir()}
        runs[0].send_signal(signal.SIGCONT)
        outputs = [run.communicate(timeout=300) for run in runs]
    finally:
        for run in runs:
            run.kill()
            run.wait()
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert all(out.startswith("3 file(s) indexed: ") and out.endswith(" 0 unchanged, 0 deleted\n")
               for out, _ in outputs), outputs

    clean = Rag(Settings(index_dir=tmp_path / "clean"), embedder)
    clean.index([first, second], progress=False)
    clean.store.close()
    got, want = read_index(index_dir, embedder), read_index(tmp_path / "clean", embedder)
    assert sorted(got.chunks, key=lambda c: c.id) == sorted(want.chunks, key=lambda c: c.id)
    assert (sorted(got.record_keys), got.sentence_ids, got.pages) == (sorted(want.record_keys), want.sentence_ids,
                                                                      want.pages)
