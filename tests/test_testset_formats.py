"""Test sets as other tools write them: each format, written here from the seed questions, is read
with its gold answers and gives the metrics rag's own format gives on the same questions."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.evaluate import evaluate_file
from rag.report import report_html
from rag.testsets import Item, read_testset

from .conftest import DATA

SEED_QA = DATA / "seed_qa.jsonl"


def seed_questions() -> list[tuple[str, str]]:
    """(question, its first gold answer) of the answerable seed questions: the formats of other tools
    have one reference answer and no notion of an unanswerable question."""
    rows = [json.loads(line) for line in SEED_QA.read_text(encoding="utf-8").splitlines()]
    return [(r["question"], r["answers"][0]) for r in rows if r["answerable"]]


def table(columns: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([columns, *rows])
    return out.getvalue()


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


QA = seed_questions()
# file name -> (format detected, the file's text from (question, answer) pairs)
WRITERS: dict[str, tuple[str, Callable[[list[tuple[str, str]]], str]]] = {
    "native.jsonl": ("rag", lambda qa: jsonl([{"question": q, "answers": [a], "answerable": True, "source": "x.txt",
                                                "kind": "fact", "page": 1, "half": "dev"} for q, a in qa])),
    "ragas_v01.csv": ("RAGAS 0.1", lambda qa: table(["question", "ground_truth", "answer", "contexts"],
                                                    [[q, a, "an earlier answer", "['a passage']"] for q, a in qa])),
    "ragas_v01.jsonl": ("RAGAS 0.1", lambda qa: jsonl([{"question": q, "ground_truths": [a]} for q, a in qa])),
    "ragas.jsonl": ("RAGAS", lambda qa: jsonl([{"user_input": q, "reference": a, "response": "earlier",
                                                "retrieved_contexts": ["a passage"]} for q, a in qa])),
    "deepeval.json": ("DeepEval", lambda qa: json.dumps([{"input": q, "expected_output": a, "actual_output": None,
                                                          "retrieval_context": None} for q, a in qa])),
    "deepeval.csv": ("DeepEval", lambda qa: table(["input", "expected_output"], [[q, a] for q, a in qa])),
    "promptfoo.csv": ("promptfoo", lambda qa: table(["question", "__expected"], [[q, f"icontains: {a}"] for q, a in qa])),
    "promptfoo.json": ("promptfoo", lambda qa: json.dumps([{"vars": {"question": q}, "assert": [
        {"type": "contains", "value": a}]} for q, a in qa])),
    "llamaindex.json": ("LlamaIndex LabelledRagDataset", lambda qa: json.dumps({"examples": [
        {"query": q, "query_by": {"model_name": "gpt-4", "type": "ai"}, "reference_contexts": None,
         "reference_answer": a, "reference_answer_by": {"model_name": "", "type": "human"}} for q, a in qa]})),
    "squad_hub.jsonl": ("Hugging Face SQuAD", lambda qa: jsonl([{"id": str(n), "title": "Seeds", "question": q,
                                                                 "answers": {"text": [a], "answer_start": [0]}}
                                                                for n, (q, a) in enumerate(qa)])),
    "plain.csv": ("question/answer", lambda qa: table(["question", "answer"], [[q, a] for q, a in qa])),
    "plain.jsonl": ("question/answer", lambda qa: jsonl([{"question": q, "answer": a} for q, a in qa])),
    "excel_utf8.csv": ("question/answer", lambda qa: "\ufeff" + table(["question", "answer"], [[q, a] for q, a in qa])),
    "semicolons.csv": ("question/answer", lambda qa: table(["question", "answer"], [[q, a] for q, a in qa], ";")),
    "tabs.csv": ("question/answer", lambda qa: table(["question", "answer"], [[q, a] for q, a in qa], "\t")),
    "tabs.tsv": ("question/answer", lambda qa: table(["question", "answer"], [[q, a] for q, a in qa], "\t")),
}


def write(folder: Path, name: str, qa: list[tuple[str, str]] = QA) -> Path:
    path = folder / name
    path.write_text(WRITERS[name][1](qa), encoding="utf-8")
    return path


def comparable(metrics: dict) -> dict:
    return {name: value for name, value in metrics.items() if not name.startswith("latency_")}


@pytest.fixture(scope="module")
def native_metrics(seed_rag, tmp_path_factory) -> dict:
    return comparable(evaluate_file(write(tmp_path_factory.mktemp("native"), "native.jsonl"), seed_rag,
                                    progress=False).metrics)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_every_format_is_read_with_its_gold_answers(tmp_path, name):
    testset = read_testset(write(tmp_path, name))
    assert testset.detected.format == WRITERS[name][0]
    assert [(i.question, i.answers, i.answerable) for i in testset.items] == [(q, [a], True) for q, a in QA]


@pytest.mark.parametrize("name", sorted(set(WRITERS) - {"native.jsonl"}))
def test_every_format_gives_the_metrics_of_the_native_format(seed_rag, native_metrics, tmp_path, name):
    metrics = evaluate_file(write(tmp_path, name), seed_rag, progress=False).metrics
    assert comparable(metrics) == native_metrics
    assert metrics["gold_in_answer"] > 0.5 and metrics["answerable"] == len(QA)


def test_ragas_answer_column_beside_ground_truth_is_a_warning_not_gold(tmp_path):
    detected = read_testset(write(tmp_path, "ragas_v01.csv")).detected
    assert detected.mapping["gold answers"] == "ground_truth"
    assert any('"answer" looks like a gold answer but is not used' in w for w in detected.warnings)


def test_a_gold_looking_column_of_no_known_format_is_a_warning(tmp_path):
    (tmp_path / "q.csv").write_text("question,expectedAnswer\nWho?,Ann\n", encoding="utf-8")
    testset = read_testset(tmp_path / "q.csv")
    assert testset.items == [Item("Who?", [], None)]
    assert any('"expectedAnswer" looks like a gold answer' in w for w in testset.detected.warnings)
    assert any(w.startswith("no gold answers") for w in testset.detected.warnings)


def test_promptfoo_assertions_that_are_not_answers_are_a_warning(tmp_path):
    (tmp_path / "p.csv").write_text('question,__expected1,__expected2\nWho?,contains: Ann,"llm-rubric: polite"\n'
                                    "When?,1987,not-contains: 1986\nWhat?,note: a plain answer,\n", encoding="utf-8")
    testset = read_testset(tmp_path / "p.csv")
    assert [i.answers for i in testset.items] == [["Ann"], ["1987"], ["note: a plain answer"]]
    assert any("llm-rubric, not-contains" in w for w in testset.detected.warnings)


def test_squad_rows_from_the_hub_bring_their_paragraphs_and_unanswerable_questions(tmp_path):
    rows = [{"title": "Otters", "context": "Sea otters eat sea urchins.", "question": "What do sea otters eat?",
             "answers": {"text": ["sea urchins"], "answer_start": [15]}},
            {"title": "Otters", "context": "Sea otters eat sea urchins.", "question": "What do river otters eat?",
             "answers": {"text": [], "answer_start": []}}]
    (tmp_path / "squad.jsonl").write_text(jsonl(rows), encoding="utf-8")
    testset = read_testset(tmp_path / "squad.jsonl")
    assert testset.corpus == {"Otters_p000.txt": "Sea otters eat sea urchins."}
    assert [(i.answers, i.answerable, i.source) for i in testset.items] == [
        (["sea urchins"], True, "Otters_p000.txt"), ([], False, "Otters_p000.txt")]


def test_a_set_without_gold_answers_says_so_in_the_report(seed_rag, tmp_path):
    (tmp_path / "q.jsonl").write_text(jsonl([{"question": q} for q, _ in QA[:3]]), encoding="utf-8")
    evaluation = evaluate_file(tmp_path / "q.jsonl", seed_rag, progress=False)
    assert evaluation.metrics["answerable"] == 0 and evaluation.run["format"] == "questions only"
    page = report_html(evaluation)
    assert "no gold answers: correctness and retrieval metrics are not measured" in page
    assert "No question went wrong" not in page


def test_the_ragas_export_holds_a_single_turn_sample_per_question(seed_rag, tmp_path):
    """RAGAS's documented SingleTurnSample: user_input, retrieved_contexts, response, reference (ragas
    itself doesn't install beside this project's langchain/openai versions)."""
    from rag.report import write as write_report

    evaluation = evaluate_file(write(tmp_path, "ragas.jsonl", QA[:3]), seed_rag, progress=False)
    write_report(evaluation, tmp_path / "out", ("ragas",))
    samples = [json.loads(line) for line in (tmp_path / "out/ragas.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(s["user_input"], s["reference"]) for s in samples] == QA[:3]
    for sample in samples:
        assert set(sample) == {"user_input", "retrieved_contexts", "response", "reference"}
        assert sample["response"] and "[1]" not in sample["response"]
        assert sample["retrieved_contexts"] and all(isinstance(c, str) and c for c in sample["retrieved_contexts"])


def test_the_report_names_the_metrics_in_the_same_plain_words_as_the_evaluate_tab(seed_rag, tmp_path):
    from rag.evaluate import evaluate_file

    page = report_html(evaluate_file(SEED_QA, seed_rag))
    assert "Gold answer in the answer" in page and "Rank of the first passage with the answer" in page
    assert "<td>mrr</td>" not in page and "<td>f1</td>" not in page
