"""Answering in the background, for the chat: the LLM's draft as it streams, the stage reached, and
Stop. Stop ends the wait at once and cancels the LLM call: the next token the model sends raises in
the token callback, which closes the stream, so the LLM server stops generating too."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

from rag.errors import IndexNotFoundError, RagError
from rag.service import Rag
from rag.types import Answer
from ui.render import block_text

log = logging.getLogger(__name__)
POLL_SECONDS = 0.1  # how often a pending answer looks at the Stop flag


class Stopped(Exception):
    """Raised in the LLM's token callback once Stop was pressed. Not one of the errors the answer
    pipeline turns into a fallback answer, so it ends the whole `ask`."""


class Stops:
    """The Stop flag of the answer pending in each browser session."""

    def __init__(self) -> None:
        self._flags: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, session: str) -> threading.Event:
        with self._lock:
            flag = self._flags[session] = threading.Event()
        return flag

    def stop(self, session: str) -> None:
        with self._lock:
            flag = self._flags.get(session)
        if flag is not None:
            flag.set()

    def finish(self, session: str, flag: threading.Event) -> None:
        flag.set()  # a worker still running (a browser that went away) stops at its next token
        with self._lock:
            if self._flags.get(session) is flag:
                del self._flags[session]


@dataclass
class Pending:
    """What the worker thread reports: the draft so far, then the answer or the failure."""

    draft: str = ""
    drafting_done: bool = False
    answer: Answer | None = None
    error: str | None = None


def ask_in_background(rag: Rag, question: str, history: list[dict], use_llm: bool,
                      stop: threading.Event, sources: list[str] | None = None) -> queue.Queue:
    """Runs `rag.ask` in a thread (within `sources`, when given). The queue receives ("token", text)
    for each piece of the LLM's draft, then ("answer", Answer) or ("error", message); nothing once
    stopped."""
    events: queue.Queue = queue.Queue()

    def on_token(text: str) -> None:
        if stop.is_set():
            raise Stopped
        events.put(("token", text))

    def work() -> None:
        try:
            events.put(("answer", rag.ask(question, history, use_llm=use_llm, on_token=on_token, sources=sources)))
        except Stopped:
            pass  # the tab already says so
        except IndexNotFoundError:
            events.put(("error", "nothing is indexed yet: add documents in the Documents tab"))
        except (RagError, ValueError) as e:  # what a user can act on: said in words
            events.put(("error", str(e)))
        except Exception:  # anything else: the trace goes to the log, the reader gets a sentence
            log.exception("answering %r failed", question)
            events.put(("error", "something went wrong while answering; the server log has the details"))

    threading.Thread(target=work, name="rag-ui-answer", daemon=True).start()
    return events


def pending_html(model: str | None, pending: Pending) -> str:
    """The answer's place while it is being made: the stage, and an LLM's draft marked as one."""
    if pending.drafting_done:
        stage = "Checking the citations against the documents…"
    elif pending.draft:
        stage = f"Writing with {block_text(model or 'the language model')}…"
    else:
        stage = "Searching the documents…" if model is None else f"Searching, then asking {block_text(model)}…"
    text = f'<div class="stage" role="status">{stage}</div>'
    if pending.draft:
        text += (f'\n\n<div class="draft"><span class="draft-label">Draft, not yet checked against the sources'
                 f'</span> {block_text(pending.draft)}</div>')
    return text


def drain(events: queue.Queue, pending: Pending) -> bool:
    """Everything the worker reported since the last look, into `pending`; False if nothing came
    within POLL_SECONDS (the caller then looks at the Stop flag again)."""
    try:
        item = events.get(timeout=POLL_SECONDS)
    except queue.Empty:
        return False
    while True:
        kind, value = item
        if kind == "token":
            pending.drafting_done = pending.drafting_done or (not value and bool(pending.draft))
            pending.draft += value
        elif kind == "answer":
            pending.answer = value
        elif kind == "error":
            pending.error = value
        try:
            item = events.get_nowait()
        except queue.Empty:
            return True

