"""Command line: partnerbot ingest | search | ask | batch | eval | docs | purge | classify. Errors print one line, no traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .errors import PartnerbotError, describe
from .settings import Settings, get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Grounded, cited answers about client, contractor, customer, supplier and partner relationships.")


class State:
    store: Optional[Path] = None
    chroma_host: Optional[str] = None
    chroma_port: Optional[int] = None


state = State()


def settings() -> Settings:
    return get_settings(store=state.store, chroma_host=state.chroma_host, chroma_port=state.chroma_port)


def err(message: str) -> None:
    typer.echo(message, err=True)


def ensure_store(cfg: Settings) -> None:
    """A command that finds no store ingests the built-in corpus first, and says so."""
    from .store import location, store_exists

    if not store_exists(cfg):
        from ingest import ingest_corpus

        err(f"No store at {location(cfg)}: ingesting the built-in corpus first…")
        report = ingest_corpus(cfg)
        err(f"Ingested the corpus: {report.summary()}.")


@app.callback()
def main_options(
    store: Optional[Path] = typer.Option(None, "--store", help="Store directory (default: PARTNERBOT_STORE or ./.chroma)."),
    chroma_host: Optional[str] = typer.Option(None, "--chroma-host", help="Use a Chroma server at this host instead of the embedded store."),
    chroma_port: Optional[int] = typer.Option(None, "--chroma-port", help="Port of the Chroma server (default 8000)."),
):
    """partnerbot: ask questions about client, contractor, customer, supplier and partnership relationships."""
    state.store, state.chroma_host, state.chroma_port = store, chroma_host, chroma_port


@app.command()
def ingest(
    paths: List[Path] = typer.Argument(None, help="Documents or folders to add (.md .txt .html .pdf); none = the built-in corpus."),
    remove: Optional[str] = typer.Option(None, "--remove", help="Remove a previously ingested document (its path)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Delete the store and ingest the corpus from scratch."),
):
    """(Re)ingest the built-in corpus, or add your own documents. Idempotent: unchanged files add nothing."""
    from ingest import ingest_corpus, ingest_paths, remove_document
    from .store import location

    cfg = settings()
    if rebuild:
        _rebuild(cfg)
    if remove:
        target = remove if remove.startswith("corpus/") else str(Path(remove).resolve())
        deleted = remove_document(cfg, target)
        if not deleted:
            raise PartnerbotError(f"No ingested document {remove}: see `partnerbot docs` for what is in the store.")
        typer.echo(f"Removed {remove} ({deleted} chunks).")
        return
    if not paths:
        report = ingest_corpus(cfg)
        typer.echo(f"Corpus: {report.summary()}. Store: {location(cfg)}")
        return
    for path in paths:
        if not path.exists():
            raise PartnerbotError(f"No such file or folder: {path}. Check the path.")
    ensure_store(cfg)
    report = ingest_paths(cfg, paths)
    for line in report.errors:
        err(f"skipped: {line}")
    typer.echo(f"Documents: {report.summary()}.")
    if report.errors:
        raise typer.Exit(1)


def _rebuild(cfg: Settings) -> None:
    import shutil

    from .store import drop_collection, forget_store

    if cfg.chroma_host:
        drop_collection(cfg)
    elif Path(cfg.store).exists():
        if not (Path(cfg.store) / "chroma.sqlite3").exists():
            raise PartnerbotError(f"{cfg.store} does not look like a partnerbot store; refusing to delete it.")
        shutil.rmtree(cfg.store)
    forget_store(cfg)


@app.command()
def docs():
    """List the user documents in the store (and the corpus note count)."""
    from ingest import list_documents
    from .store import open_store

    cfg = settings()
    ensure_store(cfg)
    info = open_store(cfg).info()
    typer.echo(f"Store {info['location']}: {info['chunks']} chunks, {info['notes']} corpus notes, last ingest {info['last_ingest']}")
    for doc in list_documents(cfg):
        typer.echo(f"  {doc['doc_path']}  ({doc['chunks']} chunks)  {doc['title']}")
    from ingest import private_summary

    private = private_summary(cfg)
    if private["documents"]:
        typer.echo(f"Private uploads (the page's sessions and workspaces; not listed): {private['documents']} "
                   f"documents of {private['owners']} owners, {private['chunks']} chunks; each is deleted "
                   f"{cfg.private_ttl_hours:g} h after its upload (`partnerbot purge` does it now).")


@app.command()
def purge():
    """Delete private uploads whose time (PARTNERBOT_PRIVATE_TTL_HOURS) is up; the shared store is untouched."""
    from ingest import purge_expired

    cfg = settings()
    report = purge_expired(cfg)
    typer.echo(f"Purged {report.removed} expired private documents ({report.chunks_deleted} chunks).")


def _print_passages(result, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([p.public() for p in result.passages], ensure_ascii=False, indent=2))
        return
    for p in result.passages:
        typer.echo(f"[{p.rank}] {p.score:.4f}  {p.title}  ({p.voice}; {p.doc_path})")
        typer.echo("    " + " ".join(p.text.split())[:300])


@app.command()
def search(
    question: Optional[str] = typer.Argument(None, help="The question or search text."),
    k: int = typer.Option(5, "-k", "--top-k", min=1, max=50, help="How many passages."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    questions: Optional[Path] = typer.Option(None, "--questions", help="File of questions (txt/csv/jsonl/xlsx): one JSON line per question."),
):
    """Show the passages hybrid retrieval finds for a question (BM25 + dense, fused by RRF)."""
    from .retrieval import get_retriever

    cfg = settings()
    ensure_store(cfg)
    retriever = get_retriever(cfg)
    if questions is not None:
        from .batch import read_questions

        rows, problems = read_questions(questions)
        for problem in problems:
            err(f"skipped: {problem}")
        for row in rows:
            result = retriever.search(row["question"], k)
            typer.echo(json.dumps({"id": row["id"], "question": row["question"],
                                   "passages": [p.public() for p in result.passages]}, ensure_ascii=False))
        return
    if question is None:
        raise PartnerbotError("Give a question, e.g. partnerbot search \"Who is accountable?\", or --questions FILE.")
    _print_passages(retriever.search(question, k), as_json)


@app.command()
def ask(
    question: str = typer.Argument(..., help="Your question, in English or Dutch."),
    mode: str = typer.Option("auto", "--mode", help="auto | rules | llm (auto = llm when an API key or base URL is set)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: question, answer, mode, verdict, citations."),
    stream: bool = typer.Option(False, "--stream", help="Print the answer as it arrives (LLM mode)."),
):
    """Answer a question with cited passages."""
    from .answer import Answer, get_answerer

    cfg = settings()
    ensure_store(cfg)
    answerer = get_answerer(cfg, mode)
    if stream and not as_json and hasattr(answerer, "stream"):
        final = None
        for piece in answerer.stream(question):
            if isinstance(piece, Answer):
                final = piece
            else:
                typer.echo(piece, nl=False)
        typer.echo("")
        typer.echo("--- verified answer ---")
        _print_answer(final)
        return
    result = answerer.answer(question)
    if as_json:
        typer.echo(json.dumps(result.to_dict(question), ensure_ascii=False, indent=2))
    else:
        _print_answer(result)


@app.command()
def batch(
    source: Path = typer.Argument(..., help="Questions: .csv/.xlsx with a 'question' column (optional 'id'), .txt one per line, or .jsonl."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output file (default: INPUT.answers.EXT next to the input)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="jsonl | csv | md | xlsx (default: from the output's extension)."),
    mode: str = typer.Option("auto", "--mode", help="auto | rules | llm."),
):
    """Answer a file of questions into JSONL, CSV, Markdown or Excel. Re-running resumes where it stopped."""
    from .batch import run_batch

    cfg = settings()
    ensure_store(cfg)
    report = run_batch(cfg, source, output, fmt, mode, progress=True, on_problem=err)
    err(report.summary())
    if report.interrupted:
        raise typer.Exit(130)
    if report.failed:
        raise typer.Exit(1)


@app.command("eval")
def eval_(
    path: Optional[Path] = typer.Argument(None, help="Eval questions: a .yaml/.jsonl file or a folder of them (default: tests/evals/)."),
    docs: Optional[List[Path]] = typer.Option(None, "--docs", help="Evaluate over these documents (repeat, or give a folder) in a temporary store, instead of the corpus."),
    k: int = typer.Option(5, "-k", "--top-k", min=1, max=10, help="Cut-off for hit@k."),
    mode: str = typer.Option("auto", "--mode", help="auto | rules | llm (how partnerbot answers)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full scores as JSON."),
):
    """Score retrieval (hit@k, MRR, nDCG@10) and answers, side by side with a naive LangChain baseline."""
    from .baseline import comparison_table, evaluate

    cfg = settings()
    for doc in docs or []:
        if not doc.exists():
            raise PartnerbotError(f"No such file or folder: {doc}. Check the --docs path.")
    if not docs:
        ensure_store(cfg)
    result = evaluate(cfg, path, docs or [], k, mode)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else comparison_table(result))


@app.command()
def classify(
    description: Optional[str] = typer.Argument(None, help="A relationship described in a few sentences (English or Dutch)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: stage, glick, roles, final_say, explanation, citations."),
    file: Optional[Path] = typer.Option(None, "--file", help="Descriptions: .csv/.xlsx with a 'description' column (optional 'id'), .txt one per line, or .jsonl."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="With --file: output file (default: INPUT.placements.EXT next to the input)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="With --file: jsonl | csv | md | xlsx (default: from the output's extension)."),
):
    """Place a relationship on the Totus series and Glick's range, with roles, final say and cited reasons."""
    cfg = settings()
    if file is not None:
        from .classify import run_classify

        ensure_store(cfg)
        report = run_classify(cfg, file, output, fmt, on_problem=err)
        err(report.summary())
        if report.interrupted:
            raise typer.Exit(130)
        if report.failed:
            raise typer.Exit(1)
        return
    if description is None:
        raise PartnerbotError("Describe a relationship, e.g. partnerbot classify \"We buy laptops once from a "
                              "webshop\", or give --file FILE.")
    from .explain import classifier

    ensure_store(cfg)
    record = classifier(cfg)(description)
    if as_json:
        typer.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    typer.echo(f"stage: {record['stage'] or 'not placed'} · glick: {record['glick'] or 'not placed'} · "
               f"client: {record['roles']['client'] or '?'} · contractor: {record['roles']['contractor'] or '?'} · "
               f"final say: {record['final_say']}")
    typer.echo(record["explanation"])
    for c in record["citations"]:
        typer.echo(f"  [{c['marker']}] {c['title']} — {c['source_title']} ({c['author']}) [{c['voice']}]")


def _print_answer(result) -> None:
    for notice in result.notices:
        typer.echo(f"note: {notice}")
    if result.rewritten_question:
        typer.echo(f"(understood as: {result.rewritten_question})")
    typer.echo(result.text)
    if result.verdict:
        typer.echo(f"verdict: {result.verdict}")
    for c in result.citations:
        badge = f"{c.voice}" + (f"; caveat: {c.caveat}" if c.caveat else "")
        typer.echo(f"  [{c.marker}] {c.title} — {c.source_title} ({c.author}) [{badge}]")
    typer.echo(f"mode: {result.mode}")


def main() -> None:
    """Entry point: run the app and turn PartnerbotErrors into one clear line and exit code 1."""
    try:
        code = app(standalone_mode=False)  # click returns Exit codes instead of raising in this mode
        if isinstance(code, int) and code:
            sys.exit(code)
    except PartnerbotError as exc:
        err(f"error: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err("aborted")
        sys.exit(1)
    except Exception as exc:  # usage errors come through here in non-standalone mode
        import click

        # typer >= 0.29 raises its vendored click's exceptions, which derive from TyperException, not click's
        if isinstance(exc, (click.ClickException, typer.TyperException)) and hasattr(exc, "format_message"):
            err(f"error: {exc.format_message()} (see partnerbot --help)")
            sys.exit(getattr(exc, "exit_code", 2))
        if type(exc).__module__.startswith("chromadb"):  # a store failure no layer above foresaw
            err(f"error: the store failed ({describe(exc)}): check free disk space and the "
                "store folder (or server), then try again.")
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
