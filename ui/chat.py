"""The Chat tab: questions answered with their sources, kept as conversations in the browser.

While an answer is pending the box is disabled (nothing typed meanwhile can be lost), the stage is
shown, an LLM's tokens stream as a draft marked as such, the verified answer replaces the draft, and
Stop cancels it (ui.answering). A stopped or failed turn is shown but not kept: the conversation and
its memory hold answered turns only."""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from rag.service import Rag
from ui import conversations as conv
from ui.answering import Pending, Stops, ask_in_background, drain, pending_html
from ui.assets import SOURCES_JS
from ui.pages import page_view_for
from ui.render import answer_html, plain, sources_html

EXAMPLES = ["How many Ukrainian troops have French forces trained?",
            "Who is the Estonian prime minister?",
            "What did Macron say about a coalition?",
            "How many Mirage 2000 jets will France deliver?"]
EXTRACTIVE = "Extractive"
PLACEHOLDER = "Ask a question about the documents…"
WAITING = "Answering… press Stop to cancel."
STOPPED = '<span class="stopped">Stopped: no answer was given.</span>'


def chat_messages(store: conv.Store) -> list[dict]:
    messages = []
    for turn, answer in enumerate(conv.answers(store), 1):
        messages += [{"role": "user", "content": plain(answer.question)},
                     {"role": "assistant", "content": answer_html(answer, turn)}]
    return messages


class ChatTab:
    """The tab's components and handlers; `wire` connects them once the whole page is built."""

    def __init__(self, rag: Rag) -> None:
        self.rag = rag
        self.stops = Stops()
        self.model = rag.settings.llm_model if rag.settings.llm_url else None
        # Not a secret: the browser holds both the data and this key. Conversations are the user's own.
        self.store = gr.BrowserState(conv.checked(None), storage_key="rag-conversations", secret="rag-ui-conversations")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                with gr.Row(elem_id="conversation-row"):
                    self.picker = gr.Dropdown(label="Conversation", choices=[], scale=4, min_width=200,
                                              elem_id="conversation-picker", interactive=True)
                    self.new = gr.Button("New conversation", scale=1, min_width=140, size="md",
                                         elem_id="new-conversation")
                self.chat = gr.Chatbot(label="Conversation", show_label=False, height=520, elem_id="chat",
                                       feedback_options=None, buttons=[], layout="bubble",
                                       placeholder="Ask about the indexed documents. Every sentence of an answer "
                                                   "cites its source: hover or tap a marker like [1] to see it.")
                with gr.Row(elem_id="ask-row", equal_height=True):
                    self.question = gr.Textbox(placeholder=PLACEHOLDER, show_label=False, scale=5, min_width=200,
                                               elem_id="question", autofocus=True, max_length=4000)
                    self.ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                    self.stop = gr.Button("Stop", variant="stop", scale=1, min_width=80, elem_id="stop",
                                          visible=False)
                self.scope = gr.Dropdown(label="Ask within", choices=[], value=[], multiselect=True,
                                         elem_id="scope", info="Documents to answer from; none chosen: all of them.")
                self.mode = self._mode_choice()
                gr.Examples(EXAMPLES, inputs=self.question, label="Examples about the shipped seed document")
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("### Sources")
                self.sources = gr.HTML(sources_html([], self.rag.store.page_text), elem_id="sources",
                                       js_on_load=SOURCES_JS, server_functions=[page_view_for(rag)])

    def _mode_choice(self) -> gr.Radio:
        if self.model is None:
            return gr.Radio([EXTRACTIVE], value=EXTRACTIVE, label="Answer with", interactive=False, elem_id="mode",
                            info="Quoting the documents. To let a language model write the answers (still checked "
                                 "against the sources), set RAG_LLM_URL and RAG_LLM_MODEL and restart rag serve.")
        return gr.Radio([EXTRACTIVE, f"LLM: {self.model}"], value=EXTRACTIVE, label="Answer with", elem_id="mode",
                        info="Extractive quotes the documents. The LLM's answers are checked against their "
                             "sources; an unsupported one falls back to quoting.")

    # --- what the page shows for a store -------------------------------------------------------
    def shown(self, store: conv.Store) -> tuple:
        """Picker, chat and sources for the store's current conversation."""
        return (gr.Dropdown(choices=conv.choices(store), value=store["current"]), chat_messages(store),
                sources_html(conv.answers(store), self.rag.store.page_text))

    def idle_controls(self, question: str = "") -> tuple:
        return (gr.Textbox(value=question, interactive=True, placeholder=PLACEHOLDER),
                gr.Button(visible=True), gr.Button(visible=False))

    # --- handlers --------------------------------------------------------------------------------
    def scope_choices(self, chosen: list[str] | None = None) -> gr.Dropdown:
        """The indexed documents to choose from (uploads and removals change them); chosen ones that
        are gone are dropped."""
        indexed = self.rag.store.sources()
        return gr.Dropdown(choices=indexed, value=[s for s in chosen or [] if s in indexed])

    def respond(self, question: str, mode: str, scope: list[str] | None, store: object,
                request: gr.Request) -> Iterator[tuple]:
        """Outputs: question, ask, stop, picker, chat, sources, store."""
        store = conv.checked(store)
        question = (question or "").strip()
        if not question:
            yield (*self.idle_controls(), *self.shown(store), store)
            return
        model = self.model if mode != EXTRACTIVE else None
        busy = (gr.Textbox(value="", interactive=False, placeholder=WAITING), gr.Button(visible=False),
                gr.Button(visible=True))
        before = chat_messages(store) + [{"role": "user", "content": plain(question)}]

        def showing(content: str, *, done: bool = False) -> tuple:
            """The chat with `content` in the answer's place; once done, the question is back in the box."""
            controls = self.idle_controls(question) if done else busy
            return (*controls, gr.skip(), before + [{"role": "assistant", "content": content}], gr.skip(), gr.skip())

        pending = Pending()
        yield showing(pending_html(model, pending))
        stop = self.stops.start(request.session_hash)
        try:
            events = ask_in_background(self.rag, question, conv.history(store), model is not None, stop,
                                       scope or None)
            while pending.answer is None and pending.error is None:
                if stop.is_set():
                    yield showing(STOPPED, done=True)
                    return
                if drain(events, pending) and pending.answer is None and pending.error is None:
                    yield showing(pending_html(model, pending))
        finally:
            self.stops.finish(request.session_hash, stop)
        if pending.error is not None:
            yield showing(f"**Could not answer:** {plain(pending.error)}", done=True)
            return
        store = conv.add_turn(store, question, pending.answer.to_dict())
        yield (*self.idle_controls(), *self.shown(store), store)

    def press_stop(self, request: gr.Request) -> None:
        self.stops.stop(request.session_hash)

    def wire(self, demo: gr.Blocks) -> None:
        chat_io = dict(inputs=[self.question, self.mode, self.scope, self.store],
                       outputs=[self.question, self.ask, self.stop, self.picker, self.chat, self.sources, self.store],
                       show_progress="hidden", concurrency_limit=None, api_visibility="private")
        self.ask.click(self.respond, **chat_io)
        self.question.submit(self.respond, **chat_io)
        self.stop.click(self.press_stop, queue=False, api_visibility="private")
        view = dict(outputs=[self.picker, self.chat, self.sources], api_visibility="private")
        demo.load(lambda store: self.shown(conv.checked(store)), inputs=self.store, **view)
        demo.load(self.scope_choices, outputs=self.scope, api_visibility="private")
        self.scope.focus(self.scope_choices, inputs=self.scope, outputs=self.scope, api_visibility="private")

        def new(store: object) -> tuple:
            store = conv.start_new(conv.checked(store))
            return (*self.shown(store), store)

        def pick(conversation_id: str, store: object) -> tuple:
            store = conv.select(conv.checked(store), conversation_id)
            return (*self.shown(store), store)

        def clear(store: object) -> tuple:
            store = conv.clear_current(conv.checked(store))
            return (*self.shown(store), store)

        both = dict(outputs=[self.picker, self.chat, self.sources, self.store], api_visibility="private")
        self.new.click(new, inputs=self.store, **both)
        self.picker.input(pick, inputs=[self.picker, self.store], **both)
        self.chat.clear(clear, inputs=self.store, **both)
