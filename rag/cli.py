"""`rag` command line: a thin face over rag.service.Rag.

Exit codes: 0 success; 1 an error (message on stderr, no traceback); 2 bad usage;
3 `rag index` finished but skipped some files (each listed with its reason);
4 `rag eval --fail-under` found metrics below their thresholds (each named)."""

from __future__ import annotations

import gc
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from rag.answer.strength import words
from rag.config import Settings
from rag.errors import RagError, UnknownSourceError

EXIT_SKIPPED = 3
EXIT_BELOW_GATE = 4


def _rag(index_dir: Path | None):
    from rag.service import Rag

    overrides = {"index_dir": index_dir} if index_dir else {}
    return Rag(Settings(**overrides))


def _read_questions(path: Path) -> list[str]:
    """The questions of a --batch file: JSONL as for `rag eval` (answers, if any, are ignored)."""
    from rag.testsets import load_jsonl

    return [item.question for item in load_jsonl(path)]


index_option = click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
                            help="Index folder (default: RAG_INDEX_DIR or ./index).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rag")
def cli() -> None:
    """Question answering over your documents, every sentence cited to a verbatim span."""


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@index_option
@click.option("--prune/--no-prune", default=True, show_default=True,
              help="Remove files that disappeared from an indexed folder.")
def index_cmd(paths: tuple[Path, ...], index_dir: Path | None, prune: bool) -> None:
    """Index files and folders (txt, md, html, pdf, docx); unchanged files are not re-embedded."""
    report = _rag(index_dir).index(list(paths), prune=prune)
    # The process ends after the report: freezing its objects spares the interpreter's last collections
    # walking the ~300k objects of PyTorch, Chroma and LangChain to free memory the OS takes back anyway
    # (0.5 s of a 5 s index of the ntsb PDFs).
    gc.freeze()
    click.echo(report.summary())
    for warning in report.warnings:
        click.echo(f"warning {warning.path}: {warning.reason}", err=True)
    for failure in report.failures:
        click.echo(f"skipped {failure.path}: {failure.reason}", err=True)
    if report.failures:
        click.echo(f"{len(report.failures)} file(s) skipped", err=True)
        sys.exit(EXIT_SKIPPED)


source_option = click.option(
    "--source", "sources", multiple=True, metavar="PATTERN",
    help="Only these documents: a glob over the indexed paths ('ntsb/*.pdf') or a folder ('ntsb'); repeatable. "
         "A pattern that matches nothing exits with 2.")


@cli.command("documents")
@click.option("--json", "as_json", is_flag=True, help='The {"documents": [...]} object GET /v1/documents returns.')
@index_option
def documents_cmd(as_json: bool, index_dir: Path | None) -> None:
    """List the indexed documents with what each one says it is: title, date and other names."""
    documents = _rag(index_dir).documents()
    if as_json:
        click.echo(json.dumps({"documents": documents}, ensure_ascii=False))
        return
    for d in documents:
        facts = f"{d['type'] or '?'}, {d['pages']} page(s), {d['chunks']} passage(s)" + (f", dated {d['date']}" if d["date"] else "")
        click.echo(f"{d['source']}  ({facts})")
        for label, value in (("title", d["title"]), ("names", "; ".join(d["names"]))):
            if value:
                click.echo(f"   {label}: {value}")


@cli.command("search")
@click.argument("question", required=False)
@click.option("-k", "k", type=click.IntRange(min=1), default=None, help="Number of hits (default 5).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit (per question with --batch).")
@click.option("--batch", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSONL file of {"question": ...} lines, answered in one process.')
@click.option("--per-document", type=click.IntRange(min=1), default=None, metavar="N",
              help="At most N passages of one document: the best of each document, for questions across documents.")
@source_option
@index_option
def search_cmd(question: str | None, k: int | None, as_json: bool, batch: Path | None, per_document: int | None,
               sources: tuple[str, ...], index_dir: Path | None) -> None:
    """Show the passages that best match QUESTION."""
    if (question is None) == (batch is None):
        raise click.UsageError("give either a QUESTION or --batch FILE")
    rag = _rag(index_dir)
    scope = _scope(rag, sources)
    if batch:
        for q in _read_questions(batch):
            hits = rag.search(q, k, scope, per_document)
            click.echo(json.dumps({"question": q, "hits": [h.to_dict() for h in hits]}, ensure_ascii=False))
        return
    hits = rag.search(question, k, scope, per_document)
    for hit in hits:
        if as_json:
            click.echo(json.dumps(hit.to_dict(), ensure_ascii=False))
            continue
        c = hit.chunk
        where = f"{c.source}" + (f" p.{c.page}" if c.page else "") + f" [{c.start}:{c.end}]"
        click.echo(f"{hit.rank}. {where}  score {hit.score:.3f}\n   {c.text}\n")


def _scope(rag, sources: tuple[str, ...]) -> list[str] | None:
    """The --source patterns, checked once before any question: an unknown one is a usage error (exit 2)."""
    try:
        rag.scope(list(sources))
    except UnknownSourceError as e:
        raise click.BadParameter(str(e), param_hint="--source") from None
    return list(sources) or None


def _print_answer(answer) -> None:
    if answer.short_answer:
        click.echo(f"{answer.short_answer.text} [{answer.short_answer.citation}]\n")
    click.echo(answer.answer)
    if answer.searched and answer.searched != answer.question:
        click.echo(f"\n(searched: {answer.searched})")
    for warning in answer.warnings:
        click.echo(f"warning: {warning}", err=True)
    if answer.citations:
        click.echo("\nSources:")
    for c in answer.citations:
        where = c.source + (f", page {c.page}" if c.page else "") + f", chars {c.start}-{c.end}"
        said = f" ({words(c.strength)} evidence)" if c.strength is not None else ""
        click.echo(f"[{c.n}] {where}{said}\n    “{c.text}”")


@cli.command("ask")
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer JSON (one line per question with --batch).")
@click.option("--llm", "use_llm", is_flag=True, help="Answer with the LLM at RAG_LLM_URL (citations still enforced).")
@click.option("-k", "k", type=click.IntRange(min=1), default=None, help="Passages retrieved (default 5).")
@click.option("--batch", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSONL file of {"question": ...} lines, answered in one process.')
@source_option
@index_option
def ask_cmd(question: str | None, as_json: bool, use_llm: bool, k: int | None, batch: Path | None,
            sources: tuple[str, ...], index_dir: Path | None) -> None:
    """Answer QUESTION from the indexed documents, every sentence cited, or say it isn't there."""
    if (question is None) == (batch is None):
        raise click.UsageError("give either a QUESTION or --batch FILE")
    rag = _rag(index_dir)
    scope = _scope(rag, sources)
    rag.warm_up()  # the model and the index load side by side
    for q in _read_questions(batch) if batch else [question]:
        answer = rag.ask(q, use_llm=use_llm, k=k, sources=scope)
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            _print_answer(answer)


def _threshold(ctx, param, values: tuple[str, ...]) -> dict[str, float]:
    gates = {}
    for value in values:
        name, _, number = value.partition("=")
        try:
            gates[name.strip()] = float(number)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not METRIC=NUMBER, e.g. citation_recall=0.9") from None
    return gates


@cli.command("eval")
@click.argument("testset", required=False, type=click.Path(dir_okay=False, path_type=Path))
@index_option
@click.option("--docs", type=click.Path(exists=True, path_type=Path),
              help="Answer from a temporary index of these files instead (SQuAD JSON brings its own).")
@click.option("--llm", "use_llm", is_flag=True, help="Answer with the LLM at RAG_LLM_URL.")
@click.option("-k", "k", type=click.IntRange(min=1), default=None, help="Passages retrieved (default 5).")
@click.option("--judge", type=click.Choice(["embedding", "gold", "lexical-enforcer", "llm"]), default="embedding",
              show_default=True, help="Who decides whether a cited span supports a sentence (README: Evaluate).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("eval-report"),
              show_default=True, help="Folder for results.jsonl, metrics.json and report.html.")
@click.option("--fail-under", "gates", multiple=True, callback=_threshold, metavar="METRIC=VALUE",
              help="Exit 4 if a metrics.json metric is below VALUE (repeatable).")
@click.option("--compare", nargs=2, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="A/metrics.json B/metrics.json", help="Print two runs side by side with deltas, and exit.")
@click.option("--export", "exports", multiple=True, type=click.Choice(["ragas"]),
              help="Also write the results for another tool: ragas -> OUT/ragas.jsonl "
                   "(ragas.EvaluationDataset.from_jsonl).")
def eval_cmd(testset: Path | None, index_dir: Path | None, docs: Path | None, use_llm: bool, k: int | None,
             judge: str, out: Path, gates: dict[str, float], compare: tuple[Path, Path] | None,
             exports: tuple[str, ...]) -> None:
    """Answer every question of TESTSET and measure retrieval, correctness, citation
    recall/precision, abstention and latency. TESTSET: .jsonl, .json, .csv or .tsv in rag's format,
    RAGAS's, DeepEval's, promptfoo's, LlamaIndex's or SQuAD's (read as printed on stderr)."""
    from rag import report

    if compare:
        a, b = (json.loads(p.read_text(encoding="utf-8")) for p in compare)
        width = max(len(name) for name, *_ in report.compare(a, b))
        click.echo(f"{'metric':<{width}}  {'A':>10}  {'B':>10}  delta (B vs A)")
        for name, va, vb, delta in report.compare(a, b):
            click.echo(f"{name:<{width}}  {va!s:>10}  {vb!s:>10}  {delta}")
        return
    if testset is None:
        raise click.UsageError("give a TESTSET, or --compare A B")
    if docs and index_dir:
        raise click.UsageError("give --index or --docs, not both")
    from rag.evaluate import aggregate, evaluate_testset
    from rag.testsets import read_testset

    unknown = sorted(set(gates) - set(aggregate([])))  # named before the run, not after it
    if unknown:
        raise click.BadParameter(f"no such metric: {', '.join(unknown)}", param_hint="--fail-under")
    questions = read_testset(testset)
    click.echo(f"{testset}: {len(questions.items)} questions", err=True)
    for line in questions.detected.describe():
        click.echo(f"  {line}", err=True)
    for warning in questions.detected.warnings:
        click.echo(f"warning: {warning}", err=True)
    evaluation = evaluate_testset(questions, _rag(index_dir), docs=docs, use_llm=use_llm, k=k, judge=judge)
    report.write(evaluation, out, exports)
    for name, value in evaluation.metrics.items():
        click.echo(f"{name:<24} {value}")
    click.echo(f"wrote {out}/" + ", ".join(["results.jsonl", "metrics.json", "report.html",
                                            *(report.EXPORTS[name][0] for name in exports)]))
    below = [f"{name} {evaluation.metrics[name]} < {gate}" for name, gate in gates.items()
             if evaluation.metrics[name] is None or evaluation.metrics[name] < gate]
    if below:
        click.echo("below the gate: " + "; ".join(below), err=True)
        sys.exit(EXIT_BELOW_GATE)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; 0.0.0.0 exposes it to the network (set RAG_API_KEY then).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@index_option
def serve_cmd(host: str, port: int, index_dir: Path | None) -> None:
    """Serve the chat UI at /, the HTTP API under /v1 (docs at /docs) and MCP at /mcp, index and model
    loaded once."""
    rag = _rag(index_dir)
    with ThreadPoolExecutor(1) as pool:  # the model and the index load while the web stack imports
        warm = pool.submit(rag.warm_up)
        import uvicorn

        from rag.api import create_app

        app = create_app(rag, host=host)
        warm.result()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"rag is serving {rag.settings.index_dir} ({len(rag.documents())} documents): "
               f"chat at http://{shown}:{port}/ , API docs at http://{shown}:{port}/docs  (Ctrl+C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


@cli.command("mcp")
@index_option
def mcp_cmd(index_dir: Path | None) -> None:
    """Serve the MCP tools ask, search and list_documents over stdio, for an assistant that starts
    this command (`rag serve` serves them over HTTP at /mcp)."""
    from rag.mcp_server import server

    server(_rag(index_dir)).run("stdio")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except (RagError, FileNotFoundError, ValueError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
