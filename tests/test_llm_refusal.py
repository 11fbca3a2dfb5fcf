"""The LLM path's decisions on scripted replies (no server): a refusal at any stage, however worded,
is an abstention without citations; a yes/no answer starts with Yes or No."""

import pytest

from rag.answer.citations import ABSTENTION, problems
from rag.answer.llm import is_refusal


class Scripted:
    """Stands in for rag.answer.llm.LLM: the first draft, then the repair round's reply."""

    name = "llm:scripted"

    def __init__(self, draft: str, repaired: str) -> None:
        self.draft, self.repaired, self.repairs = draft, repaired, 0

    def answer(self, question, hits, on_token=None) -> str:
        return self.draft

    def repair(self, question, hits, draft, unsupported, yes_no=False) -> str:
        self.repairs += 1
        return self.repaired


def ask(seed_rag, monkeypatch, question: str, draft: str, repaired: str):
    llm = Scripted(draft, repaired)
    monkeypatch.setattr(seed_rag.answerer, "llm", llm)
    return seed_rag.answerer.ask(question, use_llm=True), llm


@pytest.mark.parametrize("reply", ["NOT IN DOCUMENTS", "NOT IN DOCUMENTS [1]", "Not in documents.",
                                   "**not in the documents**", "The answer is not in the passages [2]."])
def test_a_refusal_however_worded_is_recognised(reply):
    assert is_refusal(reply)


def test_an_answer_that_mentions_documents_is_not_a_refusal():
    assert not is_refusal("The documents were signed in Paris [1].")


def test_a_refusal_in_the_draft_is_an_abstention_without_citations(seed_rag, monkeypatch):
    answer, llm = ask(seed_rag, monkeypatch, "Is France at war with Russia?", "NOT IN DOCUMENTS [1]", "")
    assert answer.abstained and answer.citations == [] and answer.answer == ABSTENTION and llm.repairs == 0


def test_a_refusal_in_the_repair_round_is_an_abstention_without_citations(seed_rag, monkeypatch):
    answer, llm = ask(seed_rag, monkeypatch, "Is France at war with Russia?",
                      "France declared war on Russia in 2024 [1].", "NOT IN DOCUMENTS [1]")
    assert llm.repairs == 1
    assert answer.abstained and answer.citations == [] and problems(answer, seed_rag.store.page_text) == []


def test_a_yes_no_answer_without_yes_or_no_is_sent_back_for_repair(seed_rag, monkeypatch):
    answer, llm = ask(seed_rag, monkeypatch, "Is France at war with Russia?",
                      "We are not at war with Russia [1].", "No, we are not at war with Russia [1].")
    assert llm.repairs == 1
    assert answer.answer.startswith("No,") and problems(answer, seed_rag.store.page_text) == []
