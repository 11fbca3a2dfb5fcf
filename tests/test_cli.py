"""The `rag` command as users run it: a real process, its output and exit code."""

import json
import os
import subprocess
import sys
from pathlib import Path

from rag.loaders import ocr

from .conftest import DATA

RAG = str(Path(sys.executable).parent / "rag")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([RAG, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_index_then_search_json_prints_one_object_per_hit(corpus, tmp_path):
    indexed = run("index", str(corpus), "--index", "idx", cwd=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert "chunk(s) embedded" in indexed.stdout
    found = run("search", "Who is the Estonian prime minister?", "-k", "3", "--json", "--index", "idx", cwd=tmp_path)
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert set(hits[0]) == {"rank", "score", "chunk_id", "source", "page", "start", "end", "text"}
    assert "Kaja Kallas" in hits[0]["text"]
    source = (corpus / hits[0]["source"]).read_text(encoding="utf-8")
    assert source[hits[0]["start"]:hits[0]["end"]] == hits[0]["text"]


def test_skipped_files_are_listed_and_set_exit_code_3(corpus, tmp_path):
    (corpus / "fake.pdf").write_bytes(b"not a pdf at all")
    result = run("index", str(corpus), "--index", "idx", cwd=tmp_path)
    assert result.returncode == 3
    assert "skipped" in result.stderr and "fake.pdf" in result.stderr and "PDF could not be read" in result.stderr
    assert "Traceback" not in result.stderr
    assert "1 file(s) indexed" in result.stdout


def test_batch_search_answers_every_question_in_one_process(corpus, tmp_path):
    run("index", str(corpus), "--index", "idx", cwd=tmp_path)
    questions = [json.loads(line) for line in (DATA / "seed_qa.jsonl").read_text(encoding="utf-8").splitlines()]
    result = run("search", "--batch", str(DATA / "seed_qa.jsonl"), "-k", "2", "--json", "--index", "idx", cwd=tmp_path)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == [q["question"] for q in questions]
    assert all(len(line["hits"]) == 2 for line in lines)


def test_searching_before_indexing_is_a_clear_error_without_traceback(tmp_path):
    result = run("search", "anything", "--index", "empty", cwd=tmp_path)
    assert result.returncode == 1
    assert "rag index" in result.stderr and "Traceback" not in result.stderr


def test_a_file_indexed_without_some_pages_is_a_warning_line_not_a_failure(tmp_path):
    from .files import write_scanned_pdf

    docs = tmp_path / "docs"
    docs.mkdir()
    write_scanned_pdf(docs / "mixed.pdf", ["It serves four villages."], text_page="A page with a text layer.")
    no_tesseract = {**os.environ, "PATH": str(Path(RAG).parent)}  # the OCR engine is looked up on PATH
    indexed = subprocess.run([RAG, "index", str(docs), "--index", "idx"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=300, env=no_tesseract)
    assert indexed.returncode == 0 and indexed.stdout.startswith("1 file(s) indexed")
    assert indexed.stderr == (f"warning {docs / 'mixed.pdf'}: scanned page(s) 2 left out: "
                              f"Tesseract OCR is not installed: {ocr.INSTALL_HINT}\n")
