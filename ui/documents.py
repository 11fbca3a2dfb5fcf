"""The Documents tab: what the index holds, read from the index every time (on page load, when the tab
is opened, every few seconds while the page is open, after each change), so it never offers a document
another client removed; uploads indexed one file at a time with a progress bar that says which; and
removal from a row's button, only after a confirmation that names the document."""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr

from rag.errors import RagError
from rag.loaders import LOADERS
from rag.service import Rag
from ui.render import plain, plain_reason

REFRESH_SECONDS = 5

# A click on a row's Remove button becomes this component's "click" event, carrying the document's name.
TABLE_JS = """
element.addEventListener("click", (event) => {
  const button = event.target.closest("button.remove");
  if (button) trigger("click", {source: button.dataset.source});
});
"""


def documents_html(documents: list[dict]) -> str:
    if not documents:
        return "<p>Nothing is indexed yet: upload documents below, or run <code>rag index FOLDER</code>.</p>"
    rows = "".join(
        f'<tr><td>{html.escape(d["source"])}</td><td class="number" data-label="Pages">{d["pages"]}</td>'
        f'<td class="number" data-label="Passages">{d["chunks"]}</td>'
        f'<td data-label="From">{"uploaded" if d["uploaded"] else "indexed folder"}</td>'
        f'<td><button type="button" class="remove" data-source="{html.escape(d["source"])}" '
        f'aria-label="Remove {html.escape(d["source"])}">Remove</button></td></tr>'
        for d in documents)
    return (f'<table><caption class="sr-only">Indexed documents</caption><thead><tr><th scope="col">Document</th>'
            f'<th scope="col">Pages</th><th scope="col">Passages</th><th scope="col">From</th>'
            f'<th scope="col"><span class="sr-only">Remove</span></th></tr></thead><tbody>{rows}</tbody></table>')


class DocumentsTab:
    def __init__(self, rag: Rag) -> None:
        self.rag = rag
        self.listed = gr.State(None)  # the listing last shown, so a refresh that finds it unchanged sends nothing
        self.pending = gr.State(None)  # the document whose removal awaits confirmation
        self.table = gr.HTML(elem_id="documents", js_on_load=TABLE_JS)
        with gr.Group(visible=False, elem_id="confirm-remove") as self.confirm:
            self.question = gr.Markdown()
            with gr.Row():
                self.yes = gr.Button("Remove", variant="stop", elem_id="confirm-yes")
                self.no = gr.Button("Keep it", elem_id="confirm-no")
        self.status = gr.Markdown(elem_id="documents-status")
        self.files = gr.File(label="Add documents", file_count="multiple", file_types=sorted(LOADERS),
                             elem_id="upload")
        self.upload_status = gr.HTML(elem_id="upload-status")
        gr.Markdown(f"Supported: {', '.join(sorted(LOADERS))}. Uploaded files are kept in the index's uploads "
                    "folder; removing one deletes it there too.")
        self.timer = gr.Timer(REFRESH_SECONDS)

    def refreshed(self, listed: list | None = None) -> tuple:
        """(table, listing) as the index has it now; nothing sent when that is what is shown."""
        documents = self.rag.documents()
        if documents == listed:
            return gr.skip(), gr.skip()
        return documents_html(documents), documents

    def ask_to_remove(self, event: gr.EventData) -> tuple:
        source = str(getattr(event, "source", "") or "")
        if not any(d["source"] == source for d in self.rag.documents()):
            return (gr.Group(visible=False), gr.skip(), gr.skip(), None,
                    f"**{plain(source)}** is no longer indexed.", *self.refreshed())
        question = (f"Remove **{plain(source)}** from the index? Its passages can no longer be cited"
                    + (", and the uploaded file is deleted." if self._uploaded(source) else "."))
        return (gr.Group(visible=True), question, gr.Button(f"Remove {source}"), source, "", gr.skip(), gr.skip())

    def _uploaded(self, source: str) -> bool:
        return any(d["source"] == source and d["uploaded"] for d in self.rag.documents())

    def remove(self, source: str | None) -> tuple:
        if not source:
            return gr.Group(visible=False), None, "", *self.refreshed()
        try:
            chunks = self.rag.remove(source)
            said = f"Removed **{plain(source)}** ({chunks} passages)."
        except RagError as e:
            said = f"**Could not remove {plain(source)}:** {plain(str(e))}"
        return gr.Group(visible=False), None, said, *self.refreshed()

    def upload(self, files: list[str] | None, progress=gr.Progress()) -> tuple:
        """One file at a time, so the bar says which file is being read and how many are left; each
        file's outcome is listed in words."""
        lines = []
        for i, path in enumerate(files or []):
            name = Path(path).name
            progress((i, len(files)), desc=f"Indexing {name} ({i + 1} of {len(files)})", unit="files")
            try:
                report = self.rag.add({name: Path(path).read_bytes()})
            except (RagError, ValueError, OSError) as e:
                lines.append(f'<li class="failed">{html.escape(name)} was not added: {html.escape(str(e))}</li>')
                continue
            failure = next((f for f in report.failures if Path(f.path).name == name), None)
            if failure is not None:
                lines.append(f'<li class="failed">{html.escape(name)} could not be read: '
                             f'{html.escape(plain_reason(failure.reason))}</li>')
            elif report.added:
                lines.append(f"<li>{html.escape(name)} added: {report.added} passages.</li>")
            else:
                lines.append(f"<li>{html.escape(name)} was indexed already: nothing changed.</li>")
        said = f'<ul role="status">{"".join(lines)}</ul>' if lines else ""
        return None, said, *self.refreshed()

    def wire(self, demo: gr.Blocks, tab: gr.Tab) -> None:
        listing = dict(inputs=self.listed, outputs=[self.table, self.listed], api_visibility="private",
                       show_progress="hidden")
        demo.load(self.refreshed, **listing)
        tab.select(self.refreshed, **listing)
        self.timer.tick(self.refreshed, **listing)
        confirm = [self.confirm, self.question, self.yes, self.pending, self.status, self.table, self.listed]
        self.table.click(self.ask_to_remove, outputs=confirm, api_visibility="private")
        after = [self.confirm, self.pending, self.status, self.table, self.listed]
        self.yes.click(self.remove, inputs=self.pending, outputs=after, api_visibility="private")
        self.no.click(lambda: (gr.Group(visible=False), None, "Nothing was removed."),
                      outputs=[self.confirm, self.pending, self.status], api_visibility="private")
        self.files.upload(self.upload, inputs=self.files, outputs=[self.files, self.upload_status, self.table,
                                                                   self.listed],
                          show_progress_on=self.files, api_visibility="private")
