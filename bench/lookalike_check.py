"""Check bench/data/lookalike_qa.jsonl, the look-alike question set, against the PDFs it is asked about.

The set asks about folders of documents that look alike (20 NTSB forms with the same fields, 20 trial
protocols, 9 agency strategic plans) and names each document the way people do: by its subject (the
aircraft, place and date of the accident; the drug or intervention and the condition of the trial; the
agency and the years of the plan), never by its file name, NCT number or NTSB accident number.

Two shapes of line:
- single-document: question, answers, answerable, source, kind, page, half. kind is `table` (the gold
  is a cell of a form or table row), `prose` (a phrase or name from running text), `figure` (a reported
  number in running text: a count, amount, share or measure) or `unanswerable` (the document is clearly
  named but does not state the thing asked: no answers, no page);
- cross-document (kind `cross`): question, answers, answerable, kind, half, documents, where documents
  lists 2-5 {source, answers, page}, each with its own gold, and answers is the union of theirs.

Checked for every line: the fields and kinds; the source PDF exists; every gold string occurs on the
page given in the text the product stores for it (rag.loaders.load: wrapped lines joined, running
headers dropped, table rows as tab-separated cells), compared as bench/pdf_qa_check.py does
(case-folded, whitespace collapsed); the question does not name its document by file name, NCT number
or accident number; the question is new (not a question of bench/data/pdf_qa.jsonl, and no
single-document gold repeats a gold pdf_qa.jsonl has for the same PDF); at most 8 single-document
questions per PDF; each PDF in one half, the half bench/data/pdf_qa.jsonl gives it where it has one, and
every document of a cross-document question in that question's half.

Prints one line per problem, then the counts; exits 1 if there was a problem.

    .venv/bin/python bench/lookalike_check.py [--set bench/data/lookalike_qa.jsonl] [--pdfs ../shared/data/pdfs]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from pdf_qa_check import MAX_PER_PDF, flatten  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.loaders import load  # noqa: E402

SINGLE_FIELDS = {"question", "answers", "answerable", "source", "kind", "page", "half"}
CROSS_FIELDS = {"question", "answers", "answerable", "kind", "half", "documents"}
DOC_FIELDS = {"source", "answers", "page"}
SINGLE_KINDS = {"table", "prose", "figure", "unanswerable"}
HALVES = ("dev", "test")
ACCIDENT_NUMBER = re.compile(r"Accident Number:\s*(\S+)")


class Pages:
    """Each PDF's stored page texts, flattened, loaded once: {page number: text}."""

    def __init__(self, root: Path) -> None:
        self.root, self.cache, self.raw = root, {}, {}

    def __call__(self, source: str) -> dict[int, str]:
        if source not in self.cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pages = load(self.root / source, source, 10**10, Settings())
            self.raw[source] = {p.page: p.text for p in pages}
            self.cache[source] = {p.page: flatten(p.text) for p in pages}
        return self.cache[source]

    def names(self, source: str) -> set[str]:
        """What the question must not call the document: its file name, NCT number, accident number."""
        stem = Path(source).stem
        names = {stem.casefold(), source.casefold(), stem.split("_")[0].casefold()}
        first = self.raw.get(source, {}).get(1, "")
        names |= {m.casefold() for m in ACCIDENT_NUMBER.findall(first)}
        return names


def gold_problems(pages: Pages, source: str, page, answers, where: str) -> list[str]:
    if not answers or not all(isinstance(a, str) and a.strip() for a in answers):
        return [f"{where}: needs non-empty gold strings"]
    texts = pages(source)
    if not isinstance(page, int) or page not in texts:
        return [f"{where}: page {page!r} is not a page with text in {source} ({min(texts)}..{max(texts)})"]
    out = []
    for gold in answers:
        printed = flatten(gold)
        if printed not in texts[page]:
            found_on = [n for n, t in texts.items() if printed in t]
            out.append(f"{where}: gold {gold!r} is on page(s) {found_on}, not page {page}" if found_on
                       else f"{where}: gold {gold!r} not found in {source}")
    return out


def repeats(mine: list[str], theirs: list[str]) -> list[str]:
    """Golds of mine that are a gold of theirs, or contain one or are contained in one (4+ characters)."""
    out = []
    for a in map(flatten, mine):
        for b in map(flatten, theirs):
            short, long_ = sorted((a, b), key=len)
            if a == b or (len(short) >= 4 and short in long_):
                out.append(f"{a!r} ~ {b!r}")
    return out



def asked_before(question: str, seen: set[str], old: set[str], old_name: str) -> list[str]:
    """Why a question is not new (asked earlier in this set, or in the older set `old_name`); records
    it as seen."""
    key = flatten(question)
    why = (["asked twice"] if key in seen else []) + ([f"a question of {old_name}"] if key in old else [])
    seen.add(key)
    return why

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=HERE / "data" / "lookalike_qa.jsonl")
    ap.add_argument("--pdfs", type=Path, default=HERE.parent.parent / "shared" / "data" / "pdfs")
    ap.add_argument("--old", type=Path, default=HERE / "data" / "pdf_qa.jsonl",
                    help="the existing PDF set: its halves are kept and its questions not repeated")
    args = ap.parse_args()

    rows = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    old = [json.loads(line) for line in args.old.read_text(encoding="utf-8").splitlines() if line.strip()]
    old_half = {r["source"]: r["half"] for r in old}
    old_questions = {flatten(r["question"]) for r in old}
    old_golds: dict[str, list[str]] = defaultdict(list)
    for r in old:
        old_golds[r["source"]] += r["answers"]

    pages = Pages(args.pdfs)
    problems: list[str] = []
    per_pdf: Counter[str] = Counter()
    halves: dict[str, set] = defaultdict(set)
    seen: set[str] = set()

    for n, row in enumerate(rows, 1):
        where = f"line {n} ({row.get('source') or row.get('kind')}): {str(row.get('question', ''))[:80]}"
        kind, half, question = row.get("kind"), row.get("half"), row.get("question", "")
        if half not in HALVES:
            problems.append(f"{where}: half is {half!r}, not dev/test")
        if not isinstance(question, str) or len(question) < 15:
            problems.append(f"{where}: no question")
            continue
        problems += [f"{where}: {why}" for why in asked_before(question, seen, old_questions, args.old.name)]

        if kind == "cross":
            if set(row) != CROSS_FIELDS:
                problems.append(f"{where}: fields {sorted(set(row) ^ CROSS_FIELDS)} missing or unexpected")
                continue
            docs = row["documents"]
            if row["answerable"] is not True:
                problems.append(f"{where}: a cross-document question must be answerable")
            if not isinstance(docs, list) or not 2 <= len(docs) <= 5:
                problems.append(f"{where}: needs 2 to 5 documents")
                continue
            if len({d.get("source") for d in docs}) != len(docs):
                problems.append(f"{where}: a document is listed twice")
            union: list[str] = []
            for d in docs:
                if set(d) != DOC_FIELDS:
                    problems.append(f"{where}: document fields {sorted(set(d) ^ DOC_FIELDS)} missing or unexpected")
                    continue
                source = d["source"]
                if not (args.pdfs / source).is_file():
                    problems.append(f"{where}: no such PDF {source}")
                    continue
                halves[source].add(half)
                problems += gold_problems(pages, source, d["page"], d["answers"], f"{where} [{source}]")
                if any(name in question.casefold() for name in pages.names(source)):
                    problems.append(f"{where}: names {source} by its file name or number")
                union += [a for a in d["answers"] if a not in union]
            if row["answers"] != union:
                problems.append(f"{where}: answers is not the union of the documents' answers")
            continue

        if set(row) != SINGLE_FIELDS:
            problems.append(f"{where}: fields {sorted(set(row) ^ SINGLE_FIELDS)} missing or unexpected")
            continue
        source, answers, page = row["source"], row["answers"], row["page"]
        if kind not in SINGLE_KINDS:
            problems.append(f"{where}: unknown kind {kind!r}")
            continue
        if (kind == "unanswerable") == row["answerable"]:
            problems.append(f"{where}: kind {kind} but answerable={row['answerable']}")
        if not (args.pdfs / source).is_file():
            problems.append(f"{where}: no such PDF {source}")
            continue
        per_pdf[source] += 1
        halves[source].add(half)
        pages(source)
        if any(name in question.casefold() for name in pages.names(source)):
            problems.append(f"{where}: names {source} by its file name or number")
        if not row["answerable"]:
            if answers or page is not None:
                problems.append(f"{where}: an unanswerable question has answers or a page")
            continue
        problems += gold_problems(pages, source, page, answers, where)
        if kind == "figure" and not any(ch.isdigit() for ch in answers[0]) and not re.search(
                r"\b(one|two|three|four|five|six|seven|eight|nine|ten|twice|half)\b", answers[0], re.I):
            problems.append(f"{where}: a figure question whose gold {answers[0]!r} states no number")
        same = repeats(answers, old_golds.get(source, []))
        if same:
            problems.append(f"{where}: repeats a gold {args.old.name} has for this PDF: {same[0]}")

    for source, count in sorted(per_pdf.items()):
        if count > MAX_PER_PDF:
            problems.append(f"{source}: {count} single-document questions, more than {MAX_PER_PDF}")
    for source, hs in sorted(halves.items()):
        if len(hs) > 1:
            problems.append(f"{source}: in more than one half {sorted(map(str, hs))}")
        elif source in old_half and hs != {old_half[source]}:
            problems.append(f"{source}: half {sorted(hs)[0]} here but {old_half[source]} in {args.old.name}")

    for p in problems:
        print(p)
    report(rows, halves, args.pdfs)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


def report(rows: list[dict], halves: dict[str, set], pdfs: Path) -> None:
    folder = lambda s: s.split("/")[0]  # noqa: E731
    singles = [r for r in rows if r.get("kind") != "cross"]
    cross = [r for r in rows if r.get("kind") == "cross"]
    print(f"{len(rows)} questions: {len(singles)} single-document "
          f"({sum(1 for r in singles if not r.get('answerable'))} unanswerable), {len(cross)} cross-document")
    print("single-document by folder and kind, per half:")
    for half in HALVES:
        c = Counter((folder(r["source"]), r["kind"]) for r in singles if r.get("half") == half)
        for f in sorted({f for f, _ in c}):
            kinds = {k: v for (ff, k), v in sorted(c.items()) if ff == f}
            print(f"  {half:4} {f:7} {sum(kinds.values()):3}  {kinds}")
    print("cross-document by folder, per half (documents per question):")
    for half in HALVES:
        c = Counter(folder(r["documents"][0]["source"]) for r in cross if r.get("half") == half)
        sizes = Counter(len(r["documents"]) for r in cross if r.get("half") == half)
        print(f"  {half:4} {dict(sorted(c.items()))}  sizes {dict(sorted(sizes.items()))}")
    print("documents per half (every PDF under the folder root):")
    every = sorted(str(p.relative_to(pdfs)) for p in pdfs.rglob("*.pdf"))
    for half in HALVES:
        docs = [s for s in every if halves.get(s) == {half}]
        print(f"  {half:4} {len(docs):2} {dict(sorted(Counter(map(folder, docs)).items()))}")
    unused = [s for s in every if s not in halves]
    if unused:
        print(f"  not asked about: {unused}")


if __name__ == "__main__":
    sys.exit(main())
