"""The Evaluate tab: `rag eval` in the browser. The metrics are named in plain words with a line that
says what each measures, the report's plots are shown inline, and the full report opens in a new tab.
Nothing shown names a server path: the test set is called by its file name."""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

import gradio as gr

from rag import report
from rag.errors import RagError
from rag.evaluate import LOWER_IS_BETTER, evaluate_file
from rag.service import Rag
from ui.render import plain

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
    "exact_match": ("Exact match", "answer equal to a gold answer; whole-sentence answers score near 0 by design",
                    "share"),
    "f1": ("Word overlap with the gold answer", "token F1, SQuAD's measure", "score"),
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
    rows = "".join(f'<tr><th scope="row">{html.escape(label)}<div class="explain">{html.escape(explain)}</div></th>'
                   f"<td>{html.escape(shown)}</td></tr>"
                   for label, explain, shown in (metric_row(n, v) for n, v in metrics.items()))
    return f'<table><thead><tr><th scope="col">Measure</th><th scope="col">Result</th></tr></thead>{rows}</table>'


class EvaluateTab:
    def __init__(self, rag: Rag) -> None:
        self.rag = rag
        gr.Markdown("Run a test set against the indexed documents: JSONL or CSV with `question`, `answers`, "
                    "`answerable`, or SQuAD 2.0 JSON (which brings its own paragraphs). Same as `rag eval` on the "
                    "command line.")
        self.testset = gr.File(label="Test set", file_types=[".jsonl", ".csv", ".json"], type="filepath",
                               elem_id="testset")
        has_llm = bool(rag.settings.llm_url)
        self.llm = gr.Checkbox(label="Answer with the LLM", interactive=has_llm,
                               info=None if has_llm else "No language model is configured: set RAG_LLM_URL "
                                                         "and RAG_LLM_MODEL and restart rag serve.")
        self.run = gr.Button("Run evaluation", variant="primary")
        self.status = gr.Markdown(elem_id="eval-status")
        self.report = gr.HTML(elem_id="eval-report", js_on_load=REPORT_JS)
        self.metrics = gr.HTML(elem_id="eval-metrics")
        self.plots = gr.HTML(elem_id="eval-plots")
        self.worst = gr.HTML(elem_id="eval-worst")
        self.downloads = gr.File(label="Download results.jsonl, metrics.json and report.html", file_count="multiple",
                                 visible=False)

    def evaluate(self, testset: str | None, use_llm: bool, progress=gr.Progress(track_tqdm=True)) -> tuple:
        if not testset:
            return "Choose a test set first.", "", "", "", "", gr.File(visible=False)
        name = Path(testset).name
        try:
            evaluation = evaluate_file(Path(testset), self.rag, use_llm=use_llm, progress=True)
        except (RagError, ValueError, OSError) as e:
            why = str(e).replace(str(testset), name).replace(str(Path(testset).parent) + "/", "")
            return (f"**{plain(name)} could not be evaluated:** {plain(why)}", "", "", "", "",
                    gr.File(visible=False))
        evaluation.run |= {"testset": name, "index": "the indexed documents"}
        out = Path(tempfile.mkdtemp(prefix="rag-eval-ui-")) / "eval"
        report.write(evaluation, out)
        files = [str(out / f) for f in ("results.jsonl", "metrics.json", "report.html")]
        worst = "<h3>Questions that went worst</h3>" + report.worst_html(evaluation.results)
        opener = (f'<a href="#" class="open-report" target="_blank" rel="noopener">Open the full report in a new tab</a>'
                  f'<textarea hidden class="report-html">{html.escape((out / "report.html").read_text())}</textarea>')
        return (f"Evaluated {len(evaluation.results)} questions from {plain(name)}.", opener,
                metrics_html(evaluation.metrics), "".join(report.plots(evaluation)), worst,
                gr.File(value=files, visible=True))

    def wire(self) -> None:
        self.run.click(self.evaluate, inputs=[self.testset, self.llm],
                       outputs=[self.status, self.report, self.metrics, self.plots, self.worst, self.downloads],
                       api_visibility="private")


# The report is a whole HTML page. Served as a file, Gradio makes it a download; as a blob: URL made
# here from the page's own copy, it opens in a new tab like any link.
REPORT_JS = """
watch("value", () => {
  const source = element.querySelector("textarea.report-html");
  const link = element.querySelector("a.open-report");
  if (!source || !link) return;
  link.href = URL.createObjectURL(new Blob([source.value], {type: "text/html"}));
});
"""
