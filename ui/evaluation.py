"""The Evaluate tab: `rag eval` in the browser. The metrics are named in plain words with a line that
says what each measures, the report's plots are shown inline, and the full report opens in a new tab.
Nothing shown names a server path: the test set is called by its file name."""

from __future__ import annotations

import html
import json
import re
import time
import uuid
from pathlib import Path

import gradio as gr

from rag import report
from rag.errors import RagError
from rag.evaluate import evaluate_file
from rag.service import Rag
from ui.render import plain

IMAGE = re.compile(r'<img alt="" src="data:image/png;base64,[^"]+">')  # report.html's plots
SAMPLE = Path(__file__).resolve().parents[1] / "tests/data/seed_qa.jsonl"


class EvaluateTab:
    def __init__(self, rag: Rag) -> None:
        self.rag = rag
        gr.Markdown("Run a test set against the indexed documents: JSONL or CSV with `question`, `answers`, "
                    "`answerable`, or SQuAD 2.0 JSON (which brings its own paragraphs). Same as `rag eval` on the "
                    "command line.")
        self.testset = gr.File(label="Test set", file_types=[".jsonl", ".csv", ".json"], type="filepath",
                               elem_id="testset")
        if SAMPLE.is_file():  # a checkout has it; it asks about seeds/, what `make run` indexes
            gr.DownloadButton("Download a sample test set (32 questions about the seed article)", value=str(SAMPLE),
                              size="sm", elem_id="sample-testset")
        has_llm = bool(rag.settings.llm_url)
        self.llm = gr.Checkbox(label="Answer with the LLM", interactive=has_llm,
                               info=None if has_llm else "No language model is configured: set RAG_LLM_URL "
                                                         "and RAG_LLM_MODEL and restart rag serve.")
        self.run = gr.Button("Run evaluation", variant="primary")
        self.earlier = gr.Dropdown(label="Earlier runs", choices=[], elem_id="eval-runs", interactive=True,
                                   info="Kept with the index; pick one to see it again.")
        self.status = gr.Markdown(elem_id="eval-status")
        self.report = gr.HTML(elem_id="eval-report", js_on_load=REPORT_JS)
        self.metrics = gr.HTML(elem_id="eval-metrics")
        self.plots = gr.HTML(elem_id="eval-plots")
        self.worst = gr.HTML(elem_id="eval-worst")
        self.downloads = gr.File(label="Download results.jsonl, metrics.json and report.html", file_count="multiple",
                                 visible=False)

    @property
    def runs(self) -> Path:
        """Where runs are kept: beside the index, so that they outlive a reload and a restart."""
        return self.rag.settings.index_dir / "evaluations"

    def run_choices(self, chosen: str | None = None) -> gr.Dropdown:
        """The kept runs, newest first, labelled by when, which test set and how many questions."""
        choices = []
        for metrics in sorted(self.runs.glob("*/metrics.json"), reverse=True):
            data = json.loads(metrics.read_text(encoding="utf-8"))
            when = time.strftime("%Y-%m-%d %H:%M", time.strptime(metrics.parent.name[:15], "%Y%m%d-%H%M%S"))
            choices.append((f"{when} · {data['run'].get('testset', '?')} · {data['metrics'].get('questions', '?')} "
                            "questions", metrics.parent.name))
        return gr.Dropdown(choices=choices, value=chosen)

    def evaluate(self, testset: str | None, use_llm: bool, progress=gr.Progress(track_tqdm=True)) -> tuple:
        if not testset:
            return "Choose a test set first.", "", "", "", "", gr.File(visible=False), gr.skip()
        name = Path(testset).name
        try:
            evaluation = evaluate_file(Path(testset), self.rag, use_llm=use_llm, progress=True)
        except (RagError, ValueError, OSError) as e:
            why = str(e).replace(str(testset), name).replace(str(Path(testset).parent) + "/", "")
            return (f"**{plain(name)} could not be evaluated:** {plain(why)}", "", "", "", "",
                    gr.File(visible=False), gr.skip())
        evaluation.run |= {"testset": name, "index": "the indexed documents"}
        run = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        report.write(evaluation, self.runs / run)
        return (*self.shown(run, evaluation.results, "".join(report.plots(evaluation))), self.run_choices(run))

    def reopen(self, run: str | None) -> tuple:
        """A kept run as it was shown: its metrics, plots (from its report), worst questions and files."""
        folder = self.runs / (run or "")
        if not run or "/" in run or not (folder / "metrics.json").is_file():
            return "", "", "", "", "", gr.File(visible=False)
        results = [json.loads(line) for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()]
        return self.shown(run, results, "".join(IMAGE.findall((folder / "report.html").read_text(encoding="utf-8"))))

    def shown(self, run: str, results: list[dict], plots: str) -> tuple:
        """(status, report opener, metrics, plots, worst questions, downloads) of a kept run."""
        folder = self.runs / run
        data = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        files = [str(folder / f) for f in ("results.jsonl", "metrics.json", "report.html")]
        worst = "<h3>Questions that went worst</h3>" + report.worst_html(results)
        opener = (f'<a href="#" class="open-report" target="_blank" rel="noopener">Open the full report in a new tab</a>'
                  f'<textarea hidden class="report-html">{html.escape((folder / "report.html").read_text())}</textarea>')
        return (f"Evaluated {len(results)} questions from {plain(data['run'].get('testset', '?'))}.", opener,
                report.metrics_html(data["metrics"]), plots, worst, gr.File(value=files, visible=True))

    def wire(self, demo: gr.Blocks) -> None:
        shown = [self.status, self.report, self.metrics, self.plots, self.worst, self.downloads]
        self.run.click(self.evaluate, inputs=[self.testset, self.llm], outputs=[*shown, self.earlier],
                       api_visibility="private")
        self.earlier.input(self.reopen, inputs=self.earlier, outputs=shown, api_visibility="private")
        demo.load(self.run_choices, outputs=self.earlier, api_visibility="private")


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
