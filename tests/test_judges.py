"""The citation judges of `rag eval`: the default is not the enforcer's own check."""

from rag.evaluate import evaluate
from rag.metrics import embedding_judge, gold_judge
from rag.testsets import Item

SPAN = "French forces have already trained around 10,000 Ukrainian troops in France and other NATO countries."


def test_the_embedding_judge_accepts_a_paraphrase_and_rejects_an_unrelated_claim(embedder):
    judge = embedding_judge(embedder.encode)
    assert judge("Around 10,000 Ukrainian soldiers have been trained by French forces.", SPAN)
    assert not judge("The museum opens at nine in the morning.", SPAN)


def test_the_gold_judge_wants_the_gold_answer_in_the_claim_and_in_its_citation():
    judge = gold_judge(["10,000"])
    assert judge("France trained 10,000 troops.", SPAN)
    assert not judge("France trained many troops.", SPAN)
    assert not judge("France trained 10,000 troops.", "France trained troops.")


def test_rag_eval_judges_citations_with_the_embedding_judge_by_default(seed_rag):
    item = Item("How many Ukrainian troops have French forces trained?", ["10,000"], True)
    assert evaluate(seed_rag, [item], progress=False).run["judge"] == "embedding"
