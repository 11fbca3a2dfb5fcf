"""Citation enforcement on hand-written LLM outputs against real seed passages."""

from rag.answer.citations import compose, enforce, llm_claims, problems, support


def hits_for(seed_rag, question):
    return seed_rag.search(question, 5)


def test_a_supported_sentence_keeps_its_marker_and_is_shrunk_to_one_sentence(seed_rag):
    hits = hits_for(seed_rag, "How many Ukrainian troops have French forces trained?")
    n = next(i for i, h in enumerate(hits, 1) if "10,000" in h.chunk.text)
    claims, unsupported = enforce(f"French forces have trained around 10,000 Ukrainian troops [{n}].", hits)
    assert unsupported == []
    [(claim, [span])] = claims
    assert span.text.startswith("French forces have already trained around 10,000") and span.text.endswith("countries.")


def test_a_marker_that_points_nowhere_is_reattributed_to_the_supporting_passage(seed_rag):
    hits = hits_for(seed_rag, "Who rejected Macron's proposal?")
    claims, unsupported = enforce("Joe Biden reportedly rejected Macron's proposal [9].", hits)
    assert unsupported == [] and "Joe Biden" in claims[0][1][0].text


def test_a_claim_with_a_wrong_number_is_unsupported(seed_rag):
    hits = hits_for(seed_rag, "How many Ukrainian troops have French forces trained?")
    _, unsupported = enforce("French forces have trained around 50,000 Ukrainian troops [1].", hits)
    assert unsupported == ["French forces have trained around 50,000 Ukrainian troops."]


def test_a_negated_claim_is_not_supported_by_the_positive_statement():
    assert support("Macron did not hold a visit by Zelensky.", "Macron made the comments after hosting a visit.") == 0


def test_an_invented_sentence_is_unsupported(seed_rag):
    hits = hits_for(seed_rag, "What did Macron announce?")
    _, unsupported = enforce("Macron also announced a tax on bananas [1].", hits)
    assert unsupported == ["Macron also announced a tax on bananas."]


def test_markers_after_the_full_stop_and_grouped_markers_are_read():
    assert llm_claims("Paris is big. [1] Rome is old [2, 3].") == [("Paris is big.", [1]), ("Rome is old.", [2, 3])]


def test_an_enforced_answer_passes_the_contract_check(seed_rag):
    hits = hits_for(seed_rag, "Which jets will France send and when were troops trained?")
    claims, _ = enforce("France will send Mirage 2000 fighter jets to Kiev [1]. "
                        "French forces have already trained around 10,000 Ukrainian troops [2].", hits)
    answer = compose("q", claims, "llm:test")
    assert problems(answer, seed_rag.store.page_text) == []


# The case: a 1.5B model's repair round replied with the refusal marker, cited this sentence,
# and the lexical check passed it because the claim's only content word, "not", is in the span.
MACRON_SPAN = "“We are not at war with Russia,” Macron said."


def test_the_refusal_marker_is_not_supported_by_a_span_that_shares_only_its_negation():
    assert support("NOT IN DOCUMENTS", MACRON_SPAN) == 0


def test_the_refusal_marker_with_a_citation_is_an_unsupported_claim(seed_rag):
    hits = hits_for(seed_rag, "Is France at war with Russia?")
    assert any(MACRON_SPAN in h.chunk.text for h in hits)
    claims, unsupported = enforce("NOT IN DOCUMENTS [1]", hits)
    assert claims == [] and unsupported == ["NOT IN DOCUMENTS"]


def test_a_claim_whose_words_are_absent_from_the_span_is_unsupported():
    assert support("Macron announced a tax on bananas.", MACRON_SPAN) < 0.8
