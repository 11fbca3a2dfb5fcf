"""The conversations a browser keeps (in its local storage, through gr.BrowserState), so that they
survive a reload. Each turn keeps the question and its whole answer JSON: the chat, the Sources panel
and the memory for follow-ups are all rebuilt from it, so they can never disagree.

The stored value comes back from the browser, so it is checked on every use: anything that isn't a
well-formed conversation is dropped, never shown half-right."""

from __future__ import annotations

import uuid

from rag.types import Answer
from ui.render import answer_from_dict

MAX_CONVERSATIONS = 20
MAX_TURNS = 50  # the API's history limit, in turns of two messages
TITLE_CHARS = 60

Store = dict  # {"current": id, "conversations": [{"id", "title", "turns": [{"question", "answer"}]}]}, newest first


def _conversation(title: str = "New conversation") -> dict:
    return {"id": uuid.uuid4().hex[:12], "title": title, "turns": []}


def checked(store: object) -> Store:
    """The stored value as a well-formed store, with a current conversation."""
    conversations = []
    for c in (store.get("conversations") if isinstance(store, dict) else None) or []:
        try:
            turns = [_turn(t) for t in c["turns"]][-MAX_TURNS:]
            conversations.append({"id": str(c["id"]), "title": str(c["title"]), "turns": turns})
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    conversations = conversations[:MAX_CONVERSATIONS] or [_conversation()]
    ids = [c["id"] for c in conversations]
    current = store.get("current") if isinstance(store, dict) else None
    return {"current": current if current in ids else ids[0], "conversations": conversations}


def _turn(turn: dict) -> dict:
    answer_from_dict(turn["answer"])  # raises for anything that isn't an answer
    return {"question": str(turn["question"]), "answer": turn["answer"]}


def current(store: Store) -> dict:
    return next(c for c in store["conversations"] if c["id"] == store["current"])


def answers(store: Store) -> list[Answer]:
    return [answer_from_dict(t["answer"]) for t in current(store)["turns"]]


def history(store: Store) -> list[dict]:
    """The current conversation as the plain-text turns that follow-up questions are read against."""
    turns = []
    for t in current(store)["turns"]:
        turns += [{"role": "user", "content": t["question"]}, {"role": "assistant", "content": t["answer"]["answer"]}]
    return turns


def start_new(store: Store) -> Store:
    """A new, empty conversation becomes current (an empty current one is reused, not piled up)."""
    if not current(store)["turns"]:
        return store
    fresh = _conversation()
    return {"current": fresh["id"], "conversations": [fresh, *store["conversations"]][:MAX_CONVERSATIONS]}


def select(store: Store, conversation_id: str | None) -> Store:
    ids = {c["id"] for c in store["conversations"]}
    return {**store, "current": conversation_id} if conversation_id in ids else store


def add_turn(store: Store, question: str, answer: dict) -> Store:
    """The answered turn appended to the current conversation, which moves to the top of the list;
    its first question names it."""
    conversation = current(store)
    turns = [*conversation["turns"], {"question": question, "answer": answer}][-MAX_TURNS:]
    title = conversation["title"] if conversation["turns"] else " ".join(question.split())[:TITLE_CHARS]
    updated = {**conversation, "title": title, "turns": turns}
    others = [c for c in store["conversations"] if c["id"] != conversation["id"]]
    return {"current": updated["id"], "conversations": [updated, *others]}


def clear_current(store: Store) -> Store:
    """The current conversation emptied: its messages, its sources and its memory go together."""
    emptied = {**current(store), "title": "New conversation", "turns": []}
    return {**store, "conversations": [emptied if c["id"] == emptied["id"] else c for c in store["conversations"]]}


def choices(store: Store) -> list[tuple[str, str]]:
    """(title, id) per conversation, newest first, for the conversation picker."""
    return [(c["title"], c["id"]) for c in store["conversations"]]
