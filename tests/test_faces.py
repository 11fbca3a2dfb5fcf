"""`rag serve` builds its faces (the Gradio UI takes seconds to import) after it listens: the API
never waits for them, and a face that fails leaves the API serving and says why at /."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app, faces

from .faces import RELEASE, face

QUESTION = {"question": "When did Kallas become prime minister?"}


@pytest.fixture
def held_client(seed_rag) -> Iterator[TestClient]:
    """The app with a face that is not built until RELEASE is set."""
    RELEASE.clear()
    with TestClient(create_app(seed_rag, faces=[face("held")])) as client:
        try:
            yield client
        finally:
            RELEASE.set()  # else the app's shutdown would wait for the face


def test_the_api_answers_while_the_faces_are_still_being_built(held_client):
    answer = held_client.post("/v1/ask", json=QUESTION)
    assert answer.status_code == 200 and answer.json()["citations"]
    assert held_client.get("/health").status_code == 200


def test_a_request_for_a_face_not_built_in_time_gets_503_with_a_reason(held_client, monkeypatch):
    monkeypatch.setattr(faces, "WAIT_S", 0.01)
    page = held_client.get("/")
    assert page.status_code == 503 and "still starting" in page.text and page.headers["retry-after"]


def test_a_face_is_served_at_the_root_once_built(held_client):
    RELEASE.set()
    assert held_client.get("/").text == "the held face"


def test_a_face_that_fails_to_build_leaves_the_api_serving_and_says_why(seed_rag):
    with TestClient(create_app(seed_rag, faces=[face("broken")])) as client:
        page = client.get("/")
        assert page.status_code == 503 and "no display for this face" in page.text
        assert client.post("/v1/ask", json=QUESTION).status_code == 200
