"""Soak a real `rag serve`: concurrent clients send a bounded number of mixed requests (ask,
search, streamed ask, OpenAI chat, upload, delete) on loopback. Prints, per window of requests,
throughput, p50/p95 latency, errors and the server's RSS; then the totals, and the RSS growth from
the end of the warm-up to the end.

Run from the repo root:  .venv/bin/python bench/soak.py [--requests 5000] [--clients 8] [--window 500]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from load import ROOT, citation_problems, serve_seeds  # bench/load.py, beside this file

MIX = [("ask", 60), ("search", 15), ("stream", 10), ("chat", 5), ("upload", 5), ("delete", 5)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Soak:
    def __init__(self, http: httpx.AsyncClient, questions: list[str], docs: Path) -> None:
        self.http, self.questions, self.docs = http, questions, docs
        self.uploaded: list[str] = []
        self.names = itertools.count()

    async def request(self, kind: str) -> None:
        """One request of the given kind; raises on an error status or an invalid answer."""
        question = random.choice(self.questions)
        if kind == "ask":
            answer = (await self.http.post("/v1/ask", json={"question": question})).raise_for_status().json()
            self.check(answer)
        elif kind == "search":
            (await self.http.post("/v1/search", json={"question": question, "k": 3})).raise_for_status()
        elif kind == "stream":
            body = (await self.http.post("/v1/ask", json={"question": question, "stream": True})).raise_for_status()
            final = [block for block in body.text.split("\n\n") if block.startswith("event: answer")]
            self.check(json.loads(final[0].split("data: ", 1)[1]))
        elif kind == "chat":
            messages = [{"role": "user", "content": question}]
            (await self.http.post("/v1/chat/completions", json={"model": "rag", "messages": messages})).raise_for_status()
        elif kind == "upload":
            name = f"soak-{next(self.names)}.txt"
            text = f"Soak note {name}: the lighthouse keeper counted {random.randint(1, 999)} ships today."
            files = [("files", (name, text.encode(), "text/plain"))]
            (await self.http.post("/v1/documents", files=files)).raise_for_status()
            self.uploaded.append(name)
        elif kind == "delete" and self.uploaded:
            (await self.http.delete(f"/v1/documents/{self.uploaded.pop(0)}")).raise_for_status()

    def check(self, answer: dict) -> None:
        if answer["citations"] and all(c["source"] in os.listdir(self.docs) for c in answer["citations"]):
            problems = citation_problems(answer, self.docs)
            if problems:
                raise ValueError("; ".join(problems))


async def soak(url: str, pid: int, total: int, clients: int, window: int, warmup: int) -> None:
    kinds = random.Random(7).choices([k for k, _ in MIX], weights=[w for _, w in MIX], k=total)
    questions = [json.loads(line)["question"]
                 for line in (ROOT / "tests/data/seed_qa.jsonl").read_text(encoding="utf-8").splitlines()]
    log: list[tuple[float, float, str | None]] = []  # (finished at, ms, error)
    by_kind: dict[str, list[tuple[int, float]]] = {k: [] for k, _ in MIX}  # kind -> (request number, ms)
    todo = iter(kinds)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=clients)) as http:
        runner = Soak(http, questions, ROOT / "seeds")

        async def client() -> None:
            for kind in todo:
                start = time.perf_counter()
                error = None
                try:
                    await runner.request(kind)
                except (httpx.HTTPError, ValueError, KeyError, IndexError) as e:
                    error = f"{kind}: {type(e).__name__}: {str(e)[:150]}"
                log.append((time.perf_counter(), (time.perf_counter() - start) * 1000, error))
                by_kind[kind].append((len(log), log[-1][1]))
                if len(log) == warmup:
                    rss["warm"] = rss_mb(pid)
                if len(log) % window == 0:
                    samples.append(rss_mb(pid))

        rss, samples = {"start": rss_mb(pid)}, []
        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        rss["end"] = rss_mb(pid)
    print("| requests | answered/s | p50 ms | p95 ms | errors | server RSS MB |")
    print("|---|---|---|---|---|---|")
    previous = began
    for i, sample in zip(range(0, len(log), window), samples + [rss["end"]]):
        part = log[i:i + window]
        ms = [m for _, m, e in part if e is None]
        print(f"| {i + 1}–{i + len(part)} | {len(part) / (part[-1][0] - previous):.1f} | {np.percentile(ms, 50):.0f} | "
              f"{np.percentile(ms, 95):.0f} | {sum(e is not None for *_, e in part)} | {sample:.0f} |")
        previous = part[-1][0]
    errors = [e for *_, e in log if e is not None]
    growth = (rss["end"] - rss["warm"]) / rss["warm"] * 100
    print(f"\n{len(log)} requests from {clients} clients in {log[-1][0] - began:.0f} s: {len(errors)} errors; "
          f"server RSS {rss['start']:.0f} MB at start, {rss['warm']:.0f} MB after {warmup} warm-up requests, "
          f"{rss['end']:.0f} MB at the end ({growth:+.1f}% from warm-up)")
    print("\n| kind | count | p50 ms, first half | p50 ms, second half | p95 ms, first half | p95 ms, second half |")
    print("|---|---|---|---|---|---|")
    for kind, rows in by_kind.items():
        halves = [[ms for n, ms in rows if (n <= len(log) // 2) == first] for first in (True, False)]
        if all(halves):
            p50s = [f"{np.percentile(h, 50):.0f}" for h in halves]
            p95s = [f"{np.percentile(h, 95):.0f}" for h in halves]
            print(f"| {kind} | {len(rows)} | {p50s[0]} | {p50s[1]} | {p95s[0]} | {p95s[1]} |")
    for error in errors[:10]:
        print(f"  error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--window", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=500, help="requests before the RSS baseline is taken")
    args = parser.parse_args()
    print(f"# bench/soak.py, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    random.seed(7)
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = serve_seeds(Path(tmp))
        try:
            asyncio.run(soak(url, proc.pid, args.requests, args.clients, args.window, args.warmup))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
