"""The HTTP API of a real `rag serve` process: REST, server-sent events, the OpenAI-compatible
endpoint's shapes and errors (its clients are in test_openai_clients.py), documents, the OpenAPI
description, and auth."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess

import httpx
import pytest

from rag.types import Answer, Chunk, Citation, Hit

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
    history = [{"role": "user", "content": "Which fighter jets will France send to Kiev?"},
               {"role": "assistant", "content": "France will send Mirage 2000 fighter jets to Kiev. [1]"}]
    answer = api.post("/v1/ask", json={"question": "and when was that announced?", "history": history}).json()
    assert "Thursday" in answer["answer"]
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


def test_listed_documents_carry_their_cards_title_names_and_dates(api):
    report = b"Harbour Survey 2021\n\nThe survey of Skerry Point harbour was completed on 14 March 2021."
    api.post("/v1/documents", files=[("files", ("survey.md", report, "text/markdown"))])
    listed = {d["source"]: d for d in api.get("/v1/documents").json()["documents"]}["survey.md"]
    assert listed["title"] == "Harbour Survey 2021" and listed["date"] == "2021-03-14"
    assert listed["dates"] == ["2021-03-14"] and isinstance(listed["names"], list)
    api.delete("/v1/documents/survey.md")


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
    assert api.get("/docs").status_code == 200 and api.get("/redoc").status_code == 200
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/v1/ask", "/v1/search", "/v1/documents", "/v1/chat/completions", "/v1/models", "/v1/models/{model_id}",
            "/health"} <= set(paths)


def response_schema(spec: dict, path: str, method: str, status: str, media: str = "application/json") -> str:
    return spec["paths"][path][method]["responses"][status]["content"][media]["schema"]["$ref"].rsplit("/", 1)[-1]


@pytest.mark.parametrize(("path", "method", "model", "errors"), [
    ("/v1/ask", "post", "Answer", {"400", "401", "409", "413", "422"}),
    ("/v1/search", "post", "SearchResult", {"400", "401", "409", "413", "422"}),
    ("/v1/documents", "get", "Documents", {"401"}),
    ("/v1/documents", "post", "UploadReport", {"400", "401", "413", "422", "503"}),
    ("/v1/documents/{source}", "delete", "Removed", {"401", "404", "422", "503"}),
    ("/health", "get", "Health", set()),
    ("/v1/chat/completions", "post", "ChatCompletion", {"400", "401", "404", "409", "413", "422"}),
    ("/v1/models", "get", "ModelList", {"401"}),
    ("/v1/models/{model_id}", "get", "Model", {"401", "404", "422"}),
])
def test_openapi_documents_every_response_model_and_error_status(api, path, method, model, errors):
    spec = api.get("/openapi.json").json()
    assert response_schema(spec, path, method, "200") == model
    assert set(spec["paths"][path][method]["responses"]) - {"200"} == errors


def test_openapi_documents_the_event_streams(api):
    spec = api.get("/openapi.json").json()
    assert "event: answer" in spec["paths"]["/v1/ask"]["post"]["responses"]["200"]["content"]["text/event-stream"][
        "example"]
    assert response_schema(spec, "/v1/chat/completions", "post", "200", "text/event-stream") == "ChatCompletionChunk"
    assert {"citations", "usage"} <= set(spec["components"]["schemas"]["ChatCompletionChunk"]["properties"])


@pytest.mark.parametrize(("documented", "actual"), [
    ("Answer", lambda: {f.name for f in dataclasses.fields(Answer)}),
    ("Citation", lambda: {f.name for f in dataclasses.fields(Citation)}),
    ("Hit", lambda: set(Hit(1, 0.5, Chunk("id", "a.txt", None, 0, 1, "x")).to_dict())),
])
def test_the_documented_models_name_every_field_the_faces_send(documented, actual):
    from rag import schemas

    assert set(getattr(schemas, documented).model_fields) == actual()


# --- OpenAI-compatible ---------------------------------------------------------------------

def chat(api: httpx.Client, **body) -> httpx.Response:
    return api.post("/v1/chat/completions", json={"model": "rag", "messages": [{"role": "user", "content": QUESTION}],
                                                  **body})


def test_chat_content_is_the_answer_then_the_sources_block(api):
    reply = chat(api).json()
    answer = api.post("/v1/ask", json={"question": QUESTION}).json()
    block = "\n".join(f'[{c["n"]}] {c["source"]}: "{" ".join(c["text"].split())}"' for c in answer["citations"])
    assert reply["choices"][0]["message"]["content"] == f"{answer['answer']}\n\n{block}"
    assert reply["citations"] == answer["citations"] and reply["abstained"] is False


def test_rag_sources_false_leaves_the_content_bare(api):
    reply = chat(api, rag_sources=False).json()
    assert reply["choices"][0]["message"]["content"] == api.post("/v1/ask", json={"question": QUESTION}).json()["answer"]
    assert reply["citations"]


def test_streamed_chat_sends_the_sources_block_as_content_before_the_finish_chunk(api):
    lines = [line.removeprefix("data: ") for line in chat(api, stream=True).text.split("\n\n") if line]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    finish = chunks[-1]
    assert finish["choices"][0]["finish_reason"] == "stop" and finish["citations"] and finish["usage"]["total_tokens"]
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert content == chat(api).json()["choices"][0]["message"]["content"]
    assert chunks[-2]["choices"][0]["delta"]["content"].startswith("\n\n[1] ")


def test_include_usage_ends_the_stream_with_an_openai_usage_chunk(api):
    lines = [line.removeprefix("data: ") for line in chat(api, stream=True, stream_options={"include_usage": True})
             .text.split("\n\n") if line]
    chunks = [json.loads(line) for line in lines[:-1]]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == chat(api).json()["usage"]
    assert all(c["usage"] is None for c in chunks[:-1])


def test_an_answer_sent_back_as_history_is_read_without_its_sources():
    from rag.api.openai_compat import without_sources

    content = 'France will send Mirage jets. [1]\n\n[1] a.txt: "France will send Mirage jets."\n[2] b.pdf, page 3: "x"'
    assert without_sources(content) == "France will send Mirage jets. [1]"
    assert without_sources("A list:\n\n[1] is not a source block here") == "A list:\n\n[1] is not a source block here"


def test_models_can_be_listed_and_fetched_by_id(api):
    assert [m["id"] for m in api.get("/v1/models").json()["data"]] == ["rag"]
    assert api.get("/v1/models/rag").json() == {"id": "rag", "object": "model", "created": 0, "owned_by": "rag"}


@pytest.mark.parametrize(("body", "status", "code", "param"), [
    (b'{"model": "rag", "messages": [', 422, "json_invalid", None),
    (b'{"model": "rag"}', 422, "missing", "messages"),
    (json.dumps({"messages": [{"role": "user", "content": "x" * 4001}]}).encode(), 422, "string_too_long", "messages"),
    (json.dumps({"messages": [{"role": "user", "content": "x" * 20001}, {"role": "user", "content": "ok?"}]}).encode(),
     422, "string_too_long", "messages.0.content"),
    (json.dumps({"messages": [{"role": "user", "content": "hi"}] * 52}).encode(), 422, "too_long", "messages"),
    (json.dumps({"messages": [{"role": "user", "content": "x" * 1_100_000}]}).encode(), 413, "request_too_large", None),
    (json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(), 404,
     "model_not_found", "model"),
])
def test_every_openai_route_error_is_an_openai_error_object(api, body, status, code, param):
    response = api.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["param"], error["type"]) == (code, param, "invalid_request_error")
    assert error["message"]


def test_a_wrong_method_or_an_unknown_model_id_is_an_openai_error_object(api):
    assert api.get("/v1/chat/completions").json()["error"]["code"] == "method_not_allowed"
    assert api.get("/v1/models/gpt-4o").json()["error"]["code"] == "model_not_found"


def test_an_over_long_rest_body_is_a_json_413(api):
    response = api.post("/v1/ask", json={"question": "x" * 1_100_000})
    assert response.status_code == 413 and "RAG_MAX_REQUEST_MB" in response.json()["detail"]


def test_a_server_set_without_sources_sends_bare_content(tmp_path, embedder):
    with rag_server(seed_index(tmp_path / "index", embedder), RAG_OPENAI_SOURCES="false") as url, \
            httpx.Client(base_url=url, timeout=60) as client:
        content = chat(client).json()["choices"][0]["message"]["content"]
        assert "\n\n[1] " not in content and "10,000" in content
        assert "\n\n[1] " in chat(client, rag_sources=True).json()["choices"][0]["message"]["content"]


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
            assert client.get("/openapi.json", headers=headers).status_code == 401
            assert client.post("/mcp", json={}, headers=headers).status_code == 401
            refused = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]},
                                  headers=headers)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
        good = {"Authorization": "Bearer s3cret"}
        assert client.post("/v1/ask", json={"question": QUESTION}, headers=good).status_code == 200
        assert client.get("/v1/models", headers=good).status_code == 200
        assert client.get("/docs-assets/swagger-ui.css").status_code == 200  # the docs' library code stays open


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
    short = json.loads(cli.stdout)["short_answer"]
    assert "10,000" in short["text"]
    assert httpx.post(f"{served}/v1/ask", json={"question": QUESTION}, timeout=60).json()["short_answer"] == short
