"""What `rag eval` leaves in --out: results.jsonl, metrics.json, a self-contained report.html
(how the test set was read, metric table, matplotlib plots inlined as PNG, the worst questions with
their cited spans) and, on request, the results in another tool's format (`--export ragas`).
The folder is written aside and moved into place at the end, so it is never half-written."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from rag.answer.citations import MARKERS
from rag.answer.extractive import ABSTAIN_BELOW
from rag.evaluate import LOWER_IS_BETTER, Evaluation

WORST = 10


def ragas_row(result: dict) -> dict:
    """One results.jsonl row as a RAGAS SingleTurnSample (`EvaluationDataset.from_jsonl` reads these):
    the answer without its [n] markers, the retrieved chunks, the first gold answer as the reference."""
    row = {"user_input": result["question"], "retrieved_contexts": result["retrieved_contexts"],
           "response": " ".join(MARKERS.sub("", result["answer"]).split())}
    return row | ({"reference": result["gold"][0]} if result["gold"] else {})


EXPORTS = {"ragas": ("ragas.jsonl", ragas_row)}  # --export NAME: (file in --out, one line per result)


# metric -> (name, what it measures, how its value reads)
METRICS: dict[str, tuple[str, str, str]] = {
    "questions": ("Questions", "in the test set", "count"),
    "answerable": ("Answerable questions", "ones with a gold answer", "count"),
    "unanswerable": ("Unanswerable questions", "ones the documents don't answer: the right reply is a refusal",
                     "count"),
    "answer_recall_at_1": ("Answer in the best passage", "share of answerable questions whose top-ranked passage "
                           "holds a gold answer", "share"),
    "answer_recall_at_k": ("Answer in the passages retrieved", "share of answerable questions with a gold answer in "
                           "any of the passages retrieved", "share"),
    "mrr": ("Rank of the first passage with the answer", "mean of 1/rank (MRR): 1.0 means always first", "score"),
    "exact_match": ("Exact match", "short answer (else the whole answer) equal to a gold answer", "share"),
    "f1": ("Word overlap with the gold answer", "token F1 of the short answer (else the whole answer), SQuAD's measure",
           "score"),
    "gold_in_answer": ("Gold answer in the answer", "share of answerable questions whose answer contains a gold "
                       "answer", "share"),
    "answer_words_median": ("Answer length", "median words per answer given", "words"),
    "citation_validity": ("Answers that keep the citation rules", "every sentence cited, every [n] a verbatim "
                          "span of the documents", "share"),
    "citation_recall": ("Sentences their sources support", "share of answer sentences supported by the spans "
                        "they cite", "share"),
    "citation_precision": ("Citations that are needed", "share of citations that support their sentence",
                           "share"),
    "unanswerable_abstained": ("Unanswerable questions refused", "share correctly answered with "
                               "\"not in the documents\"", "share"),
    "answerable_refused": ("Answerable questions refused", "share wrongly answered with \"not in the documents\"",
                           "share"),
}
STAGES = {"retrieve": "Time to find the passages", "answer": "Time to write the answer", "total": "Time to answer"}
LATENCY = re.compile(r"latency_(\w+)_p(\d+)")


def metric_row(name: str, value: object) -> tuple[str, str, str]:
    """(plain name, explanation, value as read) for one metrics.json entry."""
    if m := LATENCY.fullmatch(name):
        stage, p = m.groups()
        kind = "median" if p == "50" else f"{p}th percentile"
        label, unit = f"{STAGES.get(stage, stage)}, {kind}", "ms"
        explain = "half the questions took less" if p == "50" else f"{p}% of the questions took less"
    else:
        label, explain, unit = METRICS.get(name, (name, "", "score"))
    if value is None:
        shown = "not measured"
    elif unit == "share":
        shown = f"{100 * float(value):.0f}%"
    elif unit == "ms":
        shown = f"{float(value):,.0f} ms"
    elif unit == "score":
        shown = f"{float(value):.2f}"
    else:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
    if name in LOWER_IS_BETTER:
        explain += " (lower is better)"
    return label, explain, shown


def metrics_html(metrics: dict) -> str:
    """The metrics in plain words, each with what it measures: the Evaluate tab and report.html alike."""
    rows = "".join(f'<tr><th scope="row">{html.escape(label)}<div class="explain">{html.escape(explain)}</div></th>'
                   f"<td>{html.escape(shown)}</td></tr>"
                   for label, explain, shown in (metric_row(n, v) for n, v in metrics.items()))
    return f'<table><thead><tr><th scope="col">Measure</th><th scope="col">Result</th></tr></thead>{rows}</table>'


def write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write(evaluation: Evaluation, out: Path, exports: tuple[str, ...] = ()) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        write_jsonl(staging / "results.jsonl", evaluation.results)
        for name in exports:
            file, convert = EXPORTS[name]
            write_jsonl(staging / file, map(convert, evaluation.results))
        (staging / "metrics.json").write_text(
            json.dumps({"metrics": evaluation.metrics, "run": evaluation.run}, indent=2), encoding="utf-8")
        (staging / "report.html").write_text(report_html(evaluation), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def compare(a: dict, b: dict) -> list[tuple[str, object, object, str]]:
    """(metric, A, B, delta) rows for two metrics.json contents; delta marked + when B is better."""
    rows = []
    for name in dict.fromkeys([*a["metrics"], *b["metrics"]]):
        va, vb = a["metrics"].get(name), b["metrics"].get(name)
        delta = ""
        if isinstance(va, int | float) and isinstance(vb, int | float) and va != vb:
            better = (vb < va) if name in LOWER_IS_BETTER else (vb > va)
            delta = f"{vb - va:+.4g} ({'better' if better else 'worse'})"
        rows.append((name, va, vb, delta))
    return rows


# --- the HTML report ----------------------------------------------------------------------------
def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def plots(evaluation: Evaluation) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = evaluation.results
    groups = {"answerable": [r for r in rows if r["answerable"] is True],
              "unanswerable": [r for r in rows if r["answerable"] is False],
              "no gold": [r for r in rows if r["answerable"] is None]}
    figures = evidence_plots(evaluation, groups, plt) if all("evidence_score" in r["metrics"] for r in rows) else []

    fig, ax = plt.subplots(figsize=(6, 3.2))
    stages = ["retrieve", "answer", "total"]
    ax.boxplot([[r["timings_ms"].get(s, 0) for r in rows] for s in stages], tick_labels=stages)
    ax.set(title="Latency per stage", ylabel="ms")
    figures.append(_png(fig))

    if groups["answerable"]:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist([r["metrics"]["f1"] for r in groups["answerable"]], bins=10, range=(0, 1))
        ax.set(title="Token F1 on answerable questions", xlabel="F1", ylabel="questions")
        figures.append(_png(fig))
    return figures


def evidence_plots(evaluation: Evaluation, groups: dict[str, list[dict]], plt) -> list[str]:
    """The best evidence score by kind of question, and the abstention trade-off it allows."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for label, group in groups.items():
        if group:
            ax.hist([r["metrics"]["evidence_score"] for r in group], bins=20, range=(0, 1), alpha=0.6, label=label)
    ax.axvline(ABSTAIN_BELOW, color="k", linestyle="--", label=f"threshold {ABSTAIN_BELOW}")
    ax.set(title="Best evidence score", xlabel="score", ylabel="questions")
    _legend_beside(ax)
    figures = [_png(fig)]
    if not (groups["answerable"] and groups["unanswerable"]):
        return figures

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ts = np.linspace(0, 1, 41)
    for label, checks in (("score < t", False), ("score < t or a term check", True)):
        def refused(r: dict, t: float, checks: bool = checks) -> bool:
            return r["metrics"]["evidence_score"] < t or (checks and r["metrics"]["evidence_flag"] is not None)
        ax.plot([np.mean([refused(r, t) for r in groups["answerable"]]) for t in ts],
                [np.mean([refused(r, t) for r in groups["unanswerable"]]) for t in ts], marker=".", label=label,
                clip_on=False)
    m = evaluation.metrics
    ax.scatter([m["answerable_refused"]], [m["unanswerable_abstained"]], color="red", zorder=3, label="this run",
               clip_on=False)
    # a margin around 0-1, so that points on the edges (refusing none or all) show whole
    ax.set(title="Abstention trade-off over the threshold t", xlabel="answerable refused",
           ylabel="unanswerable abstained", xlim=(-0.03, 1.03), ylim=(-0.03, 1.03))
    _legend_beside(ax)
    return figures + [_png(fig)]


def _legend_beside(ax) -> None:
    """The legend right of the axes, where it covers no bar and no point."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, frameon=False)


def worst(rows: list[dict], n: int = WORST) -> list[tuple[str, dict]]:
    """(why, row): wrong abstentions either way first, then the lowest F1, then weak citations."""
    picked = []
    for r in rows:
        m = r["metrics"]
        if r["answerable"] is False and not r["abstained"]:
            picked.append((0.0, "answered, but the documents don't hold the answer", r))
        elif r["answerable"] is True and r["abstained"]:
            picked.append((0.0, "refused, but the documents hold the answer", r))
        elif not m["valid"]:
            picked.append((0.0, "invalid citations: " + "; ".join(m["problems"]), r))
        elif r["answerable"] is True and not m["gold_in_answer"]:
            picked.append((0.5 + m["f1"], f"gold answer not in the answer (F1 {m['f1']:.2f})", r))
        elif (m["citation_recall"] or 1.0) < 1.0:
            picked.append((1.5 + m["citation_recall"], f"citation recall {m['citation_recall']:.2f}", r))
    return [(why, r) for _, why, r in sorted(picked, key=lambda p: p[0])[:n]]


def _where(citation: dict) -> str:
    page = f" p.{citation['page']}" if citation["page"] else ""
    return f"{citation['source']}{page} [{citation['start']}:{citation['end']}]"


def worst_html(rows: list[dict]) -> str:
    esc = html.escape
    cards = []
    for why, r in worst(rows):
        gold = ", ".join(r["gold"]) or "(none)"
        spans = "".join(f"<li>[{c['n']}] {esc(_where(c))}: <q>{esc(c['text'])}</q></li>" for c in r["citations"])
        cards.append(f"<div class='q'><b>{esc(r['question'])}</b> <span class='why'>{esc(why)}</span>"
                     f"<p>gold: {esc(gold)}</p><p>answer: {esc(r['answer'])}</p><ul>{spans}</ul></div>")
    if cards:
        return "".join(cards)
    if all(r["answerable"] is None for r in rows):
        return "<p>No citation went wrong; with no gold answers in the test set, wrong answers can't be found.</p>"
    return "<p>No question went wrong.</p>"


def testset_html(run: dict) -> str:
    """How the test set's keys were read, and every warning: gold answers that went unread must show."""
    esc = html.escape
    if "mapping" not in run:
        return ""
    mapping = "".join(f"<li>{esc(what)} &larr; <code>{esc(key)}</code></li>" for what, key in run["mapping"].items())
    mapping += "".join(f"<li>not read: <code>{esc(key)}</code> ({esc(what)})</li>"
                       for key, what in run.get("not_read", {}).items())
    warnings = "".join(f"<p class='why'>warning: {esc(w)}</p>" for w in run.get("warnings", []))
    return f"<h2>Test set</h2><p>{esc(run['format'])}</p><ul>{mapping}</ul>{warnings}"


def report_html(evaluation: Evaluation) -> str:
    esc = html.escape
    run = ", ".join(f"{esc(k)}: {esc(str(v))}" for k, v in evaluation.run.items()
                    if k not in ("mapping", "not_read", "warnings"))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>rag eval report</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}
.explain{{font-weight:normal;font-size:.85em;color:#555}}
.q{{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:.6em 0}}.why{{color:#b42318}}
q{{background:#fff3bf}}img{{width:49%;min-width:420px}}</style></head><body>
<h1>rag eval</h1><p>{run}</p>{testset_html(evaluation.run)}
<h2>Metrics</h2>{metrics_html(evaluation.metrics)}
<h2>Plots</h2>{"".join(plots(evaluation))}
<h2>Worst questions</h2>{worst_html(evaluation.results)}
</body></html>"""
