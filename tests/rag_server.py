"""`rag serve` as users run it: a real process on a free loopback port, stopped after the tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .net import free_port, wait_for

RAG = str(Path(sys.executable).parent / "rag")


@contextlib.contextmanager
def rag_server(index_dir: Path, **env: str) -> Iterator[str]:
    """Yields the server's base URL (http://127.0.0.1:PORT); `env` adds RAG_* settings."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([RAG, "serve", "--port", str(port), "--index", str(index_dir)],
                            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for(f"{url}/health", timeout=120)
        except TimeoutError:
            log.seek(0)
            raise RuntimeError(f"rag serve did not come up; its output:\n{log.read()[-3000:]}") from None
        yield url
        if proc.poll() is not None:  # it died under the tests: say how, instead of a bare "connection refused"
            log.seek(0)
            raise RuntimeError(f"rag serve exited with {proc.returncode} during the tests; its output:\n"
                               f"{log.read()[-3000:]}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
