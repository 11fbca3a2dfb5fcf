"""Shared fixtures: the real embedding model (loaded once), per-test index folders, real servers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embeddings import Embedder
from rag.service import Rag

from .net import free_port, wait_for
from .rag_server import rag_server

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"


# The suite indexes in fp32 on every machine, in process and in the commands it starts: with `auto`,
# a CPU with native bf16 would index in bf16, whose rounding moves an answer that sits near a
# decision, and a test would pass on one machine and fail on the next (issue 24). The bf16 path is
# tested where it is chosen explicitly: test_embeddings.py, and `make eval`'s gate in both precisions.
PRECISION = "fp32"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No test reads the user's RAG_* settings or writes to the repo's index/."""
    for name in [n for n in os.environ if n.startswith("RAG_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_EMBED_PRECISION", PRECISION)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(precision=PRECISION)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(index_dir=tmp_path / "index")


@pytest.fixture
def rag(settings, embedder) -> Rag:
    return Rag(settings, embedder)


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the shipped seeds."""
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def seed_rag(tmp_path_factory, embedder) -> Rag:
    """The seed corpus indexed once, for tests that only read."""
    rag = Rag(Settings(index_dir=tmp_path_factory.mktemp("seed-index")), embedder)
    rag.index([SEEDS], progress=False)
    return rag


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a free loopback port; yields its URL."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/api/v2/heartbeat")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def indexed_rag(index_dir: Path, folder: Path, embedder: Embedder) -> Rag:
    """A Rag over `folder`, indexed in fp32 (exact vectors: the answers tests pin do not move with the CPU)."""
    rag = Rag(Settings(index_dir=index_dir, embed_precision="fp32"), embedder)
    rag.index([folder], progress=False)
    return rag


def seed_index(folder: Path, embedder: Embedder) -> Path:
    """A seed index for one `rag serve` process: two processes never share an index folder."""
    Rag(Settings(index_dir=folder), embedder).index([SEEDS], progress=False)
    return folder


@pytest.fixture(scope="session")
def served_index(tmp_path_factory, embedder) -> Path:
    """The index of `served`; tests that upload remove what they added."""
    return seed_index(tmp_path_factory.mktemp("served-index"), embedder)


@pytest.fixture(scope="session")
def served(served_index) -> Iterator[str]:
    """`rag serve` over the seed index, no API key: yields its base URL."""
    with rag_server(served_index) as url:
        yield url


from .llm_servers import dead_url, garbage_url, hanging_url, llm_server  # noqa: E402,F401  (fixtures)
from .ui_browser import browser, otter_pdf, page, served_pdf  # noqa: E402,F401  (fixtures)
