"""Scale: indexing, cold start, warm latency, recall and `rag serve` memory at N chunks (issues: speed, 17).
Targets (issue 17) at 100k chunks: cold `rag ask` ≤ 2.0 s, `rag serve` ready ≤ 3 s, warm p50 ≤ 15 ms, peak RSS
of `rag serve` ≤ 1 GB; at 1M (or the largest that fits): warm p50 ≤ 40 ms, peak RSS ≤ 4 GB.

Corpus: bench/scale_corpus.py (the SQuAD 2.0 dev paragraphs, each its own file, in real English prose from
the stdlib's and site-packages' docstrings and docs, packed until rag's splitter counts ~N chunks).
Per N:
  index     `/usr/bin/time -v rag index DOCS --index INDEX`, a whole process: wall time, chunks/s and chars/s
            over what it embedded, its peak RSS. --grow: start from a copy of the largest smaller N's index
            in --workdir (its corpus is a prefix of this one), so only the new chunks are embedded
  cold ask  `rag ask Q --index INDEX` as a whole fresh process, --cold-runs times (a different answerable
            question each), wall time and peak RSS; median, min, max. An index written before the persisted
            lexicon (rag/lexicon.py) has none: the first reader builds and publishes it, so the first run
            is reported apart. The OS page cache is not dropped (the machine is shared): "cold" is the process
  latency   in process, after a warm-up: `Rag.ask` (what `rag ask` calls) on --questions seeded SQuAD questions
            (half answerable), p50/p95; then per question the stages timed alone: embed the question,
            Retriever.dense (Chroma HNSW), Retriever.lexical (bm25s); rest = answer − the three.
            load s: Rag() + warm_up(), what `rag serve` does before it listens
  R@5       answerable questions with a gold answer (rag.metrics.contains_answer) in a top-5 hit's text;
            own@5: with a top-5 hit from the question's own paragraph (stricter: filler may hold the answer)
  serve     `rag serve` on 127.0.0.1: health s = process start until GET /health answers 200 (polled every
            50 ms); ready s = until the first POST /v1/ask has returned too (the figure the target is judged
            by); UI s = until GET / has answered too (the chat UI is built after the server listens, and a
            request for it waits for it); then the same questions one at a time (warm p50/p95 over HTTP, one client); then --requests
            POST /v1/ask from --clients threads (answered/s, errors); VmHWM (peak RSS) and VmRSS of the server
            from /proc/<pid>/status after all of it
--workdir keeps corpus and index per N (WORK/n<N>/) and reuses them when a previous run finished indexing.
The figures are printed as a table and written to bench/out/scale-<date-time>.json. On a shared machine wall
times grow with the load: the CPU seconds of each process (and CPU ms per in-process answer) are printed
beside them. To measure one fixed version while others edit the tree, run an exported copy:
    git archive HEAD | tar -x -C /tmp/code && git rev-parse --short HEAD > /tmp/code/COMMIT
    PYTHONPATH=/tmp/code .venv/bin/python /tmp/code/bench/scale.py ...

Run from the repo root:
    .venv/bin/python bench/scale.py --chunks 50000,100000 --workdir /tmp/scale [--questions 200] [--grow]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RAG = str(Path(sys.executable).parent / "rag")
OUT = ROOT / "bench/out"
sys.path.insert(0, str(ROOT))

from bench.scale_corpus import SQUAD, corpus
from rag.config import Settings
from rag.lexicon import current_build
from rag.metrics import contains_answer
from rag.testsets import load_squad
from tests.net import free_port


def timed_process(command: list[str], time_log: Path, **kwargs) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run command under `/usr/bin/time -v`: (wall s, peak RSS MB, the completed process)."""
    t = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", "-o", str(time_log), *command], check=False, **kwargs)
    return time.perf_counter() - t, peak_rss_mb(time_log), done


def peak_rss_mb(time_log: Path) -> float:
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_log.read_text())[1]) / 1024


def cpu_s(time_log: Path) -> float:
    """User + system CPU seconds: on a shared machine, what the process itself cost."""
    text = time_log.read_text()
    return sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", text)[1]) for kind in ("User", "System"))


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def wall_s(time_log: Path) -> float:
    """'Elapsed (wall clock) time (h:mm:ss or m:ss): 8:21.44' as seconds."""
    text = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", time_log.read_text())[1]
    return sum(float(part) * 60 ** i for i, part in enumerate(reversed(text.split(":"))))


def summary_counts(text: str) -> dict[str, int]:
    """rag index's summary line: 'F file(s) indexed: A chunk(s) embedded, S unchanged, D deleted'."""
    found = re.search(r"(\d+) file\(s\) indexed: (\d+) chunk\(s\) embedded, (\d+) unchanged, (\d+) deleted", text)
    return dict(zip(("files indexed", "embedded", "unchanged", "deleted"), map(int, found.groups()))) if found else {}


def build(work: Path, info: dict, grow: bool) -> dict:
    """The index for one N, reused from WORK/ when a previous run finished it (index.json, or a time log
    with exit status 0 and rag index's summary from a run interrupted after it)."""
    index, done, time_log, out = work / "index", work / "index.json", work / "index.time", work / "index.out"
    if done.exists():
        kept = json.loads(done.read_text())
        print(f"reused index {index}: {kept['chunks']} chunks, indexed in {kept['index s']:.0f} s on {kept['when']}")
        return kept | {"reused": True}
    grown_from = None
    if not (time_log.exists() and "Exit status: 0" in time_log.read_text() and out.exists()):
        if grow and not index.exists():
            smaller = sorted((int(d.name[1:]), d) for d in work.parent.glob("n*")
                             if d != work and (d / "index.json").exists() and int(d.name[1:]) < int(work.name[1:]))
            if smaller:
                grown_from = smaller[-1][1]
                print(f"--grow: starting from a copy of {grown_from / 'index'}", flush=True)
                shutil.copytree(grown_from / "index", index)
        elif index.exists():
            print("an interrupted run left a partial index: rag index goes on from it; the time covers the rest only")
        with out.open("w") as stdout:
            _, _, proc = timed_process([RAG, "index", str(work / "docs"), "--index", str(index)], time_log,
                                       stdout=stdout, text=True)
        if proc.returncode:
            sys.exit(f"rag index failed with exit code {proc.returncode}; see {time_log}")
    print(out.read_text().strip())
    counts = summary_counts(out.read_text())
    chars = info["chars"] - (json.loads((grown_from / "corpus.json").read_text())["chars"] if grown_from else 0)
    index_s = wall_s(time_log)
    kept = {"chunks": info["chunks"], "files": info["files"], "chars": info["chars"], "index s": index_s,
            "index chunks/s": counts["embedded"] / index_s, "index chars/s": chars / index_s,
            "index peak MB": peak_rss_mb(time_log), "index cpu s": cpu_s(time_log), **counts, "grown from": grown_from and grown_from.name,
            "filler": info["filler"], "pool used": info["pool used"], "when": time.strftime("%Y-%m-%d %H:%M")}
    print(f"rag index: {index_s:.1f} s ({kept['index cpu s']:.0f} CPU s), {counts['embedded']} chunks embedded "
          f"({kept['index chunks/s']:.0f} chunks/s, {kept['index chars/s']:,.0f} chars/s), peak RSS "
          f"{kept['index peak MB']:.0f} MB"
          + (f"; grown from {grown_from.name}" if grown_from else ""), flush=True)
    done.write_text(json.dumps(kept))
    return kept | {"reused": False}


def cold_ask(index: Path, questions: list[str], runs: int, log: Path) -> dict:
    """Whole `rag ask` processes; a first run that had to build the lexicon is kept apart."""
    had_lexicon = current_build(index) is not None
    times, peaks, cpus, first = [], [], [], None
    for i in range(runs + (not had_lexicon)):
        wall, peak, proc = timed_process([RAG, "ask", questions[i % len(questions)], "--index", str(index)], log,
                                         capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"rag ask failed with exit code {proc.returncode}:\n{proc.stderr[-2000:]}")
        if i == 0 and not had_lexicon:
            first = {"s": wall, "cpu s": cpu_s(log), "peak MB": peak}
            print(f"cold rag ask, first run (no lexicon yet: it builds and publishes it): {wall:.2f} s "
                  f"({first['cpu s']:.2f} CPU s), peak RSS {peak:.0f} MB", flush=True)
            continue
        times.append(wall)
        peaks.append(peak)
        cpus.append(cpu_s(log))
    out = {"cold s": statistics.median(times), "cold min s": min(times), "cold max s": max(times),
           "cold runs": times, "cold cpu s": statistics.median(cpus), "cold peak MB": max(peaks), "cold first": first}
    print(f"cold rag ask: median {out['cold s']:.2f} s ({min(times):.2f}–{max(times):.2f}, {len(times)} runs), "
          f"median CPU {out['cold cpu s']:.2f} s, peak RSS {out['cold peak MB']:.0f} MB", flush=True)
    return out


def latency(index: Path, items: list, paragraphs: dict[str, str]) -> dict:
    from rag.service import Rag

    t = time.perf_counter()
    rag = Rag(Settings(index_dir=index))
    rag.warm_up()  # model, Chroma, the lexicon: what `rag serve` does before its first request
    load_s = time.perf_counter() - t
    ret, n = rag.retriever, max(rag.settings.candidates, rag.settings.top_k)
    collection = rag.store.collection
    bm25 = ret.lexicon.bm25
    print(f"chroma hnsw {collection.configuration.get('hnsw')}; bm25s {bm25.method} k1={bm25.k1} b={bm25.b}")
    for item in items[:5]:
        rag.ask(item.question)
    ms: dict[str, list[float]] = {"answer": [], "embed": [], "dense": [], "bm25": [], "answer cpu": []}
    found, own = [], []

    def clock(name, f, *a):
        t, out = time.perf_counter(), f(*a)
        ms[name].append((time.perf_counter() - t) * 1000)
        return out

    for item in items:
        cpu = time.process_time()
        clock("answer", rag.ask, item.question)
        ms["answer cpu"].append((time.process_time() - cpu) * 1000)  # all threads of this process
        vector = clock("embed", lambda q: rag.embedder.encode([q])[0], item.question)
        clock("dense", ret.dense, vector, n)
        clock("bm25", ret.lexical, item.question, n)
        if item.answerable:
            hits = rag.search(item.question, 5)
            found.append(any(contains_answer(h.chunk.text, item.answers) for h in hits))
            own.append(any(h.chunk.source.startswith("squad/") and h.chunk.text in paragraphs[item.source]
                           for h in hits))  # by text: SQuAD file names changed (p000.txt, then Normans_p000.txt)
    ms["rest"] = [a - e - d - b for a, e, d, b in zip(ms["answer"], ms["embed"], ms["dense"], ms["bm25"])]
    p = lambda name, q=50: float(np.percentile(ms[name], q))
    out = {"indexed chunks": len(ret.lexicon), "load s": load_s, "p50": p("answer"), "p95": p("answer", 95),
           "p50 cpu": p("answer cpu"),
           **{f"p50 {k}": p(k) for k in ("embed", "dense", "bm25", "rest")},
           "R@5": float(np.mean(found)), "own@5": float(np.mean(own)), "answerable": len(found)}
    print(f"in process: {out['indexed chunks']} chunks loaded in {load_s:.2f} s; {len(items)} questions "
          f"({len(found)} answerable): answer p50 {out['p50']:.1f} ms, p95 {out['p95']:.1f} ms (CPU p50 "
          f"{out['p50 cpu']:.1f} ms); p50 of the "
          f"stages alone: embed {out['p50 embed']:.1f}, dense {out['p50 dense']:.1f}, bm25 {out['p50 bm25']:.1f}, "
          f"rest {out['p50 rest']:.1f} ms; R@5 {out['R@5']:.3f}, own@5 {out['own@5']:.3f}", flush=True)
    return out


def memory(pid: int) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmHWM", "VmRSS")}


def serve(index: Path, questions: list[str], requests: int, clients: int, log: Path) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen([RAG, "serve", "--index", str(index), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        with httpx.Client(base_url=url, timeout=600) as http:
            while True:  # a server that died fails at once
                if proc.poll() is not None:
                    raise RuntimeError(f"rag serve exited with code {proc.returncode}")
                try:
                    if http.get("/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            health_s, health_cpu = time.perf_counter() - t, process_cpu_s(proc.pid)
            http.post("/v1/ask", json={"question": questions[0]}).raise_for_status()
            ready_s, ready_cpu, idle = time.perf_counter() - t, process_cpu_s(proc.pid), memory(proc.pid)
            http.get("/").raise_for_status()  # waits while the chat UI is built (rag.api.faces)
            ui_s = time.perf_counter() - t
            for q in questions[1:6]:
                http.post("/v1/ask", json={"question": q}).raise_for_status()
            one: list[float] = []
            for q in questions:
                began = time.perf_counter()
                http.post("/v1/ask", json={"question": q}).raise_for_status()
                one.append((time.perf_counter() - began) * 1000)

            def ask(question: str) -> bool:
                try:
                    http.post("/v1/ask", json={"question": question}).raise_for_status()
                    return True
                except httpx.HTTPError:
                    return False

            with ThreadPoolExecutor(clients) as pool:
                began = time.perf_counter()
                ok = list(pool.map(ask, [questions[i % len(questions)] for i in range(requests)]))
                elapsed = time.perf_counter() - began
        mem = memory(proc.pid)
    except Exception:
        print(f"rag serve failed; last lines of its stderr ({log}):\n" + "\n".join(log.read_text().splitlines()[-20:]))
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out = {"health s": health_s, "ready s": ready_s, "health cpu s": health_cpu, "ready cpu s": ready_cpu,
           "ui s": ui_s, "idle MB": idle["VmRSS"],
           "http p50": float(np.percentile(one, 50)), "http p95": float(np.percentile(one, 95)),
           "peak MB": mem["VmHWM"], "rss MB": mem["VmRSS"], "req/s": sum(ok) / elapsed, "errors": ok.count(False)}
    print(f"rag serve: /health 200 after {health_s:.2f} s, first /v1/ask returned after {ready_s:.2f} s "
          f"({ready_cpu:.2f} CPU s of the server by then), RSS then "
          f"{out['idle MB']:.0f} MB; the chat UI at / answered after {ui_s:.2f} s; {len(one)} /v1/ask one at a time: p50 {out['http p50']:.1f} ms, p95 "
          f"{out['http p95']:.1f} ms; {requests} from {clients} clients: {out['req/s']:.1f} answered/s, errors "
          f"{out['errors']}; peak RSS (VmHWM) {out['peak MB']:.0f} MB, RSS at end {out['rss MB']:.0f} MB", flush=True)
    return out


def code_version() -> str:
    """The commit measured: of ROOT's git checkout (with '+changes' if its tree differs), or of the COMMIT
    file that `git archive` users write into an exported copy (a fixed version while others edit)."""
    if (ROOT / "COMMIT").exists():
        return (ROOT / "COMMIT").read_text().strip()
    git = lambda *a: subprocess.run(["git", "-C", str(ROOT), *a], check=False, capture_output=True,
                                    text=True).stdout.strip()
    return git("rev-parse", "--short", "HEAD") + "+changes" * bool(git("status", "--porcelain", "--", "rag"))


def table(rows: list[dict]) -> str:
    head = ("chunks", "index s", "chunks/s", "chars/s", "index peak MB", "cold ask s (CPU s)", "serve health s",
            "serve ready s (CPU s)", "UI s", "p50 ms (CPU)", "p95 ms", "HTTP p50 / p95 ms", "embed / dense / bm25 / rest p50 ms",
            "load s", "R@5", "own@5", "serve peak MB", "req/s", "errors")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        note = " (reused)" * r["reused"] + f" (grown from {r['grown from']})" * bool(r.get("grown from"))
        first = f"; first {r['cold first']['s']:.2f}" if r["cold first"] else ""
        lines.append(
            f"| {r['indexed chunks']:,} | {r['index s']:.0f}{note} | {r['index chunks/s']:.0f} | "
            f"{r['index chars/s']:,.0f} | {r['index peak MB']:.0f} | {r['cold s']:.2f} ({r['cold cpu s']:.2f}){first} | "
            f"{r['health s']:.2f} | {r['ready s']:.2f} ({r['ready cpu s']:.2f}) | {r.get('ui s', float('nan')):.2f} | {r['p50']:.1f} ({r['p50 cpu']:.1f}) | "
            f"{r['p95']:.1f} | {r['http p50']:.1f} / {r['http p95']:.1f} | "
            f"{r['p50 embed']:.1f} / {r['p50 dense']:.1f} / {r['p50 bm25']:.1f} / {r['p50 rest']:.1f} | "
            f"{r['load s']:.2f} | {r['R@5']:.3f} | {r['own@5']:.3f} | {r['peak MB']:.0f} | {r['req/s']:.1f} | "
            f"{r['errors']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", action="append", required=True, help="target chunk counts: 50000,100000 or repeat")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grow", action="store_true", help="index N from a copy of the largest smaller N's index")
    ap.add_argument("--workdir", type=Path, help="keep corpus and index per N here and reuse them (default: temp)")
    ap.add_argument("--data", type=Path, default=SQUAD)
    args = ap.parse_args()
    targets = [int(n) for value in args.chunks for n in value.split(",") if n.strip()]
    s, began = Settings(), dt.datetime.now()
    head = {"date": f"{began:%Y-%m-%d %H:%M}", "code": code_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(), "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "settings": {"chunk": [s.chunk_size, s.chunk_overlap], "top_k": s.top_k, "candidates": s.candidates,
                         "dense_weight": s.dense_weight}, "data": str(args.data.resolve())}
    print(f"# bench/scale.py, {head['date']}, {head['machine']}, {head['cpus']} CPUs, Python {head['python']}")
    print(f"# command: {head['command']}; code {head['code']}")
    print(f"# settings: chunk {s.chunk_size}/{s.chunk_overlap}, top_k {s.top_k}, candidates {s.candidates}, "
          f"dense_weight {s.dense_weight}; data {head['data']}")
    paragraphs, items = load_squad(args.data.resolve())
    rng, half = random.Random(args.seed), args.questions // 2  # as many answerable questions as not
    items = [i for want in (True, False) for i in rng.sample([i for i in items if i.answerable == want], half)]
    rng.shuffle(items)
    questions = [i.question for i in items]
    rows = []
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"scale-{began:%Y%m%d-%H%M}.json"
    with tempfile.TemporaryDirectory() as tmp:
        for target in targets:
            work = (args.workdir or Path(tmp)) / f"n{target}"
            work.mkdir(parents=True, exist_ok=True)
            print(f"\n## ~{target} chunks ({work}); load avg {os.getloadavg()[0]:.2f}", flush=True)
            row = {"target": target, **build(work, corpus(work, paragraphs, target, args.seed), args.grow)}
            row |= cold_ask(work / "index", [i.question for i in items if i.answerable], args.cold_runs,
                            work / "ask.time")
            row |= latency(work / "index", items, paragraphs)
            row |= serve(work / "index", questions, args.requests, args.clients, work / "serve.log")
            row["load avg"] = os.getloadavg()
            rows.append(row)
            out.write_text(json.dumps(head | {"rows": rows}, indent=1))
    print("\n" + table(rows))
    print(f"\n# load avg 1/5/15 min at end: {'/'.join(f'{x:.2f}' for x in os.getloadavg())}; figures in {out}")


if __name__ == "__main__":
    main()
