"""Check bench/data/standalone.jsonl, the conversations whose follow-ups are standalone questions.

Issue 27 item 4: a follow-up is glued to the previous question only when it needs it. This set is
the other side of bench/data/followups.jsonl: conversations of 2-4 questions in which every question
after the first is understood without the earlier turns, however short it is ("Who is Kaja Kallas?"),
however it starts ("And what…", "So…") and whatever pronouns it holds, as long as they bind inside
the question ("What did Macron say about his coalition?", "Is it true that…"). bench/quality.py asks
them as it asks the follow-up set; what counts is that each follow-up is searched as typed.

A line: {"id": "standalone-NNN", "docs": "seed"|"pdf", "source" (pdf only), "half", "standalone": true,
"turns": [{"question", "answers", "answerable"} ...]}. A PDF conversation may change document: a turn
about another PDF than the conversation's carries its own "source" (in the same half).

Checked for every line: the fields; the id; 2-4 turns; every gold string occurs in the text the
product stores for its document (rag.loaders.load, via bench/lookalike_check.py's Pages; compared
as bench/pdf_qa_check.py does: case-folded, whitespace collapsed), the seed article for docs=seed;
unanswerable turns have no answers; no question asked twice or taken from followups.jsonl; a PDF
question does not name its document by file name, NCT number or accident number; a PDF conversation
is in the half bench/data/pdf_qa.jsonl gives its documents; every "half" is the half bench/quality.py's
own loader (`conversations`) deals the conversation to. Then the counts per half and docs (at least
36 conversations, each half and each kind of documents at least 40% of them, an unanswerable
follow-up in each half) and the hard cases: follow-ups that the plain rule
(rag.answer.pipeline.condense_plainly) glues to the previous question today.

Prints one line per problem, then the counts; exits 1 if there was a problem.

    .venv/bin/python bench/standalone_check.py [--set bench/data/standalone.jsonl] [--pdfs ../shared/data/pdfs]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from lookalike_check import HALVES, Pages, asked_before  # noqa: E402
from pdf_qa_check import flatten  # noqa: E402
from quality import conversations, pdf_halves  # noqa: E402

from rag.answer.pipeline import FOLLOW_UP, condense_plainly  # noqa: E402

FIELDS = {"id", "docs", "half", "standalone", "turns"}
TURN_FIELDS = {"question", "answers", "answerable"}
ID = re.compile(r"standalone-\d{3}")
MIN_CONVERSATIONS = 36
MIN_SHARE = 0.4


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=HERE / "data" / "standalone.jsonl")
    ap.add_argument("--pdfs", type=Path, default=HERE.parent.parent / "shared" / "data" / "pdfs")
    ap.add_argument("--seeds", type=Path, default=HERE.parent / "seeds")
    ap.add_argument("--pdf-set", type=Path, default=HERE / "data" / "pdf_qa.jsonl",
                    help="the PDF question set, whose halves the PDF conversations follow")
    ap.add_argument("--followups", type=Path, default=HERE / "data" / "followups.jsonl")
    args = ap.parse_args()

    rows = rows_of(args.set)
    pdf_half = pdf_halves(args.pdf_set)
    old_questions = {flatten(t["question"]) for r in rows_of(args.followups) for t in r["turns"]}
    seeds = sorted(p.name for p in args.seeds.iterdir() if p.is_file())
    seed_pages, pdf_pages = Pages(args.seeds), Pages(args.pdfs)
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_questions: set[str] = set()
    if len(seeds) != 1:
        problems.append(f"{args.seeds}: {len(seeds)} files, the seed conversations need exactly one")

    for n, row in enumerate(rows, 1):
        where = f"line {n} ({row.get('id')})"
        docs, source = row.get("docs"), row.get("source")
        expected = FIELDS | ({"source"} if docs == "pdf" else set())
        if set(row) != expected:
            problems.append(f"{where}: fields {sorted(set(row) ^ expected)} missing or unexpected")
            continue
        if not ID.fullmatch(str(row["id"])) or row["id"] in seen_ids:
            problems.append(f"{where}: id must be standalone-NNN and unique")
        seen_ids.add(row["id"])
        if row["standalone"] is not True:
            problems.append(f"{where}: standalone must be true")
        if row["half"] not in HALVES:
            problems.append(f"{where}: half is {row['half']!r}, not dev/test")
        if docs not in ("seed", "pdf"):
            problems.append(f"{where}: docs is {docs!r}, not seed/pdf")
            continue
        if docs == "pdf":
            if not (args.pdfs / str(source)).is_file():
                problems.append(f"{where}: no such PDF {source}")
                continue
            if pdf_half.get(source) != row["half"]:
                problems.append(f"{where}: half {row['half']} but {args.pdf_set.name} gives {source} "
                                f"{pdf_half.get(source)!r}")
        turns = row["turns"]
        if not isinstance(turns, list) or not 2 <= len(turns) <= 4:
            problems.append(f"{where}: needs 2 to 4 turns")
            continue
        for k, turn in enumerate(turns, 1):
            at = f"{where} turn {k}: {str(turn.get('question', ''))[:70]}"
            extra = set(turn) - TURN_FIELDS
            if not TURN_FIELDS <= set(turn) or extra - ({"source"} if docs == "pdf" else set()):
                problems.append(f"{at}: fields {sorted(set(turn) ^ TURN_FIELDS)} missing or unexpected")
                continue
            question, answers, answerable = turn["question"], turn["answers"], turn["answerable"]
            if not isinstance(question, str) or len(question) < 10 or not question.endswith("?"):
                problems.append(f"{at}: not a question")
                continue
            problems += [f"{at}: {why}" for why in asked_before(question, seen_questions, old_questions, args.followups.name)]
            if not isinstance(answerable, bool) or not isinstance(answers, list):
                problems.append(f"{at}: answerable must be true/false and answers a list")
                continue
            if docs == "seed":
                pages, document = seed_pages, seeds[0] if seeds else None
            else:
                pages, document = pdf_pages, turn.get("source", source)
                if not (args.pdfs / str(document)).is_file():
                    problems.append(f"{at}: no such PDF {document}")
                    continue
                if "source" in turn and pdf_half.get(document) != row["half"]:
                    problems.append(f"{at}: {document} is in {pdf_half.get(document)!r}, the conversation in "
                                    f"{row['half']}")
                pages(document)
                if any(name in question.casefold() for name in pages.names(document)):
                    problems.append(f"{at}: names {document} by its file name or number")
            if not answerable:
                if answers:
                    problems.append(f"{at}: an unanswerable turn has answers")
                continue
            if not answers or not all(isinstance(a, str) and a.strip() for a in answers):
                problems.append(f"{at}: an answerable turn needs non-empty gold strings")
                continue
            if document is None:
                continue
            texts = pages(document)
            for gold in answers:
                if not any(flatten(gold) in text for text in texts.values()):
                    problems.append(f"{at}: gold {gold!r} not found in {document}")

    try:  # the halves bench/quality.py will measure with are the halves written here
        dealt = conversations(args.set, pdf_half)
    except (KeyError, TypeError) as e:
        problems.append(f"bench/quality.py cannot load the set: {type(e).__name__} {e}")
        dealt = []
    for conv, row in zip(dealt, rows):
        if conv.half != row.get("half"):
            problems.append(f"{row.get('id')}: half {row.get('half')} but bench/quality.py deals it to {conv.half}")

    for p in problems:
        print(p)
    problems += report(rows)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


def report(rows: list[dict]) -> list[str]:
    """Print the counts and the hard cases; return the problems with the counts."""
    problems = []
    print(f"{len(rows)} conversations, {sum(len(r['turns']) for r in rows)} questions, "
          f"{sum(len(r['turns']) - 1 for r in rows)} standalone follow-ups")
    print("per half and docs: conversations, follow-ups (answerable / unanswerable), follow-ups on another document")
    for half in HALVES:
        for docs in ("seed", "pdf"):
            mine = [r for r in rows if r["half"] == half and r["docs"] == docs]
            follow = [t for r in mine for t in r["turns"][1:]]
            print(f"  {half:4} {docs:4} {len(mine):3} {len(follow):4} "
                  f"({sum(t['answerable'] for t in follow)} / {sum(not t['answerable'] for t in follow)})"
                  f"  {sum('source' in t for t in follow)}")
    if len(rows) < MIN_CONVERSATIONS:
        problems.append(f"{len(rows)} conversations, fewer than {MIN_CONVERSATIONS}")
    for key, values in (("half", HALVES), ("docs", ("seed", "pdf"))):
        for value in values:
            if sum(r[key] == value for r in rows) < MIN_SHARE * len(rows):
                problems.append(f"{key} {value}: fewer than {MIN_SHARE:.0%} of the conversations")
    for half in HALVES:
        if not any(not t["answerable"] for r in rows if r["half"] == half for t in r["turns"][1:]):
            problems.append(f"{half}: no unanswerable follow-up")

    kinds: Counter[str] = Counter()
    glued = 0
    for r in rows:
        history: list[dict] = []
        for n, turn in enumerate(r["turns"]):
            q = turn["question"]
            if n:
                short, trigger = len(q.split()) <= 4, FOLLOW_UP.search(q)
                kinds["short (4 words or fewer)"] += short
                kinds["a pronoun or and/so/but opener, bound inside the question"] += bool(trigger)
                kinds["on another document than the previous turn"] += "source" in turn
                glued += condense_plainly(q, history) != q
            history += [{"role": "user", "content": q}, {"role": "assistant", "content": ""}]
    follow_ups = sum(len(r["turns"]) - 1 for r in rows)
    print("hard cases among the follow-ups:")
    for kind, count in kinds.items():
        print(f"  {count:3}  {kind}")
    print(f"  {glued:3}  of {follow_ups} glued to the previous question by today's plain rule "
          f"(rag.answer.pipeline.condense_plainly): {follow_ups - glued} searched as typed")
    for p in problems:
        print(p)
    return problems


if __name__ == "__main__":
    sys.exit(main())
