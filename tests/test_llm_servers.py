"""The loopback LLM endpoints in llm_servers.py behave as the answerer tests expect."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI

pytestmark = pytest.mark.server


def chat(base_url: str, model: str = "smollm2", **kwargs) -> ChatOpenAI:
    return ChatOpenAI(base_url=base_url, model=model, api_key="none", **kwargs)


def test_real_server_answers(llm_server):
    base_url, model = llm_server
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    reply = chat(base_url, model, max_tokens=16, timeout=60).invoke("Say hello")
    assert isinstance(reply.content, str) and reply.content.strip()


def test_real_server_streams(llm_server):
    base_url, model = llm_server
    chunks = list(chat(base_url, model, max_tokens=16, timeout=60).stream("Say hello"))
    assert len(chunks) > 1
    assert "".join(chunk.content for chunk in chunks).strip()


def test_real_server_context_fits_five_passages(llm_server):
    """A prompt with 5 passages of 500 characters fits the context (checked by tokenizing only)."""
    base_url, _ = llm_server
    root = base_url.removesuffix("/v1")
    n_ctx = httpx.get(f"{base_url}/models", timeout=5).json()["data"][0]["meta"]["n_ctx"]
    passage = ("The quick brown fox jumps over the lazy dog near the river bank. " * 10)[:500]
    prompt = "Answer only from the passages below and cite them.\n\n" + "\n\n".join(
        f"[{i}] {passage}" for i in range(1, 6)) + "\n\nQuestion: what does the fox do?"
    tokens = httpx.post(f"{root}/tokenize", json={"content": prompt}, timeout=10).json()["tokens"]
    assert n_ctx >= 4096
    assert len(tokens) + 256 < n_ctx


def test_hanging_endpoint_times_out(hanging_url):
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        chat(hanging_url, timeout=1, max_retries=0).invoke("Say hello")
    assert time.monotonic() - start < 30  # the 1 s timeout, not the client's 600 s default


def test_dead_endpoint_refuses(dead_url):
    start = time.monotonic()
    with pytest.raises(openai.APIConnectionError) as caught:
        chat(dead_url, timeout=1, max_retries=0).invoke("Say hello")
    assert not isinstance(caught.value, openai.APITimeoutError)
    assert time.monotonic() - start < 30  # the 1 s timeout, not the client's 600 s default


def test_garbage_endpoint_is_not_json(garbage_url):
    body = httpx.post(f"{garbage_url}/chat/completions", json={}, timeout=5)
    assert body.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        body.json()


def test_garbage_endpoint_makes_chat_raise(garbage_url):
    # invoke: the OpenAI SDK fails to decode the body (json.JSONDecodeError, a ValueError).
    with pytest.raises(ValueError):
        chat(garbage_url, timeout=1, max_retries=0).invoke("Say hello")
    # stream: the SSE parser skips the non-"data:" body, so LangChain sees no chunks at all.
    with pytest.raises(ValueError):
        list(chat(garbage_url, timeout=1, max_retries=0).stream("Say hello"))
