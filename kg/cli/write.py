"""Commands that write: ``kg build``, ``kg ingest``, ``kg update``, ``kg add-document``.

Each describes its write as a request and hands it to :func:`kg.ops.writes.perform`, which
makes it here or, when a ``kg serve`` holds the store, through that server. A rejected write
prints its SHACL report (stdout; ``--report`` picks the format) and exits 1; the receipt of a
committed one is printed as JSON on stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from kg.cli.common import KgCommand, errors, fail, is_quiet, read_argument, say, settings
from kg.cli.progress import progress
from kg.errors import ValidationFailed
from kg.formats import RDF_FORMATS
from kg.ops.control import Control
from kg.ops.writes import (
    BuildRequest,
    DocumentRequest,
    IngestRequest,
    UpdateRequest,
    WriteOutcome,
    WriteRequest,
    perform,
    rejection_text,
)
from kg.validation.render import RENDERERS

__all__ = ["add_document_command", "build", "ingest", "update"]

_AGENT = click.option("--agent", metavar="NAME", help="Who is recorded as the agent (default: cli:<user>).")
_REPORT = click.option("--report", "report_format", type=click.Choice(list(RENDERERS)), default="text",
                       show_default=True, help="Format of the SHACL report when the write is refused.")


def _run(ctx: click.Context, request: WriteRequest, *, label: str, report_format: str = "text",
         total_bytes: int | None = None, report_to_stderr: bool = False) -> WriteOutcome:
    """Perform ``request`` with progress on a terminal; a refusal prints its report and exits 1."""
    chosen = settings(ctx)

    def via_server(control: Control) -> None:
        say(ctx, f"The store is held by kg serve at {control.url} (pid {control.pid}): it makes this write.")
        bar.stage("waiting for the server")

    with progress(label=label, total_bytes=total_bytes, quiet=is_quiet(ctx), mode=chosen.progress) as bar, errors():
        try:
            done = perform(chosen, request, doing=ctx.command_path, report_format=report_format,
                           progress=bar.advance, on_stage=bar.stage, on_server=via_server)
        except ValidationFailed as exc:
            report = rejection_text(exc, report_format)
            if report_to_stderr:
                say(ctx, report.rstrip("\n"))
            else:
                click.echo(report, nl=False)
            raise fail(exc.message.splitlines()[0], 1) from None
    return done


def _show(ctx: click.Context, done: WriteOutcome) -> None:
    if done.receipt is not None:
        click.echo(json.dumps(done.receipt, indent=2, ensure_ascii=False))
    say(ctx, done.summary + (f" (by {done.by})" if done.by else ""))


@click.command(cls=KgCommand)
@click.pass_context
def build(ctx: click.Context) -> None:
    """Build the dataset from the documents and annotations, check it, load it into the store.

    Exit 0 loaded; 1 an annotation cannot be built (file:line) or the dataset breaks the
    shapes (the store is then left exactly as it was); 2 unreadable input; 4 the store is
    held by another process that is not a server.
    """
    corpus = settings(ctx).corpus
    request = BuildRequest(str(corpus.resolve()) if corpus is not None else None)
    _show(ctx, _run(ctx, request, label="Building", report_to_stderr=True))


@contextmanager
def _inputs(files: tuple[str, ...], fmt: str | None) -> Iterator[list[tuple[str, str, str]]]:
    """(path, format, label) per input; ``-`` (stdin) is copied to a temporary file first."""
    from kg.write.ingest import STDIN, IngestFile, spool

    spooled: list[Path] = []
    try:
        out = []
        for name in files:
            if name == STDIN:
                if fmt is None:
                    raise fail("reading stdin (-) needs --format: the data has no file name to tell its format", 2)
                path = spool(sys.stdin.buffer)
                spooled.append(path)
                out.append((str(path), fmt, "stdin"))
                continue
            with errors():
                found = IngestFile.of(Path(name), fmt)
            out.append((str(found.path.resolve()), found.format.name, found.label))
        yield out
    finally:
        for path in spooled:
            path.unlink(missing_ok=True)


@click.command(cls=KgCommand)
@click.argument("files", nargs=-1, required=True, metavar="FILE…|-")
@click.option("--graph", metavar="IRI",
              help="The named graph the triples go into. Without it, TriG, N-Quads and JSON-LD files go into "
                   "the graphs they name.")
@click.option("--format", "fmt", type=click.Choice([f.name for f in RDF_FORMATS]),
              help="The format of the input (needed for stdin; default: from each file's extension).")
@click.option("--add", is_flag=True, help="Add to the graph instead of replacing it.")
@_AGENT
@_REPORT
@click.pass_context
def ingest(ctx: click.Context, files: tuple[str, ...], graph: str | None, fmt: str | None, add: bool,
           agent: str | None, report_format: str) -> None:
    """Ingest RDF files (or - for stdin) into the store: validated, all or nothing, with a receipt.

    Every RDF format is read: Turtle, N-Triples, RDF/XML, N3, TriG, N-Quads, JSON-LD. Prints
    the receipt (JSON) on stdout. Exit 0 committed; 1 refused by the shapes (the report on
    stdout, nothing written); 2 unreadable input (file:line:column); 4 the store is held by
    another process that is not a server.
    """
    from kg.write.ingest import local_agent

    with _inputs(files, fmt) as inputs:
        total = sum(Path(p).stat().st_size for p, _, _ in inputs)
        request = IngestRequest(tuple(inputs), graph, add, agent or local_agent())
        done = _run(ctx, request, label="Ingesting", report_format=report_format, total_bytes=total)
    _show(ctx, done)


@click.command(cls=KgCommand)
@click.argument("update_text", metavar="UPDATE|@FILE")
@_AGENT
@_REPORT
@click.pass_context
def update(ctx: click.Context, update_text: str, agent: str | None, report_format: str) -> None:
    """Apply a SPARQL 1.1 Update (text, or @FILE; @- reads stdin) through the gate every write passes.

    LOAD and SERVICE reach only the hosts the service_allow setting allows. Prints the receipt
    (JSON) on stdout. Exit 0 committed; 1 refused by the shapes (the report on stdout, nothing
    written); 2 an update that does not parse or is not allowed; 4 the store is held by
    another process that is not a server.
    """
    from kg.write.ingest import local_agent

    text = read_argument(update_text, what="update", param="UPDATE")
    source = f"kg update {update_text}" if update_text.startswith("@") and update_text != "@-" else "kg update"
    request = UpdateRequest(text, agent or local_agent(), source)
    _show(ctx, _run(ctx, request, label="Updating", report_format=report_format))


@click.command("add-document", cls=KgCommand)
@click.argument("text", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--meta", type=click.Path(dir_okay=False, path_type=Path),
              help="The document's metadata (title, author, datePublished; sha256 optional, checked when given). "
                   "Default: TEXT with .yaml, else the metadata: block of a draft (kg draft).")
@click.option("--annotations", "annotations_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Its annotations: claims with verbatim quotes, like data/annotations/<id>.yaml.")
@_AGENT
@_REPORT
@click.pass_context
def add_document_command(ctx: click.Context, text: Path, meta: Path | None, annotations_file: Path,
                         agent: str | None, report_format: str) -> None:
    """Add a source document TEXT, built like the seed articles, into its own graph.

    Entities and claims already in the store may be named. The graph passes the SHACL gate
    and is committed with a receipt (printed as JSON). Adding the same document again
    replaces its graph. Exit 0 added; 1 annotations that cannot be built (every problem
    listed, file:line) or a graph that breaks the shapes (the store is then unchanged);
    2 unreadable input; 4 the store is held by another process that is not a server.
    """
    from kg.write.ingest import local_agent

    request = DocumentRequest(str(text.resolve()), str(meta.resolve()) if meta else None,
                              str(annotations_file.resolve()), agent or local_agent())
    _show(ctx, _run(ctx, request, label="Adding the document", report_format=report_format))
