"""The HTTP API of a real `rag serve` process: REST, server-sent events, the OpenAI-compatible
endpoint through the official clients, documents, errors and auth."""

from __future__ import annotations

import json
import re
import subprocess

import httpx
import pytest

from .conftest import SEEDS, seed_index
from .rag_server import RAG, rag_server

pytestmark = pytest.mark.server

QUESTION = "How many Ukrainian troops have French forces trained?"


def seed_text(source: str) -> str:
    return (SEEDS / source).read_text(encoding="utf-8")


def assert_valid_citations(answer: dict) -> None:
    """Every [n] resolves, every citation is used and is the exact slice of its source."""
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
    assert used == {c["n"] for c in answer["citations"]}
    for c in answer["citations"]:
        assert seed_text(c["source"])[c["start"]:c["end"]] == c["text"]


def events(body: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a text/event-stream body."""
    parsed = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        parsed.append((fields.get("event", "message"), json.loads(fields["data"])))
    return parsed


@pytest.fixture
def api(served) -> httpx.Client:
    with httpx.Client(base_url=served, timeout=60) as client:
        yield client


def test_health_says_what_is_indexed(api):
    assert api.get("/health").json() == {"status": "ok", "documents": 1, "chunks": 9, "llm": None}


def test_ask_returns_the_answer_contract_with_verbatim_citations(api):
    answer = api.post("/v1/ask", json={"question": QUESTION}).json()
    assert set(answer) >= {"question", "answer", "citations", "abstained", "answerer", "timings_ms"}
    assert "10,000" in answer["answer"] and answer["answerer"] == "extractive"
    assert_valid_citations(answer)


def test_ask_streamed_sends_text_deltas_then_the_answer_then_done(api):
    response = api.post("/v1/ask", json={"question": QUESTION, "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    stream = events(response.text)
    kinds = [kind for kind, _ in stream]
    assert kinds[-2:] == ["answer", "done"] and set(kinds[:-2]) == {"delta"}
    final = stream[-2][1]
    assert "".join(data["text"] for _, data in stream[:-2]) == final["answer"]
    assert final == {**api.post("/v1/ask", json={"question": QUESTION}).json(), "timings_ms": final["timings_ms"]}


def test_a_follow_up_uses_the_history(api):
    history = [{"role": "user", "content": "What did Macron announce about Mirage jets?"},
               {"role": "assistant", "content": "France will send Mirage 2000 fighter jets to Kiev. [1]"}]
    answer = api.post("/v1/ask", json={"question": "and when will the pilots be ready?", "history": history}).json()
    assert "end of this year" in answer["answer"]
    assert answer["searched"] != answer["question"]


def test_an_unanswerable_question_is_an_abstention_not_an_error(api):
    answer = api.post("/v1/ask", json={"question": "What is the boiling point of liquid nitrogen?"}).json()
    assert answer["abstained"] and answer["citations"] == []


def test_search_returns_ranked_verbatim_hits(api):
    found = api.post("/v1/search", json={"question": "Who is the Estonian prime minister?", "k": 3}).json()
    assert [h["rank"] for h in found["hits"]] == [1, 2, 3]
    top = found["hits"][0]
    assert "Kaja Kallas" in top["text"] and seed_text(top["source"])[top["start"]:top["end"]] == top["text"]


@pytest.mark.parametrize(("body", "status", "reason"), [
    (b'{"question": "unclosed', 422, "JSON"),
    (b'{}', 422, "question"),
    (b'{"question": "   "}', 422, "question"),
    (b'{"question": "ok", "k": 0}', 422, "k"),
    (b'{"question": "ok", "colour": "red"}', 422, "colour"),
    (b'{"question": "ok", "llm": true}', 400, "no LLM is configured"),
])
def test_bad_ask_requests_get_a_4xx_with_the_reason(api, body, status, reason):
    response = api.post("/v1/ask", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert reason in response.text


def test_documents_can_be_uploaded_listed_asked_about_and_removed(api):
    note = b"The lighthouse on Skerry Point was automated in 1987 after ninety years of keepers."
    added = api.post("/v1/documents", files=[("files", ("lighthouse.txt", note, "text/plain"))])
    assert added.status_code == 200 and added.json()["files"] == 1
    listed = {d["source"]: d for d in api.get("/v1/documents").json()["documents"]}
    assert listed["lighthouse.txt"]["uploaded"] and not listed["000_aea647b47e874b1a.txt"]["uploaded"]
    answer = api.post("/v1/ask", json={"question": "When was the Skerry Point lighthouse automated?"}).json()
    assert "1987" in answer["answer"] and answer["citations"][0]["source"] == "lighthouse.txt"
    assert api.delete("/v1/documents/lighthouse.txt").json()["chunks"] == 1
    assert "lighthouse.txt" not in {d["source"] for d in api.get("/v1/documents").json()["documents"]}
    again = api.post("/v1/ask", json={"question": "When was the Skerry Point lighthouse automated?"}).json()
    assert all(c["source"] != "lighthouse.txt" for c in again["citations"])


def test_an_upload_that_cannot_be_read_is_422_and_is_not_kept(api):
    response = api.post("/v1/documents", files=[("files", ("broken.pdf", b"%PDF-1.4 garbage", "application/pdf"))])
    assert response.status_code == 422
    assert response.json()["failures"][0]["file"] == "broken.pdf"
    assert "broken.pdf" not in {d["source"] for d in api.get("/v1/documents").json()["documents"]}


@pytest.mark.parametrize("name", ["program.exe", ".hidden.txt"])
def test_an_upload_with_an_unusable_name_is_400(api, name):
    response = api.post("/v1/documents", files=[("files", (name, b"text", "text/plain"))])
    assert response.status_code == 400 and name in response.json()["detail"]


def test_removing_an_unknown_document_is_404(api):
    response = api.delete("/v1/documents/no-such-file.txt")
    assert response.status_code == 404 and "no-such-file.txt" in response.json()["detail"]


def test_openapi_docs_describe_the_routes(api):
    assert api.get("/docs").status_code == 200
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/v1/ask", "/v1/search", "/v1/documents", "/v1/chat/completions", "/v1/models", "/health"} <= set(paths)


# --- OpenAI-compatible ---------------------------------------------------------------------

def test_the_openai_client_gets_the_cited_answer_and_the_citations_field(served):
    from openai import OpenAI

    client = OpenAI(base_url=f"{served}/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["rag"]
    reply = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    assert "10,000" in reply.choices[0].message.content
    answer = {"answer": reply.choices[0].message.content, "citations": reply.model_extra["citations"]}
    assert_valid_citations(answer)


def test_the_openai_client_streams_and_the_last_chunk_carries_the_citations(served):
    from openai import OpenAI

    client = OpenAI(base_url=f"{served}/v1", api_key="unused")
    chunks = list(client.chat.completions.create(model="rag", stream=True,
                                                  messages=[{"role": "user", "content": QUESTION}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert_valid_citations({"answer": text, "citations": chunks[-1].model_extra["citations"]})


def test_langchain_chat_openai_works_unchanged(served):
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(base_url=f"{served}/v1", api_key="unused", model="rag")
    assert "10,000" in model.invoke(QUESTION).content
    assert "10,000" in "".join(chunk.content for chunk in model.stream(QUESTION))


def test_an_unknown_model_is_an_openai_style_404(api):
    response = api.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"


def test_chat_without_a_final_user_message_is_400(api):
    response = api.post("/v1/chat/completions", json={"model": "rag", "messages": [{"role": "system", "content": "x"}]})
    assert response.status_code == 400 and "user message" in response.json()["error"]["message"]


# --- auth ----------------------------------------------------------------------------------

def test_with_an_api_key_every_api_route_needs_it(tmp_path, embedder):
    with rag_server(seed_index(tmp_path / "index", embedder), RAG_API_KEY="s3cret") as url, httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/health").status_code == 200  # liveness stays open, and names no document
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            assert client.post("/v1/ask", json={"question": QUESTION}, headers=headers).status_code == 401
            assert client.get("/v1/documents", headers=headers).status_code == 401
            assert client.get("/v1/models", headers=headers).status_code == 401
        good = {"Authorization": "Bearer s3cret"}
        assert client.post("/v1/ask", json={"question": QUESTION}, headers=good).status_code == 200
        assert client.get("/v1/models", headers=good).status_code == 200


# --- every face ----------------------------------------------------------------------------

def test_every_face_gives_the_same_citations_for_the_same_question(served, tmp_path, embedder):
    """The CLI reads its own build of the same seed folder (chunk ids are content-derived), since
    two processes never share an index folder."""
    from gradio_client import Client
    from openai import OpenAI

    cli_index = seed_index(tmp_path / "index", embedder)
    cli = subprocess.run([RAG, "ask", QUESTION, "--json", "--index", str(cli_index)],
                         capture_output=True, text=True, timeout=300, check=True)
    faces = {
        "cli": json.loads(cli.stdout)["citations"],
        "rest": httpx.post(f"{served}/v1/ask", json={"question": QUESTION}, timeout=60).json()["citations"],
        "openai": OpenAI(base_url=f"{served}/v1", api_key="unused").chat.completions.create(
            model="rag", messages=[{"role": "user", "content": QUESTION}]).model_extra["citations"],
        "ui": Client(served, verbose=False).predict(QUESTION, False, api_name="/answer")["citations"],
    }
    assert faces["cli"], "the answer has citations"
    assert all(citations == faces["cli"] for citations in faces.values()), faces
