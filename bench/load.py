"""Load on a real `rag serve`: N concurrent clients send a bounded number of /v1/ask requests on
loopback. Prints throughput, p50/p95 latency, errors, and how many answers had invalid citations
(checked against the source files: every [n] resolves, every citation is used and verbatim).

Run from the repo root:
    .venv/bin/python bench/load.py                     # starts `rag serve` on the seed index itself
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --clients 16 --requests 200
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RAG = str(Path(sys.executable).parent / "rag")


def citation_problems(answer: dict, docs: Path) -> list[str]:
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
    problems = [] if used == {c["n"] for c in answer["citations"]} else ["markers and citations differ"]
    for c in answer["citations"]:
        if (docs / c["source"]).read_text(encoding="utf-8")[c["start"]:c["end"]] != c["text"]:
            problems.append(f"[{c['n']}] is not a verbatim span")
    return problems


async def run(url: str, questions: list[str], clients: int, requests: int, docs: Path) -> None:
    latencies, errors, invalid = [], [], 0
    todo = iter(range(requests))

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal invalid
        for i in todo:  # the shared iterator bounds the total across clients
            start = time.perf_counter()
            try:
                response = await http.post("/v1/ask", json={"question": questions[i % len(questions)]})
                response.raise_for_status()
                invalid += bool(citation_problems(response.json(), docs))
            except (httpx.HTTPError, ValueError) as e:
                errors.append(f"{type(e).__name__}: {e}")
                continue
            latencies.append((time.perf_counter() - start) * 1000)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        await http.post("/v1/ask", json={"question": questions[0]})  # warm: first request pays nothing extra
        began = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - began
    print(f"{requests} requests, {clients} concurrent clients: {len(latencies) / elapsed:.1f} answered/s, "
          f"p50 {np.percentile(latencies, 50):.0f} ms, p95 {np.percentile(latencies, 95):.0f} ms, "
          f"errors {len(errors)}, invalid citations {invalid}")
    for error in errors[:5]:
        print(f"  error: {error}")


def serve_seeds(tmp: Path):
    """Index seeds/ into a fresh folder and start `rag serve` on a free port; returns (process, url)."""
    subprocess.run([RAG, "index", str(ROOT / "seeds"), "--index", str(tmp)], check=True, capture_output=True)
    sys.path.insert(0, str(ROOT))
    from tests.net import free_port, wait_for

    port = free_port()
    proc = subprocess.Popen([RAG, "serve", "--port", str(port), "--index", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/health", timeout=120)
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running `rag serve` (default: start one on the seed corpus)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds", help="the indexed files, to check spans")
    args = parser.parse_args()
    print(f"# bench/load.py, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    questions = [json.loads(line)["question"]
                 for line in (ROOT / "tests/data/seed_qa.jsonl").read_text(encoding="utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = serve_seeds(Path(tmp)) if not args.url else (None, args.url)
        try:
            asyncio.run(run(url, questions, args.clients, args.requests, args.docs))
        finally:
            if proc:
                proc.terminate()
                proc.wait(timeout=30)


if __name__ == "__main__":
    main()
