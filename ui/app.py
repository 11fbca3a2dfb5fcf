"""The Gradio chat, mounted at / by `rag serve` (entry point `rag.faces: ui = ui.app:mount`).

A thin face: it calls the same `Rag.ask` / `Rag.add` / `Rag.remove` as the HTTP API, and its
`/answer` API endpoint (for gradio_client) returns the same answer JSON."""

from __future__ import annotations

import hmac
import tempfile
from dataclasses import replace
from pathlib import Path

import gradio as gr
from fastapi import FastAPI

from rag import report
from rag.api import pieces
from rag.errors import RagError
from rag.evaluate import evaluate_file
from rag.loaders import LOADERS
from rag.service import Rag
from ui.render import answer_markdown, plain, sources_html

EXAMPLES = ["How many Ukrainian troops have French forces trained?",
            "Who is the Estonian prime minister?",
            "What did Macron say about a coalition?",
            "How many Mirage 2000 jets will France deliver?"]

CSS = """
#sources .turn { margin-bottom: 1.2em; }
#sources .asked { font-weight: 600; margin-bottom: .4em; }
#sources .source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .5em .8em;
                   margin: .4em 0; }
#sources .source.active { outline: 3px solid var(--color-accent); }
#sources .where { font-size: .85em; opacity: .75; }
#sources mark { background: #ffe066; color: #000; padding: 0 2px; }
#sources .none { font-style: italic; opacity: .75; }
#chat .abstained { font-weight: 600; color: #b42318; border: 1px solid #b42318; border-radius: 4px; padding: 0 4px; }
"""

# Citation links point at #src-<turn>-<n> in the sources panel. Clicking one scrolls there and
# marks the card; handled here, in the capture phase, so the chat never opens it as a new page.
HEAD = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#src-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) return;
  document.querySelectorAll("#sources .source.active").forEach((el) => el.classList.remove("active"));
  card.classList.add("active");
  card.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
</script>
"""


def build(rag: Rag) -> gr.Blocks:
    has_llm = bool(rag.settings.llm_url)

    def documents_table() -> list[list]:
        return [[d["source"], d["pages"], d["chunks"], "uploaded" if d["uploaded"] else "folder"]
                for d in rag.documents()]

    def document_names() -> gr.Dropdown:
        return gr.Dropdown(choices=[d["source"] for d in rag.documents()], value=None)

    def respond(question: str, mode: str, messages: list, history: list, panels: list):
        """Yields the chat as it fills in: the question, then the verified answer word by word."""
        question = (question or "").strip()
        if not question:
            yield "", messages, history, panels, gr.skip()
            return
        messages = messages + [{"role": "user", "content": plain(question)},
                               {"role": "assistant", "content": "_Searching the documents…_"}]
        yield "", messages, history, panels, gr.skip()
        try:
            answer = rag.ask(question, history, use_llm=mode == "LLM")
        except Exception as e:  # noqa: BLE001 (any failure is shown in the chat as a message, never a trace)
            messages[-1] = {"role": "assistant", "content": f"**Something went wrong:** {plain(str(e) or type(e).__name__)}"}
            yield "", messages, history, panels, gr.skip()
            return
        turn = len(panels) + 1
        words = pieces(answer.answer)
        for i in range(4, len(words), 4):  # the answer is already verified: reveal it, don't wait for it
            partial = replace(answer, answer="".join(words[:i]))
            messages[-1] = {"role": "assistant", "content": answer_markdown(partial, turn)}
            yield "", messages, history, panels, gr.skip()
        messages[-1] = {"role": "assistant", "content": answer_markdown(answer, turn)}
        history = history + [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
        panels = [sources_html(answer, turn, rag.store.page_text)] + panels
        yield "", messages, history, panels, "".join(panels)

    def upload(files: list[str] | None, progress=gr.Progress(track_tqdm=True)):
        if not files:
            return "Choose files to upload first.", documents_table(), document_names()
        try:
            report = rag.add({Path(f).name: Path(f).read_bytes() for f in files}, progress=True)
        except ValueError as e:
            return f"**Error:** {plain(str(e))}", documents_table(), document_names()
        lines = [plain(report.summary())] + [f"**Skipped** {plain(Path(e.path).name)}: {plain(e.reason)}"
                                             for e in report.failures]
        return "\n\n".join(lines), documents_table(), document_names()

    def remove(source: str | None):
        if not source:
            return "Pick a document to remove.", documents_table(), document_names()
        try:
            removed = rag.remove(source)
        except RagError as e:
            return f"**Error:** {plain(str(e))}", documents_table(), document_names()
        return f"Removed {plain(source)} ({removed} chunks).", documents_table(), document_names()

    def run_eval(testset: str | None, use_llm: bool, progress=gr.Progress(track_tqdm=True)):
        if not testset:
            return "Choose a test set first.", None, "", None
        try:
            evaluation = evaluate_file(Path(testset), rag, use_llm=use_llm, progress=True)
        except (RagError, ValueError, OSError) as e:
            return f"**Error:** {plain(str(e))}", None, "", None
        out = Path(tempfile.mkdtemp(prefix="rag-eval-ui-")) / "eval"
        report.write(evaluation, out)
        table = [[name, "" if value is None else value] for name, value in evaluation.metrics.items()]
        files = [str(out / name) for name in ("results.jsonl", "metrics.json", "report.html")]
        return f"Evaluated {len(evaluation.results)} questions.", table, report.worst_html(evaluation.results), files

    with gr.Blocks(title="rag: cited answers from your documents") as demo:
        history = gr.State([])  # plain-text turns for follow-up questions
        panels = gr.State([])   # sources HTML per answer, newest first
        gr.Markdown("## Ask your documents\nEvery sentence of an answer cites a verbatim span; click a "
                    "marker like [1] to see it highlighted in its passage.")
        with gr.Tab("Chat"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", height=480, elem_id="chat", feedback_options=None)
                with gr.Row():
                    question = gr.Textbox(placeholder="Ask a question about the documents…", show_label=False,
                                          scale=5, elem_id="question", autofocus=True)
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                mode = gr.Radio(["Extractive", "LLM"], value="Extractive", label="Answer with", visible=has_llm,
                                info="LLM answers are checked against their sources; unsupported ones fall back.")
                gr.Examples(EXAMPLES, inputs=question, label="Examples about the shipped seed document")
                gr.Button("New conversation", size="sm").click(
                    lambda: ([], [], [], ""), outputs=[chat, history, panels, question], api_visibility="private")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML("<p class='none'>The sources of each answer appear here.</p>", elem_id="sources")
        with gr.Tab("Documents"):
            table = gr.Dataframe(value=documents_table, headers=["document", "pages", "chunks", "from"],
                                 interactive=False)
            files = gr.File(label="Upload documents", file_count="multiple", file_types=sorted(LOADERS))
            status = gr.Markdown()
            with gr.Row():
                chosen = gr.Dropdown(label="Document", choices=[d["source"] for d in rag.documents()], scale=3)
                drop = gr.Button("Remove from the index", variant="stop", scale=1)
            files.upload(upload, files, [status, table, chosen], api_visibility="private")
            drop.click(remove, chosen, [status, table, chosen], api_visibility="private")
        with gr.Tab("Evaluate"):
            gr.Markdown("Run a test set against the indexed documents: JSONL or CSV with `question`, "
                        "`answers`, `answerable`, or SQuAD 2.0 JSON (which brings its own paragraphs). "
                        "Same as `rag eval` on the command line.")
            testset = gr.File(label="Test set", file_types=[".jsonl", ".csv", ".json"], type="filepath")
            eval_llm = gr.Checkbox(label="Answer with the LLM", visible=has_llm)
            run = gr.Button("Run evaluation", variant="primary")
            eval_status = gr.Markdown()
            metrics = gr.Dataframe(headers=["metric", "value"], interactive=False)
            gr.Markdown("### Worst questions")
            worst = gr.HTML()
            downloads = gr.File(label="results.jsonl, metrics.json, report.html", file_count="multiple")
            run.click(run_eval, [testset, eval_llm], [eval_status, metrics, worst, downloads],
                      api_visibility="private")

        chat_io = dict(inputs=[question, mode, chat, history, panels], outputs=[question, chat, history, panels, sources])
        ask.click(respond, **chat_io, api_visibility="private")
        question.submit(respond, **chat_io, api_visibility="private")

        def answer(question: str, llm: bool = False) -> dict:
            """The answer JSON, exactly as POST /v1/ask returns it."""
            return rag.ask(question, use_llm=llm).to_dict()

        gr.api(answer, api_name="answer")
    return demo


def mount(app: FastAPI, rag: Rag) -> None:
    """With RAG_API_KEY set, the UI asks for it too (any user name, the key as password)."""
    key = rag.settings.api_key
    auth = (lambda _user, password: hmac.compare_digest(password.encode(), key.encode())) if key else None
    gr.mount_gradio_app(app, build(rag), path="/", css=CSS, head=HEAD, auth=auth, footer_links=["api"])
