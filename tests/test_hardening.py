"""A real `rag serve` under hostile requests: schemathesis-generated requests against its own
OpenAPI schema, upload names that try to escape the uploads folder, oversized bodies, and a key on
every route. (That a <script> inside a document doesn't run in the chat is a browser test in
test_ui.py.)"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import seed_index
from .rag_server import rag_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def target(tmp_path_factory, embedder):
    """A server of its own: generated requests upload and delete documents."""
    folder = tmp_path_factory.mktemp("hardened")
    with rag_server(seed_index(folder / "index", embedder), RAG_UPLOAD_DIR=str(folder / "uploads")) as url:
        yield url, folder


OPERATIONS = ["GET /health", "POST /v1/ask", "POST /v1/search", "GET /v1/documents", "POST /v1/documents",
              "DELETE /v1/documents/{source}", "GET /v1/models", "POST /v1/chat/completions"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_no_generated_request_makes_the_server_fail(target, operation):
    """schemathesis generates requests from the server's own OpenAPI schema, valid and invalid
    (its pytest plugin's from_fixture doesn't run on pytest 9, so the strategy is driven directly)."""
    schema = schemathesis.openapi.from_url(f"{target[0]}/openapi.json")
    method, path = operation.split(" ")
    api_operation = schema[path][method]

    @given(case=api_operation.as_strategy())
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def never_5xx(case):
        response = case.call(timeout=60)
        assert response.status_code < 500, f"{operation}: {response.status_code} {response.text[:300]}"

    never_5xx()


@pytest.mark.parametrize("name", ["../../escape.txt", "/tmp/absolute.txt", "..\\..\\windows.txt",
                                  "sub/dir/nested.txt", "tab\tname.txt", "nul\x00byte.txt", "ünïcode ✓.txt"])
def test_an_upload_name_never_writes_outside_the_uploads_folder(target, name):
    url, folder = target
    before = {p for p in folder.parent.rglob("*") if p.is_file()}
    response = httpx.post(f"{url}/v1/documents", files=[("files", (name, b"Harmless words about otters.", "text/plain"))],
                          timeout=60)
    assert response.status_code in (200, 400), response.text
    created = {p for p in folder.parent.rglob("*") if p.is_file()} - before
    uploads = (folder / "uploads").resolve()
    assert all(p.resolve().is_relative_to(uploads) or p.resolve().is_relative_to(folder / "index") for p in created)
    if response.status_code == 200:
        stored = [p for p in created if p.resolve().is_relative_to(uploads)]
        assert len(stored) == 1 and "/" not in stored[0].name
        assert httpx.delete(f"{url}/v1/documents/{quote(stored[0].name)}", timeout=60).status_code == 200


def test_a_json_body_over_the_limit_is_413_before_it_is_read(target):
    url, _ = target
    big = b'{"question": "' + b"x" * 2_000_000 + b'"}'
    response = httpx.post(f"{url}/v1/ask", content=big, headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code == 413


def test_an_upload_over_the_file_limit_is_413(tmp_path, embedder):
    with rag_server(seed_index(tmp_path / "index", embedder), RAG_MAX_FILE_MB="0.01") as url:
        response = httpx.post(f"{url}/v1/documents", files=[("files", ("big.txt", b"word " * 5000, "text/plain"))],
                              timeout=60)
    assert response.status_code == 413 and "big.txt" in response.json()["detail"]


def test_with_a_key_every_route_but_health_needs_it(tmp_path, embedder):
    with rag_server(seed_index(tmp_path / "index", embedder), RAG_API_KEY="s3cret") as url:
        assert httpx.get(f"{url}/health", timeout=60).status_code == 200
        for method, path in [("GET", "/v1/models"), ("GET", "/v1/documents"), ("POST", "/v1/ask"),
                             ("POST", "/v1/search"), ("POST", "/v1/chat/completions"), ("POST", "/v1/documents"),
                             ("DELETE", "/v1/documents/x.txt"), ("GET", "/docs"), ("GET", "/openapi.json")]:
            assert httpx.request(method, f"{url}{path}", timeout=60).status_code == 401, path
        # the UI's own API (what its page and gradio_client call) needs a login with the key
        assert httpx.get(f"{url}/gradio_api/info", timeout=60).status_code in (401, 403)
        call = httpx.post(f"{url}/gradio_api/call/answer", json={"data": ["Who is Macron?", False]}, timeout=60)
        assert call.status_code in (401, 403)
