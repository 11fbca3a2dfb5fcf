"""The extractive answerer on the seed corpus: cited, verbatim, abstaining when the answer isn't there."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from rag.answer.citations import ABSTENTION, cited_sentences, problems
from rag.answer.extractive import unnamed_terms, widen
from rag.answer.features import (UNIT_FEATURES, Question, answers_nothing, candidate_rows, is_heading,
                                 is_question, number_by)
from rag.answer.qtypes import (DEFINITION, OTHER, PAIR, PERSON, PLACE, QUANTITY, REASON, TIME, YESNO, answer_type,
                               counts, holds)
from rag.answer.strength import STRONG
from rag.config import Settings
from rag.metrics import contains_answer
from rag.service import Rag
from rag.types import Answer, Chunk

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
    assert sum(refused) > len(refused) / 2  # 5 of 8 since the reader joined (7 before): README, The reading model


def test_an_abstention_says_so_and_cites_nothing(seed_rag):
    answer = seed_rag.ask("What is the boiling point of liquid nitrogen?")
    assert answer.abstained and answer.answer == ABSTENTION and answer.citations == []


def test_the_answer_json_has_the_documented_shape(seed_rag):
    data = seed_rag.ask("Who is the Estonian prime minister?").to_dict()
    assert {"question", "answer", "citations", "abstained", "answerer", "timings_ms"} <= data.keys()
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    for c in data["citations"]:
        assert set(c) == {"n", "source", "page", "chunk_id", "start", "end", "text", "score", "strength"}
    json.dumps(data)


def test_each_citation_says_how_likely_it_answers_the_question(seed_rag):
    [citation] = seed_rag.ask("How many Ukrainian troops have French forces trained?").citations
    assert citation.strength >= STRONG
    answer = seed_rag.ask("and what about the pilots?", [{"role": "user", "content": "Who is the Estonian prime minister?"}])
    assert all(0.0 <= c.strength <= 1.0 for c in answer.citations)


def test_the_short_answer_is_the_reader_s_span_inside_the_sentence_it_cites(seed_rag):
    answer = seed_rag.ask("How many Ukrainian troops have French forces trained?")
    short = answer.short_answer
    assert "10,000" in short.text and len(short.text.split()) <= 4
    cited = next(c for c in answer.citations if c.n == short.citation)
    assert cited.start <= short.start < short.end <= cited.end
    assert seed_rag.store.page_text(cited.source, cited.page)[short.start:short.end] == short.text


def test_a_yes_no_question_and_an_abstention_have_no_short_answer(seed_rag):
    yes_no = seed_rag.ask("Is it an escalation if Ukraine asks France to train mobilized soldiers on its soil?")
    assert not yes_no.abstained and yes_no.short_answer is None
    assert seed_rag.ask("What is the boiling point of liquid nitrogen?").short_answer is None


def test_a_follow_up_is_searched_with_the_previous_question(seed_rag):
    history = [{"role": "user", "content": "Which fighter jets will France send to Kiev?"},
               {"role": "assistant", "content": "France will send Mirage 2000 fighter jets [1]"}]
    answer = seed_rag.ask("and when was that announced?", history)
    assert answer.searched.startswith("Which fighter jets will France send to Kiev?")
    assert "Thursday" in answer.answer


def test_a_short_new_question_after_another_is_searched_as_typed(seed_rag):
    history = [{"role": "user", "content": "How many Ukrainian troops have French forces trained?"},
               {"role": "assistant", "content": "French forces have already trained around 10,000 Ukrainian troops [1]"}]
    answer = seed_rag.ask("Who is Kaja Kallas?", history)
    assert answer.searched == "Who is Kaja Kallas?" and "Estonian Prime Minister" in answer.answer


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


@pytest.mark.parametrize("question, kind", [
    ("Who is the chief executive of Quillon Ferries?", PERSON),
    ("What is the name of the Russian Foreign Ministry spokesperson?", PERSON),
    ("On which day of the week did Macron talk to reporters?", TIME),
    ("What was the airframe total time at the time of the accident?", TIME),
    ("How many Ukrainian troops have French forces trained?", QUANTITY),
    ("What percentage of revenue came from services?", QUANTITY),
    ("In which city did Macron speak?", PLACE),
    ("Which two countries suggested sending instructors?", PAIR),
    ("Why did the Kremlin warn NATO?", REASON),
    ("Is it an escalation if Ukraine asks France to train soldiers?", YESNO),
    ("What is a coalition?", DEFINITION),
    ("What was the pilot making adjustments to?", OTHER),  # the noun before a verb is its subject
    ("What were Microsoft's operating expenses in Q2 2023?", QUANTITY),  # a financial statement's line item
    ("What was Tesla's free cash flow in Q3 2023?", QUANTITY),
    ("What study duration is given in the protocol summary table?", QUANTITY),
])
def test_the_kind_of_answer_comes_from_the_question_word_and_its_head_noun(question, kind):
    assert answer_type(question) == kind


@pytest.mark.parametrize("sentence, kinds", [
    ("The chief executive is Priya Okonjo.", {PERSON}),
    ("Macron told reporters on Friday in Paris.", {TIME, PLACE}),
    ("He will send Mirage 2000 fighter jets.", set()),  # a number in a name counts nothing
    ("Certificate:\tStudent\tAge:\t17, Male", {QUANTITY}),
])
def test_a_sentence_holds_the_kinds_of_answer_spotted_in_it(sentence, kinds):
    assert all(holds(kind, sentence, "Who runs it, when and where, and how many?") for kind in kinds)
    assert QUANTITY in kinds or not holds(QUANTITY, sentence, "How many?")


def test_a_yes_no_question_is_answered_by_the_sentence_that_settles_it_not_by_the_question(seed_rag):
    answer = seed_rag.ask("Is it an escalation if Ukraine asks France to train mobilized soldiers on its soil?")
    assert "?" not in answer.answer and "No, that does not mean" in answer.answer


def test_a_question_or_a_heading_is_never_an_answer_unit():
    assert is_question("Is it an escalation if Ukraine asks us to train mobilized soldiers on its soil?")
    assert is_heading("Macron building ‘coalition’ to send troops into Ukraine")
    assert is_heading("TABLE 2: General Characteristics of Patients Before the Initiation of the Protocol")  # a caption
    assert is_heading("Evaluation Treatment Outcomes of Anterior Open Bite Treated with Maxillary Intrusive Force.")
    assert not is_heading("Revenue\t$ 94,836\t$ 81,797")
    assert not is_heading("The Normans were the people who in the 10th and 11th centuries gave their name to Normandy.")


def test_a_unit_that_only_restates_the_question_is_no_answer():
    q = Question("According to the DHS Strategic Plan for Fiscal Years 2020-2024, in what year was DHS established?",
                 "According to the DHS Strategic Plan for Fiscal Years 2020-2024, in what year was DHS established?",
                 lambda term: 1.0)
    assert answers_nothing(q, "THE DHS STRATEGIC PLAN Fiscal Years 2020-2024")
    assert not answers_nothing(q, "Congress established DHS in 2003.")


def test_a_forms_blank_field_is_no_answer_to_the_question_about_it():
    q = Question("In what year was the airplane manufactured?", "In what year was the airplane manufactured?",
                 lambda term: 1.0)
    assert answers_nothing(q, "Year of Manufacture:\tAmateur Built:\tNo")
    assert not answers_nothing(q, "Year of Manufacture:\t1978\tAmateur Built:\tNo")
    asked = "What altimeter setting was reported?"
    altimeter = Question(asked, asked, lambda term: 1.0)
    assert not number_by(altimeter.terms, "Altimeter Setting:\tTemperature/Dew Point:\t24°C / 20°C")
    assert number_by(altimeter.terms, "Altimeter Setting:\t30.24 inches Hg\tTemperature/Dew Point:\t24°C / 20°C")


def test_a_unit_cut_by_its_chunks_start_is_widened_to_the_whole_sentence():
    page = "The bill stalled. In 2019 it passed, with a strong advocate in Senator Lee. Then it lapsed."
    start = page.index("with")
    chunk = Chunk("c", "doc.txt", None, start, len(page), page[start:])
    widened, s, e = widen(chunk, start, page.index(" Then"), lambda source, page_no: page)
    assert page[s:e] == "In 2019 it passed, with a strong advocate in Senator Lee."
    assert widened.text[s - widened.start:e - widened.start] == page[s:e]


def test_a_table_row_is_an_answer_unit_and_a_numeric_question_prefers_the_row_with_the_number(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "acme-2023-q3.txt").write_text(
        "Acme quarterly report\n\nRevenue grew in every region during the third quarter.\n"
        "Segment\tQ3 2023\tQ3 2022\nRevenue\t$ 94,836\t$ 81,797\nOperating income\t$ 23,076\t$ 19,104\n",
        encoding="utf-8")
    rag = Rag(Settings(index_dir=tmp_path / "index"), embedder)
    rag.index([docs], progress=False)
    answer = rag.ask("What was Acme's operating income in Q3 2023?")
    assert "23,076" in answer.answer and problems(answer, rag.store.page_text) == []


def test_every_sentence_of_an_answer_needs_its_own_marker(seed_rag):
    answer = seed_rag.ask("How many Ukrainian troops have French forces trained?")
    cited = answer.citations[0]
    two = Answer(answer.question, "French forces trained them. Lithuania agreed. [1]", [cited], False, "x")
    assert any("without its own marker" in p for p in problems(two, seed_rag.store.page_text))


def test_a_run_of_capitalised_words_names_the_person_its_last_word_names():
    sentence = "US President Joe Biden reportedly rejected Macron’s proposal to send instructors to Kiev."
    assert holds(PERSON, sentence, "Who is the US president?")
    assert not holds(PERSON, sentence, "Which US official passed on Biden's rejection of the proposal?")


def test_a_country_named_by_its_capital_or_its_people_is_one_the_document_mentions():
    document = "Russian diplomats blamed the United States for the crisis in Ukraine."
    assert unnamed_terms("What did Moscow's diplomats say about the American president?", document) == []
    assert unnamed_terms("What did Kyiv ask of Washington?", document) == []
    assert unnamed_terms("What did Lithuanian diplomats say?", document) == ["lithuanian"]
    # Norway's ISO code is NOR: "nor" in running text is no mention of Norway
    assert unnamed_terms("What did Norwegian diplomats say?", "Neither Paris nor Berlin commented.") == ["norwegian"]


def test_a_vague_quantity_answers_how_many_instead_of_being_refused_as_no_number(seed_rag):
    answer = seed_rag.ask("How many partners have agreed to join Macron's coalition?")
    assert not answer.abstained
    assert "several of our partners" in answer.answer


def test_a_question_about_the_document_itself_is_answered_by_its_head(seed_rag):
    answer = seed_rag.ask("When was the story posted?")
    assert answer.answer.startswith("7 Jun, 2024 22:52")
    assert answer.citations[0].start < 100


def test_a_time_asked_for_in_years_or_days_is_answered_only_in_that_unit():
    question = "In what year did Kaja Kallas become prime minister of Estonia?"
    assert not holds(TIME, "Kaja Kallas said last month that NATO trainers were already there.", question)
    assert holds(TIME, "Kaja Kallas became prime minister in 2021.", question)
    assert holds(TIME, "He announced on Thursday that France will send jets.", "On which day did Macron say it?")
    assert not holds(TIME, "It will take until the end of this year.", "On which day did Macron say it?")


def test_a_role_answers_a_who_question():
    assert holds(PERSON, "The dukes used the church as a unifying force.", "Who used the church to unify themselves?")
    assert not holds(PERSON, "The church was a unifying force.", "Who used the church to unify themselves?")


def test_an_acronym_answers_who_did_it_but_names_no_official():
    sentence = "Macron's comments triggered pushback from some NATO allies and a Kremlin warning."
    assert not holds(PERSON, sentence, "What is the name of the Kremlin spokesperson who warned of a conflict?")
    assert holds(PERSON, sentence, "Who pushed back against Macron's comments?")


def test_a_number_that_is_part_of_a_name_counts_nothing():
    assert counts("the Nasoni Access H2O faucet, CMT4J, MMTCO2e") == set()
    assert counts("Investigational Site\t4 US sites; 25mg twice") == {"4", "25"}
    assert not holds(QUANTITY, "It tests whether the Access H2O faucet works.", "What is the price of the faucet?")


def test_how_old_asks_for_an_age_and_a_table_row_answers_it_by_the_number_beside_that_label():
    q = Question("How old was the student pilot?", "How old was the student pilot?", lambda term: 1.0)
    assert "age" in q.terms
    assert number_by(q.terms, "Certificate:\tStudent\tAge:\t32, Male")
    assert not number_by(q.terms, "Flight Conducted Under:\tPart 91: General Aviation")  # a name's number


def test_a_table_row_holds_the_quantity_asked_for_only_beside_a_word_of_the_question():
    q = Question("How old was the private pilot?", "How old was the private pilot?", lambda term: 1.0)
    rows = candidate_rows(q, ["Date & Time:\t12/06/2007, 1308 CST\tRegistration:", "Certificate:\tPrivate\tAge:\t45"],
                          np.array([0.5, 0.5]), 0.5)
    held = UNIT_FEATURES.index("kind_held")
    assert rows[:, held].tolist() == [0.0, 1.0]


def test_a_table_row_is_read_under_its_tables_heading():
    q = Question("What was the student pilot's total flight time?", "What was the student pilot's total flight time?",
                 lambda term: 1.0)
    units = ["Flight Instructor Information", "Flight Time:\t435 hours (Total, all aircraft)",
             "Student Pilot Information", "Flight Time:\t42 hours (Total, all aircraft)"]
    rows = candidate_rows(q, units, np.full(4, 0.5), 0.5)
    covered = rows[:, UNIT_FEATURES.index("coverage")]
    assert covered[3] > covered[1]


def test_among_filings_of_one_form_the_figure_comes_from_the_filing_the_question_names(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    for n, company in enumerate(["acme", "globex", "initech", "umbrella", "hooli", "soylent"]):
        (docs / f"{company}-2023-q3.txt").write_text(
            f"{company.title()} quarterly report\n\nOperating income changed during the third quarter.\n\n"
            f"Segment\tQ3 2023\tQ3 2022\nRevenue\t$ {90 + n},{n}36\t$ 81,797\n"
            f"Operating income\t$ {20 + n},{n}76\t$ 19,104\n", encoding="utf-8")
    rag = Rag(Settings(index_dir=tmp_path / "index"), embedder)
    rag.index([docs], progress=False)
    answer = rag.ask("What was Initech's operating income in Q3 2023?")
    assert "22,276" in answer.answer and answer.citations[0].source == "initech-2023-q3.txt"


def test_the_answerer_also_reads_the_top_documents_chunks_found_further_down_the_ranking():
    from rag.answer.pipeline import Answerer
    from rag.types import Hit

    ranking = [Hit(i + 1, 1.0 - i / 100, Chunk(str(i), "named.pdf" if i in (0, 7, 9, 30) else f"other{i}.pdf", 1,
                                                0, 1, "x")) for i in range(40)]

    class Ranking:
        store = SimpleNamespace(bf16=False)  # an fp32 index: no near tie to settle

        def search(self, question, k, vector, cuts=(), sources=None):
            return ranking[:k]

    hits, read = Answerer(Ranking(), None, Settings(top_k=5)).retrieve("What was it?", None, None)
    assert hits == ranking[:5]
    assert [h.chunk.id for h in read] == ["0", "1", "2", "3", "4", "7", "9"]  # 30 is beyond MORE_OF_TOP x 5


def test_a_question_that_first_says_where_to_look_also_reads_what_its_asking_clause_finds_in_that_document():
    from rag.answer.pipeline import Answerer
    from rag.types import Hit

    ranking = [Hit(i + 1, 1.0 - i / 100, Chunk(str(i), f"report{i}.pdf", 1, 0, 1, "x")) for i in range(15)]
    inside = [Hit(51, 0.3, Chunk("age", "report0.pdf", 2, 0, 1, "Age:\t21")), ranking[0]]

    class Ranking:
        asked: list[str] = []
        store = SimpleNamespace(bf16=False)

        def search(self, question, k, vector, cuts=(), sources=None):
            return ranking[:k]

        def within(self, source, asked, question, n):
            self.asked.append((source, asked))
            return inside

    class Embedder:
        def encode(self, texts):
            return [texts[0]]

    retriever = Ranking()
    answerer = Answerer(retriever, Embedder(), Settings(top_k=5))
    _, read = answerer.retrieve("In the report on the Murfreesboro accident, how old was the instructor?", None, None)
    assert retriever.asked == [("report0.pdf", " how old was the instructor?")]
    assert [h.chunk.id for h in read] == ["0", "1", "2", "3", "4", "age"]  # what was read already is not read twice
    answerer.retrieve("How old was the instructor in the Murfreesboro accident?", None, None)
    assert len(retriever.asked) == 1


def test_the_llm_reads_the_chunks_of_the_best_ranked_units_in_turn_with_the_search_hits():
    from rag.answer.extractive import Evidence
    from rag.answer.pipeline import passages
    from rag.types import Hit

    hits = [Hit(i + 1, 1.0 - i / 10, Chunk(f"hit{i}", "report.pdf", 1, 0, 1, "x")) for i in range(3)]
    table = Hit(51, 0.3, Chunk("table", "report.pdf", 2, 0, 1, "Age:\t21"))  # found inside the document
    ranked = [Evidence(h.chunk, 0, 1, h.chunk.text, score, np.zeros(len(UNIT_FEATURES)), "")
              for h, score in ((table, 5.0), (hits[2], 4.0), (hits[0], 1.0))]
    read = passages(hits, [*hits, table], ranked)
    assert [h.chunk.id for h in read] == ["table", "hit0", "hit2"]
    assert [h.rank for h in read] == [1, 2, 3]


def test_a_figure_the_named_filing_lacks_is_not_taken_from_another_filing_of_the_same_form(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    for n, company in enumerate(["acme", "globex", "initech", "umbrella"]):
        table = "Segment\tQ3 2023\tQ3 2022\nRevenue\t$ 94,836\t$ 81,797\n"
        if company != "initech":
            table += f"Operating income\t$ {20 + n},076\t$ 19,104\n"
        (docs / f"{company}-2023-q3.txt").write_text(f"{company.title()} quarterly report\n\n{table}", encoding="utf-8")
    rag = Rag(Settings(index_dir=tmp_path / "index"), embedder)
    rag.index([docs], progress=False)
    # the filing is named where the question says where to look, not in what it asks
    assert rag.ask("In Initech's quarterly report for Q3 2023, what was the operating income?").abstained
    assert "21,076" in rag.ask("In Globex's quarterly report for Q3 2023, what was the operating income?").answer
