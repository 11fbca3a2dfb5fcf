"""The Documents tab: what the index holds, read from the index every time (on page load, when the tab
is opened, every few seconds while the page is open, after each change), so it never offers a document
another client removed; uploads indexed one file at a time with a progress bar that says which; and
removal from a row's button, only after a confirmation that names the document."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import gradio as gr

from rag import pages
from rag.errors import RagError
from rag.loaders import LOADERS
from rag.service import Rag
from ui.render import plain, plain_reason

REFRESH_SECONDS = 5

# A click on a row's Remove button becomes this component's "click" event, carrying the document's name.
TABLE_JS = """
element.addEventListener("click", (event) => {
  const button = event.target.closest("button.remove, button.open");
  if (button) trigger("click", {source: button.dataset.source, open: button.classList.contains("open")});
});
"""
PREVIEW_PAGES = 3  # PDF pages shown as images in a document's preview (each takes ~0.1-0.3 s to render)
PREVIEW_PASSAGES = 200


def documents_html(documents: list[dict]) -> str:
    if not documents:
        return "<p>Nothing is indexed yet: upload documents below, or run <code>rag index FOLDER</code>.</p>"
    rows = "".join(
        f'<tr><td><button type="button" class="open" data-source="{html.escape(d["source"])}" '
        f'aria-label="Open {html.escape(d["source"])}">{html.escape(d["source"])}</button>'
        + (f'<span class="card-title">{html.escape(d["title"])}</span>' if d.get("title") else "") + '</td>'
        f'<td data-label="Date">{html.escape(d.get("date") or "")}</td>'
        f'<td data-label="Type">{html.escape(d["type"].upper() or "?")}</td>'
        f'<td class="number" data-label="Size">{size_words(d["size"])}</td>'
        f'<td class="number" data-label="Pages">{d["pages"]}</td>'
        f'<td class="number" data-label="Passages">{d["chunks"]}</td>'
        f'<td data-label="Indexed">{html.escape((d["indexed"] or "")[:10])}</td>'
        f'<td data-label="From">{"uploaded" if d["uploaded"] else "indexed folder"}</td>'
        f'<td><button type="button" class="remove" data-source="{html.escape(d["source"])}" '
        f'aria-label="Remove {html.escape(d["source"])}">Remove</button></td></tr>'
        for d in documents)
    head = "".join(f'<th scope="col">{name}</th>' for name in ("Document", "Date", "Type", "Size", "Pages", "Passages",
                                                                 "Indexed", "From"))
    return (f'<table><caption class="sr-only">Indexed documents: open one to see its pages and passages</caption>'
            f'<thead><tr>{head}<th scope="col"><span class="sr-only">Remove</span></th></tr></thead>'
            f'<tbody>{rows}</tbody></table>')


def size_words(size: int | None) -> str:
    if size is None:
        return "–"
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{max(1, round(size / 1e3))} kB"


def preview_html(rag: Rag, document: dict) -> str:
    """A document as the index holds it: its facts, its first pages (PDF), its passages with offsets."""
    source = document["source"]
    indexed = (document["indexed"] or "?")[:16].replace("T", " ")
    facts = (f'{html.escape(document["type"].upper())} · {size_words(document["size"])} · {document["pages"]} '
             f'page(s) · {document["chunks"]} passages · indexed {html.escape(indexed)} UTC')
    card = "".join(f"<dt>{label}</dt><dd>{html.escape(value)}</dd>" for label, value in (
        ("Title", document.get("title") or ""), ("Names", "; ".join(document.get("names") or [])),
        ("Dates", ", ".join(document.get("dates") or []))) if value)
    card = f'<dl class="card">{card}</dl>' if card else ""
    images = ""
    if document["type"] == "pdf":
        shown = range(1, min(document["pages"], PREVIEW_PAGES) + 1)
        try:
            images = "".join(f'<img alt="Page {n} of {html.escape(source)}" src="data:image/png;base64,'
                             f'{base64.b64encode(pages.page_view(rag, source, n, 0, 0).png).decode()}">' for n in shown)
        except (RagError, ValueError, OSError) as e:
            images = f"<p>The pages can't be shown: {html.escape(str(e))}</p>"
        more = document["pages"] - PREVIEW_PAGES
        images = f'<div class="pages">{images}</div>' + (f"<p>… and {more} more page(s).</p>" if more > 0 else "")
    passages = rag.passages(source)
    items = "".join(f'<li><div class="where">{f"page {c.page}, " if c.page else ""}characters {c.start:,}–{c.end:,}'
                    f'</div><blockquote>{html.escape(c.text)}</blockquote></li>' for c in passages[:PREVIEW_PASSAGES])
    more = len(passages) - PREVIEW_PASSAGES
    return (f'<h3>{html.escape(source)}</h3><p class="facts">{facts}</p>{card}{images}'
            f'<h4>Indexed passages</h4><ol class="passages">{items}</ol>'
            + (f"<p>… and {more} more passages.</p>" if more > 0 else ""))


class DocumentsTab:
    def __init__(self, rag: Rag) -> None:
        self.rag = rag
        self.listed = gr.State(None)  # the listing last shown, so a refresh that finds it unchanged sends nothing
        self.pending = gr.State(None)  # the document whose removal awaits confirmation
        self.table = gr.HTML(elem_id="documents", js_on_load=TABLE_JS)
        self.previewed = gr.State(None)  # the document the preview shows
        with gr.Group(visible=False, elem_id="document-preview-group") as self.preview_group:
            self.ask_within = gr.Button("Ask within this document", variant="primary", size="sm",
                                        elem_id="ask-within")
            self.preview = gr.HTML(elem_id="document-preview")
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

    def on_row(self, event: gr.EventData) -> tuple:
        """A row's button: open the document's preview, or ask to remove it. Outputs: the confirmation
        (group, question, button, pending), status, table, listing, preview (group, html, previewed)."""
        source = str(getattr(event, "source", "") or "")
        document = next((d for d in self.rag.documents() if d["source"] == source), None)
        if document is None:
            return (gr.Group(visible=False), gr.skip(), gr.skip(), None,
                    f"**{plain(source)}** is no longer indexed.", *self.refreshed(), gr.skip(), gr.skip(), gr.skip())
        if getattr(event, "open", False):
            return (gr.skip(), gr.skip(), gr.skip(), gr.skip(), "", gr.skip(), gr.skip(), gr.Group(visible=True),
                    preview_html(self.rag, document), source)
        question = (f"Remove **{plain(source)}** from the index? Its passages can no longer be cited"
                    + (", and the uploaded file is deleted." if document["uploaded"] else "."))
        return (gr.Group(visible=True), question, gr.Button(f"Remove {source}"), source, "", gr.skip(), gr.skip(),
                gr.skip(), gr.skip(), gr.skip())

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

    def wire(self, demo: gr.Blocks, tab: gr.Tab, tabs: gr.Tabs, scope: gr.Dropdown) -> None:
        """`scope`: the chat's document picker, which "Ask within this document" sets."""
        listing = dict(inputs=self.listed, outputs=[self.table, self.listed], api_visibility="private",
                       show_progress="hidden")
        demo.load(self.refreshed, **listing)
        tab.select(self.refreshed, **listing)
        self.timer.tick(self.refreshed, **listing)
        row = [self.confirm, self.question, self.yes, self.pending, self.status, self.table, self.listed,
               self.preview_group, self.preview, self.previewed]
        self.table.click(self.on_row, outputs=row, api_visibility="private")
        self.ask_within.click(lambda source: (gr.Tabs(selected="chat"),
                                              gr.Dropdown(choices=self.rag.store.sources(), value=[source])),
                              inputs=self.previewed, outputs=[tabs, scope], api_visibility="private")
        after = [self.confirm, self.pending, self.status, self.table, self.listed]
        self.yes.click(self.remove, inputs=self.pending, outputs=after, api_visibility="private").then(
            lambda: gr.Group(visible=False), outputs=self.preview_group, api_visibility="private")
        self.no.click(lambda: (gr.Group(visible=False), None, "Nothing was removed."),
                      outputs=[self.confirm, self.pending, self.status], api_visibility="private")
        self.files.upload(self.upload, inputs=self.files, outputs=[self.files, self.upload_status, self.table,
                                                                   self.listed],
                          show_progress_on=self.files, api_visibility="private")
