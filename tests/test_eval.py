"""`rag eval`: metric definitions on hand-computed examples, test set parsing and its errors, the
command's outputs, gate and comparison."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from rag.errors import InvalidTestSetError
from rag.evaluate import evaluate_file, lexical_judge
from rag.metrics import answer_rank, citation_recall_precision, contains_answer, exact_match, normalize, token_f1
from rag.testsets import load_testset

from .conftest import DATA, ROOT, SEEDS
from .rag_server import RAG

SEED_QA = DATA / "seed_qa.jsonl"


# --- answer metrics (SQuAD's official normalisation, EM and F1) -----------------------------------

def test_normalisation_drops_case_punctuation_articles_and_extra_spaces():
    assert normalize("The  Eiffel-Tower, in PARIS!") == "eiffeltower in paris"


def test_exact_match_takes_the_best_gold():
    assert exact_match("the Eiffel Tower", ["Louvre", "Eiffel Tower"]) == 1.0
    assert exact_match("Eiffel Tower in Paris", ["Eiffel Tower"]) == 0.0


def test_token_f1_by_hand():
    # prediction: eiffel tower in paris (4 tokens); gold: eiffel tower (2); common 2 -> P 0.5, R 1, F1 2/3
    assert token_f1("the Eiffel Tower in Paris", ["Eiffel Tower"]) == pytest.approx(2 / 3)


def test_an_empty_gold_list_scores_zero():
    assert token_f1("anything", []) == 0.0 and exact_match("anything", []) == 0.0
    assert not contains_answer("anything", [])


def test_unicode_answers_match_after_normalisation():
    assert contains_answer("Die Straße heißt „Königsallee“.", ["Königsallee"])
    assert token_f1("São Paulo", ["são paulo"]) == 1.0


def test_answer_rank_is_the_first_retrieved_text_holding_a_gold_answer():
    assert answer_rank(["no", "it was 1987", "1987 again"], ["1987"]) == 2
    assert answer_rank(["no"], ["1987"]) is None


# --- citation recall and precision (ALCE) ---------------------------------------------------------

SPANS = {1: "The tower was finished in 1889.", 2: "It is 330 metres tall.", 3: "Paris has many cafes."}


def test_a_sentence_supported_by_its_citation_counts_for_recall_and_precision():
    assert citation_recall_precision([("The tower was finished in 1889.", [1])], SPANS, lexical_judge) == (1.0, 1.0)


def test_a_sentence_without_citations_is_unsupported():
    assert citation_recall_precision([("The tower was finished in 1889.", [])], SPANS, lexical_judge) == (0.0, 0.0)


def test_a_marker_pointing_nowhere_supports_nothing():
    assert citation_recall_precision([("The tower was finished in 1889.", [9])], SPANS, lexical_judge) == (0.0, 0.0)


def test_an_irrelevant_extra_citation_halves_precision_but_not_recall():
    assert citation_recall_precision([("The tower was finished in 1889.", [1, 3])], SPANS,
                                     lexical_judge) == (1.0, 0.5)


def test_citations_needed_together_are_both_precise():
    claim = "The tower was finished in 1889 and is 330 metres tall."
    assert citation_recall_precision([(claim, [1, 2])], SPANS, lexical_judge) == (1.0, 1.0)


def test_recall_is_the_share_of_supported_sentences():
    sentences = [("The tower was finished in 1889.", [1]), ("The tower is made of cheese.", [2])]
    assert citation_recall_precision(sentences, SPANS, lexical_judge) == (0.5, 0.5)


def test_an_answer_without_sentences_has_no_citation_scores():
    assert citation_recall_precision([], SPANS, lexical_judge) is None


# --- test sets -----------------------------------------------------------------------------------

def test_jsonl_csv_and_squad_test_sets_load(tmp_path):
    (tmp_path / "q.csv").write_text('question,answers,answerable\nWho?,"Ann | Bob",\nWhere?,,false\nWhat?,,\n',
                                    encoding="utf-8")
    _, items = load_testset(tmp_path / "q.csv")
    assert [(i.answers, i.answerable) for i in items] == [(["Ann", "Bob"], True), ([], False), ([], None)]
    assert len(load_testset(SEED_QA)[1]) == 32
    squad = {"version": "v2.0", "data": [{"title": "Otters", "paragraphs": [{
        "context": "Sea otters eat sea urchins.",
        "qas": [{"question": "What do sea otters eat?", "answers": [{"text": "sea urchins", "answer_start": 15}],
                 "is_impossible": False},
                {"question": "What do river otters eat?", "answers": [], "is_impossible": True}]}]}]}
    (tmp_path / "squad.json").write_text(json.dumps(squad), encoding="utf-8")
    corpus, items = load_testset(tmp_path / "squad.json")
    assert corpus == {"Otters_p000.txt": "Sea otters eat sea urchins."}
    assert [(i.answers, i.answerable, i.source) for i in items] == [(["sea urchins"], True, "Otters_p000.txt"),
                                                                     ([], False, "Otters_p000.txt")]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.jsonl", '{"question": "ok"}\n{"question": \n', "line 2: not valid JSON"),
    ("bad.jsonl", '{"question": "ok"}\n\n{"answers": ["x"]}\n', 'line 3: needs a non-empty "question"'),
    ("bad.jsonl", '{"question": "ok", "answers": "x"}\n', "line 1: \"answers\" must be a list"),
    ("bad.jsonl", "", "no questions"),
    ("bad.csv", "prompt_text,answers\nWho?,Ann\n", "line 1: the header needs a question column"),
    ("bad.csv", "question,answerable\nWho?,maybe\n", 'line 2: "answerable" must be true or false'),
    ("bad.json", '{"version": "v2.0"}', "not SQuAD 2.0 JSON"),
    ("bad.txt", "Who?", "unknown test set format"),
])
def test_a_bad_test_set_is_refused_naming_the_line(tmp_path, name, content, message):
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(InvalidTestSetError, match=message):
        load_testset(tmp_path / name)


# --- evaluating ----------------------------------------------------------------------------------

def test_the_seed_questions_pass_the_ci_gate(rag, tmp_path):
    """The gate `make eval` applies (in fp32 and bf16), read from the Makefile, on the same questions."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    files = re.search(r"^SEED_QUESTIONS := (.+)$", makefile, re.M).group(1).split()
    gate = {name: float(value) for name, value in re.findall(r"--fail-under (\w+)=([\d.]+)", makefile)}
    questions = tmp_path / "seed-questions.jsonl"
    questions.write_text("".join((ROOT / f).read_text(encoding="utf-8") for f in files), encoding="utf-8")
    metrics = evaluate_file(questions, rag, docs=SEEDS, progress=False).metrics
    assert metrics["questions"] >= 195 and len(gate) >= 5
    assert {name: metrics[name] for name in gate if metrics[name] < gate[name]} == {}


def run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([RAG, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_rag_eval_writes_results_metrics_and_a_report(tmp_path):
    done = run("eval", str(SEED_QA), "--docs", str(SEEDS), "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in (tmp_path / "out/results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(results) == 32 and {"answer", "citations", "gold", "metrics"} <= set(results[0])
    metrics = json.loads((tmp_path / "out/metrics.json").read_text(encoding="utf-8"))
    assert metrics["run"]["questions"] == 32 and metrics["metrics"]["citation_validity"] == 1.0
    report = (tmp_path / "out/report.html").read_text(encoding="utf-8")
    assert report.count("data:image/png;base64,") >= 3 and "Worst questions" in report


def test_rag_eval_prints_how_it_read_the_test_set_and_exports_for_ragas(tmp_path):
    (tmp_path / "ragas.csv").write_text("question,ground_truth,answer\n"
                                        "Who is the Estonian prime minister?,Kaja Kallas,an earlier answer\n",
                                        encoding="utf-8")
    done = run("eval", "ragas.csv", "--docs", str(SEEDS), "--out", "out", "--export", "ragas", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "format: RAGAS 0.1" in done.stderr and "gold answers <- ground_truth" in done.stderr
    assert 'warning: "answer" looks like a gold answer but is not used' in done.stderr
    sample = json.loads((tmp_path / "out/ragas.jsonl").read_text(encoding="utf-8"))
    assert sample["reference"] == "Kaja Kallas" and "Kallas" in sample["response"]


def test_the_gate_exits_4_naming_the_metrics_below_it(tmp_path):
    done = run("eval", str(SEED_QA), "--docs", str(SEEDS), "--out", "out",
               "--fail-under", "citation_validity=1.0", "--fail-under", "answerable_refused=0.5", cwd=tmp_path)
    assert done.returncode == 4
    assert "answerable_refused" in done.stderr and "citation_validity" not in done.stderr


def test_a_bad_test_set_exits_1_and_writes_nothing(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"question": "ok"}\nnot json\n', encoding="utf-8")
    done = run("eval", "bad.jsonl", "--docs", str(SEEDS), "--out", "out", cwd=tmp_path)
    assert done.returncode == 1 and "line 2" in done.stderr
    assert not (tmp_path / "out").exists()


def test_compare_prints_both_runs_and_the_deltas(tmp_path):
    for name, value in (("a", 0.5), ("b", 0.75)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"metrics": {"f1": value, "answerable_refused": value}}))
    done = run("eval", "--compare", "a.json", "b.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()}
    assert "+0.25 (better)" in lines["f1"] and "+0.25 (worse)" in lines["answerable_refused"]


@pytest.mark.server
def test_the_llm_can_judge_citations(seed_rag, llm_server, tmp_path):
    from rag.config import Settings
    from rag.service import Rag

    url, model = llm_server
    few = tmp_path / "few.jsonl"
    few.write_text("\n".join(SEED_QA.read_text(encoding="utf-8").splitlines()[:4]), encoding="utf-8")
    judged = Rag(Settings(index_dir=seed_rag.settings.index_dir, llm_url=url, llm_model=model), seed_rag.embedder)
    evaluation = evaluate_file(few, judged, judge="llm", progress=False)
    assert evaluation.run["judge"] == "llm"
    assert 0.0 <= evaluation.metrics["citation_recall"] <= 1.0
