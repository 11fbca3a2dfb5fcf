"""The UI's endpoints for gradio_client: `/chat` (a question in a conversation) and `/answer` (a single
question), both returning the answer JSON exactly as POST /v1/ask does.

Their input is checked by the REST API's own request model, so the limits are the same on every face
(the 4,000-character question, 50 turns of history); a bad input or a refusal of the core is a
gr.Error with the reason, printed to no log: it is the caller's mistake, not the server's."""

from __future__ import annotations

import gradio as gr
from pydantic import ValidationError

from rag.errors import RagError
from rag.schemas import AskRequest
from rag.service import Rag


def bad_input(e: ValidationError) -> gr.Error:
    first = e.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return gr.Error(f"{where}: {first['msg']}", print_exception=False)


def answer_json(rag: Rag, question: object, history: object, llm: object) -> dict:
    try:
        request = AskRequest.model_validate({"question": question, "history": history or [], "llm": llm})
    except ValidationError as e:
        raise bad_input(e) from None
    try:
        return rag.ask(request.question, [t.model_dump() for t in request.history], use_llm=request.llm).to_dict()
    except (RagError, ValueError) as e:
        raise gr.Error(str(e), print_exception=False) from None


def add_client_api(rag: Rag) -> None:
    """Registers the endpoints on the Blocks being built."""

    def chat(question: str, history: list[dict] | None = None, llm: bool = False) -> dict:
        """Answer `question` in a conversation. `history`: the earlier turns, oldest first, as
        [{"role": "user" or "assistant", "content": str}]; follow-ups like "and its capital?" are read
        against them. Returns the answer JSON (`searched` says what was looked up)."""
        return answer_json(rag, question, history, llm)

    def answer(question: str, llm: bool = False) -> dict:
        """The answer JSON for one question, exactly as POST /v1/ask returns it."""
        return answer_json(rag, question, [], llm)

    gr.api(chat, api_name="chat", concurrency_limit=None)
    gr.api(answer, api_name="answer", concurrency_limit=None)
