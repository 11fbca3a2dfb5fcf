"""The Gradio UI, mounted at / by `rag serve` (entry point `rag.faces: ui = ui.app:mount`).

A thin face: its tabs (ui.chat, ui.documents, ui.evaluation) call the same `Rag` as the HTTP API,
and its API endpoints for gradio_client (ui.client_api) return the same answer JSON."""

from __future__ import annotations

import hmac

import gradio as gr
from fastapi import FastAPI

from rag.service import Rag
from ui.assets import CSS, HEAD, MISSING_STRINGS
from ui.chat import ChatTab
from ui.client_api import add_client_api
from ui.documents import DocumentsTab
from ui.evaluation import EvaluateTab


def build(rag: Rag) -> gr.Blocks:
    with gr.Blocks(title="rag: cited answers from your documents") as demo:
        gr.Markdown("## Ask your documents\nEvery sentence of an answer cites a verbatim span of a document: "
                    "hover or tap a marker like [1] to see it.")
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat", elem_id="chat-tab"):
                chat = ChatTab(rag)
            with gr.Tab("Documents", id="documents", elem_id="documents-tab") as documents_tab:
                documents = DocumentsTab(rag)
            with gr.Tab("Evaluate", id="evaluate", elem_id="evaluate-tab"):
                evaluate = EvaluateTab(rag)
        chat.wire(demo)
        documents.wire(demo, documents_tab, tabs, chat.scope)
        evaluate.wire(demo)
        add_client_api(rag)
    return demo


def mount(app: FastAPI, rag: Rag) -> None:
    """With RAG_API_KEY set, the UI asks for it too (any user name, the key as password)."""
    key = rag.settings.api_key
    auth = (lambda _user, password: hmac.compare_digest(password.encode(), key.encode())) if key else None
    gr.mount_gradio_app(app, build(rag), path="/", css=CSS, head=HEAD, auth=auth, footer_links=["api"],
                        i18n=gr.I18n(en=MISSING_STRINGS), theme=THEME)


# The system's own typefaces, every weight complete: the default theme's Source Sans Pro SemiBold file
# holds 55 glyphs, so bold labels ("Ask", document titles) fell back letter by letter to another font.
THEME = gr.themes.Default(
    font=["system-ui", "-apple-system", "'Segoe UI'", "Roboto", "'Noto Sans'", "'DejaVu Sans'", "'Helvetica Neue'",
          "Arial", "sans-serif"],
    font_mono=["ui-monospace", "'SFMono-Regular'", "Menlo", "Consolas", "'DejaVu Sans Mono'", "monospace"])
