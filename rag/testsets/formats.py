"""Which key of a test set row is the question and which holds the gold answers, told apart by the
keys themselves: rag's own (`question`, `answers`, `answerable`), RAGAS 0.1 (`question`,
`ground_truth(s)`), RAGAS (`user_input`, `reference`), DeepEval (`input`, `expected_output`),
LlamaIndex's LabelledRagDataset (`query`, `reference_answer`), promptfoo (`vars`, `__expected`
columns or `assert` lists), Hugging Face SQuAD (`answers: {"text": [...]}`) and a plain
`question,answer` table.

A key that looks like a gold answer but is not the one read is a warning, never silence: a set
whose gold went unread would report every correctness metric as None and "nothing went wrong"."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.errors import InvalidTestSetError
from rag.testsets.files import Row

QUESTION_KEYS = ("question", "user_input", "input", "query", "vars.question", "vars.query", "vars.input")
GOLD_LOOKING = re.compile(r"answer|expected|reference|groundtruth|gold|ideal|correct|truth|solution|target")
# What the usual non-gold keys of other tools hold: said in the mapping, so nothing is ignored unsaid
KNOWN = {"answer": "in RAGAS 0.1 sets, the response being judged", "response": "the response being judged",
         "actual_output": "the response being judged", "contexts": "the passages a RAG system retrieved",
         "retrieved_contexts": "the passages a RAG system retrieved",
         "retrieval_context": "the passages a RAG system retrieved", "reference_contexts": "gold passages",
         "context": "the passage the question was written from"}
# promptfoo assertions whose value is an answer the output should hold (contains-any: any of a list)
GOLD_ASSERTIONS = {"equals", "contains", "icontains", "starts-with", "contains-any", "icontains-any", "similar",
                   "factuality"}
# the other promptfoo assertion types: a "type: value" cell of any other word is an answer ("equals")
OTHER_ASSERTIONS = {"contains-all", "icontains-all", "regex", "is-json", "contains-json", "is-sql", "contains-sql",
                    "is-xml", "contains-xml", "javascript", "python", "webhook", "llm-rubric", "model-graded-closedqa",
                    "answer-relevance", "context-faithfulness", "context-recall", "context-relevance", "g-eval",
                    "levenshtein", "rouge-n", "bleu", "meteor", "perplexity", "perplexity-score", "cost", "latency",
                    "classifier", "moderation", "select-best", "is-refusal", "is-valid-openai-function-call",
                    "is-valid-openai-tools-call", "fn", "eval", "grade"}
ASSERTION = re.compile(r"^(not-)?([a-z][a-z-]*)(?:\([\d.]+\))?:\s*(.*)$", re.DOTALL)
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


@dataclass(frozen=True)
class Item:
    question: str
    answers: list[str]
    answerable: bool | None  # None: no gold given, only citations and latency are measured
    source: str | None = None  # the paragraph file a SQuAD question was asked about


def norm(key: str) -> str:
    """"Ground Truth", "ground_truth" and "groundTruth" are one key."""
    return re.sub(r"[^a-z0-9.]", "", key.lower())


def flatten(row: dict) -> dict:
    """promptfoo's `{"vars": {"question": ...}}` read as a "vars.question" key."""
    variables = row.get("vars")
    if not isinstance(variables, dict):
        return row
    return {**{k: v for k, v in row.items() if k != "vars"}, **{f"vars.{k}": v for k, v in variables.items()}}


# --- reading a gold value ------------------------------------------------------------------------
def strings(value: object, where: str, key: str) -> list[str]:
    """A string, or a list of strings: JSON's own, or in a CSV cell a JSON list or a Python list as
    pandas writes it ("['a', 'b']")."""
    if isinstance(value, str) and value.strip().startswith("[") and value.strip().endswith("]"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                raise InvalidTestSetError(f'{where}: "{key}" looks like a list but is not valid JSON') from None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidTestSetError(f'{where}: "{key}" must be a list of strings')
    return [v.strip() for v in value if v.strip()]


def native_answers(value: object, where: str, key: str) -> list[str]:
    """rag's `answers` in JSON: a list of strings."""
    if not isinstance(value, list):
        raise InvalidTestSetError(f'{where}: "{key}" must be a list of strings')
    return strings(value, where, key)


def native_cell(value: object, where: str, key: str) -> list[str]:
    """rag's `answers` in a CSV cell: a JSON list, or answers separated by "|"."""
    text = str(value).strip()
    if not text.startswith("["):
        return [a.strip() for a in text.split("|") if a.strip()]
    try:
        return native_answers(json.loads(text), where, key)
    except json.JSONDecodeError:
        raise InvalidTestSetError(f'{where}: "{key}" looks like a JSON list but is not valid JSON') from None


def squad_answers(value: object, where: str, key: str) -> list[str]:
    """Hugging Face SQuAD: `{"text": [...], "answer_start": [...]}`."""
    if not isinstance(value, dict) or "text" not in value:
        raise InvalidTestSetError(f'{where}: "{key}" must be {{"text": [...]}} as in every other row')
    return strings(value["text"], where, f"{key}.text")


def assertions(value: object, where: str, key: str) -> tuple[list[str], set[str]]:
    """promptfoo: (the answers of gold-like assertions, the types of the others). A CSV cell is one
    assertion string ("contains: Paris"; without a known type it is the answer, as promptfoo's equals);
    `assert` is a list of objects."""
    answers, other = [], set()
    for assertion in value if isinstance(value, list) else [value]:
        if isinstance(assertion, str):
            match = ASSERTION.match(assertion.strip())
            known = match and match[2] in GOLD_ASSERTIONS | OTHER_ASSERTIONS
            negated, kind, text = match.groups() if known else (None, "equals", assertion)
        elif isinstance(assertion, dict) and isinstance(assertion.get("type"), str):
            negated, kind = assertion["type"].startswith("not-"), assertion["type"].removeprefix("not-")
            text = assertion.get("value")
        else:
            raise InvalidTestSetError(f'{where}: "{key}" must hold promptfoo assertions')
        if negated or kind not in GOLD_ASSERTIONS or text is None:
            other.add(("not-" if negated else "") + kind)
        elif kind.endswith("-any") and isinstance(text, str):
            answers += [a.strip() for a in text.split(",") if a.strip()]
        else:
            answers += strings(text, where, key)
    return answers, other


def assertion_answers(value: object, where: str, key: str) -> list[str]:
    return assertions(value, where, key)[0]


@dataclass(frozen=True)
class Gold:
    key: str  # normalised; "__expected" stands for every __expected, __expected1, ... column
    format: str
    read: Callable[[object, str, str], list[str]]


GOLDS = [Gold("answers", "rag", native_answers), Gold("groundtruths", "RAGAS 0.1", strings),
         Gold("groundtruth", "RAGAS 0.1", strings), Gold("reference", "RAGAS", strings),
         Gold("expectedoutput", "DeepEval", strings),
         Gold("referenceanswer", "LlamaIndex LabelledRagDataset", strings),
         Gold("__expected", "promptfoo", assertion_answers), Gold("assert", "promptfoo", assertion_answers),
         Gold("answer", "question/answer", strings)]
SQUAD = Gold("answers", "Hugging Face SQuAD", squad_answers)
NATIVE_CSV = Gold("answers", "rag", native_cell)


@dataclass
class Detected:
    """How a set's keys are read: printed by `rag eval` and kept in metrics.json's `run`."""

    format: str
    question: str  # "question" when no key fits: every row then fails naming it
    gold: Gold | None
    gold_keys: list[str]
    answerable: str | None
    documents: str | None = None  # the key whose texts become the corpus of a temporary index
    ignored: dict[str, str] = field(default_factory=dict)  # known keys left unread -> what they hold
    warnings: list[str] = field(default_factory=list)

    @property
    def mapping(self) -> dict[str, str]:
        """What rag eval reads -> from which key."""
        told = ("empty answers.text means unanswerable" if self.gold is SQUAD
                else "true where a gold answer is given")
        mapping = {"question": self.question, "gold answers": ", ".join(self.gold_keys) or "(none)",
                   "answerable": self.answerable or told}
        return mapping | ({"documents": self.documents} if self.documents else {})

    def describe(self) -> list[str]:
        """The mapping as lines for a terminal or a report."""
        lines = [f"format: {self.format}", *(f"{what} <- {key}" for what, key in self.mapping.items())]
        lines += [f"not read: {key} ({what})" for key, what in self.ignored.items()]
        return lines


def keys_of(gold: Gold, columns: list[str]) -> list[str]:
    if gold.key == "__expected":
        return [c for c in columns if c.startswith("__expected")]
    return [c for c in columns if norm(c) == gold.key]


def detect(rows: list[Row], columns: list[str] | None = None) -> Detected:
    """Which keys are read, from the keys of all rows together, or from a CSV file's header
    (`columns`: its cells are text, so rag's `answers` may be "a | b")."""
    csv = columns is not None
    rows = [(where, flatten(row)) for where, row in rows]
    columns = columns or list(dict.fromkeys(k for _, row in rows for k in row))
    by_norm = {norm(c): c for c in reversed(columns)}  # the first spelling wins
    question = next((by_norm[norm(k)] for k in QUESTION_KEYS if norm(k) in by_norm), "question")
    gold = next((g for g in GOLDS if keys_of(g, columns)), None)
    keys = keys_of(gold, columns) if gold else []
    if gold is GOLDS[0]:  # rag's own "answers", Hugging Face SQuAD's, or a CSV cell
        gold = SQUAD if any(isinstance(row.get(keys[0]), dict) for _, row in rows) else NATIVE_CSV if csv else gold
    answerable = by_norm.get("answerable")
    detected = Detected(gold.format if gold else "questions only", question, gold, keys, answerable)
    for column in columns:
        if column in (question, answerable, *keys):
            continue
        if column in KNOWN:
            detected.ignored[column] = KNOWN[column]
        if GOLD_LOOKING.search(norm(column)) and any(_text(row.get(column)) for _, row in rows):
            said = f" ({KNOWN[column]})" if column in KNOWN else ""
            where = f'gold answers are read from "{keys[0]}"' if keys else "this set has no gold answer key"
            detected.warnings.append(f'"{column}" looks like a gold answer but is not used{said}: {where}')
    if gold and gold.format == "promptfoo":
        other = {kind for where, row in rows for key in keys if key in row
                 for kind in assertions(row[key], where, key)[1]}
        if other:
            detected.warnings.append(f"promptfoo assertions not read as gold answers: {', '.join(sorted(other))} "
                                     f"(read: {', '.join(sorted(GOLD_ASSERTIONS))})")
    if not keys:
        detected.warnings.append("no gold answers: correctness and retrieval metrics are not measured, only "
                                 "citations, abstention and latency (gold keys: answers, ground_truth, reference, "
                                 "expected_output, reference_answer, __expected, assert, answer)")
    return detected


def _text(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def item(where: str, row: dict, detected: Detected, source: str | None = None) -> Item:
    """One row as an Item, as `detected` says, or an InvalidTestSetError naming the row."""
    row = flatten(row)
    question = row.get(detected.question)
    if not isinstance(question, str) or not question.strip():
        raise InvalidTestSetError(f'{where}: needs a non-empty "{detected.question}"')
    answers = [a for key in detected.gold_keys if key in row for a in detected.gold.read(row[key], where, key)]
    answerable = _answerable(row, detected.answerable, where) if detected.answerable else None
    if answerable is None and (answers or detected.gold is SQUAD):
        answerable = bool(answers)  # SQuAD 2.0 on the Hub: no answer text means unanswerable
    return Item(question.strip(), answers, answerable, source)


def _answerable(row: dict, key: str, where: str) -> bool | None:
    value = row.get(key)
    if value is None or isinstance(value, bool):
        return value
    flag = value.strip().lower() if isinstance(value, str) else None
    if flag not in TRUE | FALSE | {""}:
        raise InvalidTestSetError(f'{where}: "{key}" must be true or false, not {value!r}')
    return None if not flag else flag in TRUE
