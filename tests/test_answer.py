"""The extractive answerer on the seed corpus: cited, verbatim, abstaining when the answer isn't there."""

import json

import pytest

from rag.answer.citations import ABSTENTION, cited_sentences, problems
from rag.answer.extractive import lacks_a_time
from rag.metrics import contains_answer

from .conftest import DATA

SEED_QA = [json.loads(line) for line in (DATA / "seed_qa.jsonl").read_text(encoding="utf-8").splitlines()]


def test_an_answer_quotes_the_source_and_cites_it(seed_rag):
    answer = seed_rag.ask("How many Ukrainian troops have French forces trained?")
    assert not answer.abstained and answer.answerer == "extractive"
    assert "10,000" in answer.answer
    assert answer.answer.rstrip().endswith("]")
    assert problems(answer, seed_rag.store.page_text) == []


def test_every_seed_question_gets_a_valid_answer_or_an_abstention(seed_rag):
    for item in SEED_QA:
        answer = seed_rag.ask(item["question"])
        assert problems(answer, seed_rag.store.page_text) == [], item["question"]


def test_nine_in_ten_answerable_seed_questions_are_answered_correctly(seed_rag):
    answerable = [i for i in SEED_QA if i["answerable"]]
    correct = [i["question"] for i in answerable if contains_answer(seed_rag.ask(i["question"]).answer, i["answers"])]
    assert len(correct) >= 0.9 * len(answerable)


def test_most_unanswerable_seed_questions_are_refused(seed_rag):
    refused = [seed_rag.ask(i["question"]).abstained for i in SEED_QA if not i["answerable"]]
    assert sum(refused) >= 7


def test_an_abstention_says_so_and_cites_nothing(seed_rag):
    answer = seed_rag.ask("What is the boiling point of liquid nitrogen?")
    assert answer.abstained and answer.answer == ABSTENTION and answer.citations == []


def test_the_answer_json_has_the_documented_shape(seed_rag):
    data = seed_rag.ask("Who is the Estonian prime minister?").to_dict()
    assert {"question", "answer", "citations", "abstained", "answerer", "timings_ms"} <= data.keys()
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    for c in data["citations"]:
        assert set(c) == {"n", "source", "page", "chunk_id", "start", "end", "text", "score"}
    json.dumps(data)


def test_a_follow_up_is_searched_with_the_previous_question(seed_rag):
    history = [{"role": "user", "content": "Which fighter jets will France send to Kiev?"},
               {"role": "assistant", "content": "France will send Mirage 2000 fighter jets [1]"}]
    answer = seed_rag.ask("and when was that announced?", history)
    assert answer.searched.startswith("Which fighter jets will France send to Kiev?")
    assert "Thursday" in answer.answer


def test_a_follow_up_is_answered_by_the_sentence_that_covers_its_own_words(seed_rag):
    history = [{"role": "user", "content": "What did Macron announce about Mirage jets?"},
               {"role": "assistant", "content": "France will send Mirage 2000 fighter jets to Kiev. [1]"}]
    assert "end of this year" in seed_rag.ask("and when will the pilots be ready?", history).answer


def test_a_follow_up_is_judged_by_what_it_asks_not_by_what_came_before(seed_rag):
    history = [{"role": "user", "content": "How many Ukrainian troops have French forces trained?"},
               {"role": "assistant", "content": "French forces have already trained around 10,000 Ukrainian troops [1]"}]
    answer = seed_rag.ask("and what did Lithuania suggest?", history)
    assert "willing to deploy instructors" in answer.answer  # no count wanted, none needed


def test_markers_are_numbered_from_one_in_order_of_use(seed_rag):
    answer = seed_rag.ask("What did Macron say about a coalition?")
    used = [n for _, ns in cited_sentences(answer.answer)[0] for n in ns]
    assert sorted(set(used)) == list(range(1, len(answer.citations) + 1))
    assert used[0] == 1


def test_asking_with_llm_when_none_is_configured_is_a_clear_error(seed_rag):
    with pytest.raises(ValueError, match="RAG_LLM_URL"):
        seed_rag.ask("Who is Macron?", use_llm=True)


@pytest.mark.parametrize("sentence, lacks", [
    ("We will use the coming days to finalize the coalition.", True),  # "days" is not a day
    ("Macron told reporters on Friday in Paris.", False),
    ("The treaty was signed in 1648.", False),
    ("It ended three centuries of rule.", False),
])
def test_a_when_question_wants_a_sentence_with_a_time_phrase(sentence, lacks):
    assert lacks_a_time("On which day of the week did Macron talk to reporters?", sentence) is lacks


def test_a_question_that_does_not_ask_when_wants_no_time_phrase():
    assert not lacks_a_time("Which country sent fighter jets?", "France will send Mirage 2000 fighter jets.")
