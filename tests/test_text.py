"""How text is cut into units: the answer is made of whole units, each with its own marker, so a
unit must be one sentence, no more and no less."""

from rag.answer.citations import Span, compose, problems
from rag.answer.text import sentence_spans
from rag.types import Chunk

# SQuAD 2.0 dev, Yuan_dynasty (CC BY-SA 4.0)
YUAN = ("Kublai Khan is recorded in the imperial records as the official founder of the dynasty as Taizu.[b] "
        "In the Proclamation of the Dynastic Name, Kublai announced the name of the new dynasty as Great Yuan.")


def units(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_a_footnote_mark_after_a_full_stop_ends_the_sentence_and_belongs_to_neither():
    assert units(YUAN) == ["Kublai Khan is recorded in the imperial records as the official founder of the dynasty "
                           "as Taizu.",
                           "In the Proclamation of the Dynastic Name, Kublai announced the name of the new dynasty "
                           "as Great Yuan."]


def test_numbered_footnote_marks_after_a_bracket_end_the_sentence_too():
    assert units("Its mass is large (some 10 tonnes).[12][13] Earth is unusual.") == [
        "Its mass is large (some 10 tonnes).", "Earth is unusual."]


def test_a_line_break_inside_a_bracket_that_the_next_line_closes_does_not_end_the_sentence():
    text = "Plants take in carbon dioxide (CO\n2) from the air. They release oxygen."
    assert units(text) == ["Plants take in carbon dioxide (CO\n2) from the air.", "They release oxygen."]


def test_table_rows_and_list_lines_stay_units_of_their_own():
    assert units("Age:\t17\nTotal hours:\t42\n- first item (see below)\n- second item") == [
        "Age:\t17", "Total hours:\t42", "- first item (see below)", "- second item"]


def test_an_answer_from_a_unit_followed_by_a_footnote_mark_keeps_the_citation_contract():
    chunk = Chunk("c1", "yuan.txt", None, 0, len(YUAN), YUAN)
    start, end = sentence_spans(YUAN)[0]
    answer = compose("Who founded the Yuan dynasty?", [(YUAN[start:end], [Span(chunk, start, end, 1.0)])], "extractive")
    assert problems(answer, lambda source, page: YUAN) == []
