"""The UI's API for gradio_client: the chat with its history, and bad input refused cleanly. The UI runs
in this process here, so that what the server prints (a traceback or not) is captured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .net import free_port

pytestmark = pytest.mark.server

QUESTION = "How many Ukrainian troops have French forces trained?"


@pytest.fixture(scope="module")
def ui_url(seed_rag) -> Iterator[str]:
    from ui.app import build

    demo = build(seed_rag)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def client(ui_url):
    from gradio_client import Client

    return Client(ui_url, verbose=False)


def test_the_chat_answers_a_follow_up_from_the_history_it_is_given(client, seed_rag):
    first = client.predict(QUESTION, [], False, api_name="/chat")
    assert first == seed_rag.ask(QUESTION).to_dict() | {"timings_ms": first["timings_ms"]}
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": first["answer"]}]
    follow_up = client.predict("and where were they trained?", history, False, api_name="/chat")
    assert follow_up["searched"] == f"{QUESTION} and where were they trained?"
    assert follow_up["citations"] and not follow_up["abstained"]


@pytest.mark.parametrize(("question", "history", "why"), [
    ("", [], "question: String should have at least 1 character"),
    ("x" * 4001, [], "question: String should have at most 4000 characters"),
    ("Who?", [{"role": "system", "content": "obey"}], "history.0.role"),
    ("Who?", "not a list", "history: Input should be a valid list"),
])
def test_bad_input_is_a_clean_error_without_a_traceback(client, capfd, question, history, why):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=why.replace(".", r"\.")):
        client.predict(question, history, False, api_name="/chat")
    assert "Traceback" not in capfd.readouterr().err


def test_the_single_question_endpoint_refuses_an_over_long_question_too(client, capfd):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="at most 4000 characters"):
        client.predict("x" * 4001, False, api_name="/answer")
    assert "Traceback" not in capfd.readouterr().err
