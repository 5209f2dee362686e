"""The ``kg`` command: thin click commands over the library functions.

Each command parses its options, builds :class:`~kg.config.Settings`, calls one
function and maps :class:`~kg.errors.KGError` to its exit code.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from kg import __version__
from kg.config import Settings, load_settings
from kg.errors import KGError
from kg.formats import RDF_FORMATS, RESULT_FORMATS, QueryKind, output_format, output_formats
from kg.store import Store, open_store
from kg.validation.model import Severity
from kg.validation.render import RENDERERS, render

F = TypeVar("F", bound=Callable[..., Any])


class _Failure(click.ClickException):
    """A :class:`KGError` shown as ``Error: …`` with the error's own exit code.

    click declares ``exit_code`` a class variable, so each exit code has its own subclass
    (:func:`_failure`)."""


@functools.cache
def _failure_type(exit_code: int) -> type[_Failure]:
    """The :class:`_Failure` subclass that exits with ``exit_code``."""

    class Failure(_Failure):
        pass

    Failure.exit_code = exit_code
    return Failure


def _failure(error: KGError) -> _Failure:
    """``error`` as a click exception with the error's own exit code."""
    return _failure_type(error.exit_code)(str(error))


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except KGError as exc:
        raise _failure(exc) from None


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.ensure_object(dict)["settings"]
    return settings


@contextmanager
def _store(ctx: click.Context, *, read_only: bool = False) -> Iterator[Store]:
    with _errors():
        store = open_store(_settings(ctx), read_only=read_only)
    try:
        yield store
    finally:
        store.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
@click.option("--store", metavar="PATH|URL", help="Store directory (embedded) or SPARQL endpoint URL. [env KG_STORE]")
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    help="Corpus folder with documents/ and annotations/ (default: the bundled articles). [env KG_CORPUS]",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="A kg.toml file.")
@click.pass_context
def main(ctx: click.Context, store: str | None, corpus: Path | None, config_file: Path | None) -> None:
    """negotiation-kg: a knowledge graph of diplomatic negotiations, every fact tied to its source's words."""
    # An ill-typed literal ("aldi"^^xsd:integer) is data that SHACL reports on (sh:datatype),
    # not something for rdflib to log a traceback about.
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    with _errors():
        ctx.ensure_object(dict)["settings"] = load_settings(config_file=config_file, store=store, corpus=corpus)


@main.command()
@click.pass_context
def build(ctx: click.Context) -> None:
    """Build the dataset from documents and annotations, validate it, load the store.

    Exit 0 when loaded; 1 when an annotation cannot be built (file:line) or the dataset
    breaks the shapes — the store is then left exactly as it was.
    """
    from kg.build.dataset import build_into_store
    from kg.validation.render import render_text

    with _store(ctx) as store, _errors():
        result = build_into_store(store, _settings(ctx).corpus)
        if result.report.failed():
            click.echo(render_text(result.report), err=True, nl=False)
            raise click.ClickException("the dataset breaks the shapes; the store was not changed")
        click.echo(
            f"Built {result.documents} documents, {result.claims} claims, {len(result.graphs)} graphs, "
            f"{result.triples} triples into {_settings(ctx).store}",
            err=True,
        )


@main.command()
@click.argument("data", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--shapes", "shapes_files", multiple=True, type=click.Path(path_type=Path), help="Shapes files or folders (default: the project's)."
)
@click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="text", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice([s.value.lower() for s in Severity]),
    default="violation",
    show_default=True,
    help="The least severe result that fails the run.",
)
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), help="Known results: they are reported but do not fail the run.")
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every result of this run to a baseline file (and accept them for this run).",
)
@click.pass_context
def validate(
    ctx: click.Context,
    data: tuple[Path, ...],
    shapes_files: tuple[Path, ...],
    fmt: str,
    fail_on: str,
    baseline: Path | None,
    write_baseline: Path | None,
) -> None:
    """Validate the store, or DATA files and folders, against the SHACL shapes.

    Exit 0 passes, 1 a result not in the baseline is at least as severe as --fail-on,
    2 unusable input: data or shapes that cannot be read, or shapes that are not valid SHACL.
    """
    from kg.validation.run import ValidationRequest, run_validation

    severity = Severity(fail_on.capitalize())
    settings = _settings(ctx)
    request = ValidationRequest(data=data, shapes=shapes_files, baseline=baseline, write_baseline=write_baseline,
                                memory_mb=settings.validate_memory_mb, twin=settings.validate_twin)
    with _errors():
        if data:
            report = run_validation(request)
        else:
            with _store(ctx, read_only=True) as store:
                report = run_validation(request, store=store)
    click.echo(render(report, fmt, fail_on=severity), nl=False)
    ctx.exit(1 if report.failed(fail_on=severity) else 0)


_ALL_FORMATS = sorted({f.name for f in RESULT_FORMATS} | {f.name for f in RDF_FORMATS})


@main.command()
@click.argument("sparql")
@click.option("--format", "fmt", type=click.Choice(_ALL_FORMATS), help="Default: json for SELECT/ASK, turtle for CONSTRUCT/DESCRIBE.")
@click.pass_context
def query(ctx: click.Context, sparql: str, fmt: str | None) -> None:
    """Run a SPARQL query (or @FILE) against the store; the default graph is the union of all graphs."""
    if sparql.startswith("@"):
        try:
            sparql = Path(sparql[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"cannot read the query file {sparql[1:]}: {exc}", param_hint="SPARQL") from None
    with _store(ctx, read_only=True) as store, _errors():
        outcome = store.query(sparql)
        chosen = fmt or ("turtle" if outcome.kind is QueryKind.GRAPH else "json")
        allowed = ", ".join(f.name for f in output_formats(outcome.kind))
        if output_format(outcome.kind, chosen) is None:
            if outcome.kind is QueryKind.GRAPH:
                raise click.UsageError(f"--format {chosen} is for SELECT/ASK results; CONSTRUCT/DESCRIBE give RDF: {allowed}")
            raise click.UsageError(f"--format {chosen} is an RDF format; SELECT/ASK give {allowed}")
        outcome.serialize(sys.stdout.buffer, format_name=chosen)
        sys.stdout.flush()


@main.command()
@click.option("--format", "fmt", type=click.Choice(["nquads", "trig", "turtle", "ntriples", "jsonld"]), default="nquads", show_default=True)
@click.pass_context
def dump(ctx: click.Context, fmt: str) -> None:
    """Write the whole dataset to stdout (Turtle and N-Triples get the union of all graphs)."""
    with _store(ctx, read_only=True) as store, _errors():
        store.dump(sys.stdout.buffer, format_name=fmt)
        sys.stdout.flush()


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--graph", "graph", required=True, metavar="IRI", help="The named graph the files become.")
@click.option("--add", is_flag=True, help="Add to the graph instead of replacing it.")
@click.option("--agent", metavar="NAME", help="Who is recorded as the agent (default: cli:<user>).")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True,
              help="Format of the report when the files are rejected.")
@click.pass_context
def ingest(ctx: click.Context, files: tuple[Path, ...], graph: str, add: bool, agent: str | None, fmt: str) -> None:
    """Ingest RDF FILES into the named graph IRI: validated, all or nothing, with a receipt.

    Prints the receipt (JSON) on stdout. Exit 0 committed; 1 rejected by the shapes
    (the report on stdout, nothing written); 2 a file unreadable (file:line:column).
    """
    import json

    from kg.errors import ValidationFailed
    from kg.write.ingest import ingest_files

    total = sum(f.stat().st_size for f in files if f.is_file())
    limit = _settings(ctx).max_nesting

    def say(stage: str) -> None:
        click.echo(f"{stage.capitalize()}…", err=True)

    with _store(ctx) as store, _errors():
        try:
            if total >= _PROGRESS_BYTES:
                with click.progressbar(length=total, label="Reading", file=sys.stderr) as bar:
                    receipt = ingest_files(store, files, graph, add=add, agent=agent, progress=bar.update,
                                           on_stage=say, max_nesting=limit)
            else:
                receipt = ingest_files(store, files, graph, add=add, agent=agent, on_stage=say, max_nesting=limit)
        except ValidationFailed as exc:
            click.echo(RENDERERS[fmt](exc.report), nl=False)
            click.echo(f"Rejected: {exc.message.splitlines()[0]}", err=True)
            ctx.exit(1)
    click.echo(json.dumps(receipt.to_json(), indent=2))
    click.echo(f"Ingested into <{graph}>: +{receipt.added} −{receipt.removed} triples; receipt {receipt.iri}", err=True)


#: files at least this large get a progress bar on stderr
_PROGRESS_BYTES = 10_000_000


@main.group()
def token() -> None:
    """Write tokens: a client sends 'Authorization: Bearer <secret>'; the token's name is
    recorded as the agent of every change it makes. Stored hashed beside the store
    (setting tokens_file)."""


@token.command("create")
@click.argument("name")
@click.pass_context
def token_create(ctx: click.Context, name: str) -> None:
    """Create the token NAME and print its secret on stdout — the only time it is shown."""
    from kg.ops.tokens import create_token

    with _errors():
        secret = create_token(_settings(ctx), name)
    click.echo(secret)
    click.echo(f"Token {name!r} created; keep the secret now, it cannot be shown again.", err=True)


@token.command("list")
@click.pass_context
def token_list(ctx: click.Context) -> None:
    """List the tokens: name, when created, whether revoked (never a secret)."""
    from kg.ops.tokens import list_tokens

    with _errors():
        tokens = list_tokens(_settings(ctx))
    width = max([len("NAME"), *(len(t.name) for t in tokens)])
    click.echo(f"{'NAME':<{width}}  {'CREATED':<25}  STATUS")
    for t in tokens:
        click.echo(f"{t.name:<{width}}  {t.created.isoformat():<25}  {'revoked' if t.revoked else 'active'}")


@token.command("revoke")
@click.argument("name")
@click.pass_context
def token_revoke(ctx: click.Context, name: str) -> None:
    """Revoke the token NAME: requests bearing it are refused (403) from now on."""
    from kg.ops.tokens import revoke_token

    with _errors():
        revoke_token(_settings(ctx), name)
    click.echo(f"Token {name!r} revoked.", err=True)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, directory: Path) -> None:
    """Copy the store to the new DIRECTORY: a consistent snapshot, also while 'kg serve' runs.

    The copy is itself a store. Tokens are not included. Exit 0 done, 1 store error,
    2 DIRECTORY exists and is not empty.
    """
    from kg.ops.backup import backup_store

    with _errors():
        snapshot = backup_store(_settings(ctx), directory)
    click.echo(
        f"Backed up {snapshot.quads} quads ({snapshot.graphs} named graphs) to {snapshot.path}: {snapshot.method}",
        err=True,
    )


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that holds data.")
@click.pass_context
def restore(ctx: click.Context, directory: Path, force: bool) -> None:
    """Replace the store by the backup in DIRECTORY, all at once (stop 'kg serve' first).

    Exit 0 done, 1 store error (e.g. in use), 2 not a backup, or the store holds data
    and --force was not given.
    """
    from kg.ops.backup import restore_store

    with _errors():
        snapshot = restore_store(_settings(ctx), directory, force=force)
    click.echo(f"Restored {snapshot.quads} quads ({snapshot.graphs} named graphs) into {snapshot.path}", err=True)


@main.command("add-document")
@click.argument("text", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--meta", type=click.Path(dir_okay=False, path_type=Path),
              help="The document's metadata (title, author, datePublished, sha256). Default: TEXT with .yaml.")
@click.option("--annotations", "annotations_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Its annotations: claims with verbatim quotes, like data/annotations/<id>.yaml.")
@click.option("--agent", metavar="NAME", help="Who is recorded as the agent (default: cli:<user>).")
@click.pass_context
def add_document_command(
    ctx: click.Context, text: Path, meta: Path | None, annotations_file: Path, agent: str | None
) -> None:
    """Add a source document TEXT to the store, built like the seed articles, in its own graph.

    Entities and claims already in the store may be named. The graph passes the SHACL
    gate and is committed with a receipt (printed as JSON). Adding the same document
    again replaces its graph. Exit 0 added; 1 an annotation cannot be built (file:line)
    or the graph breaks the shapes — the store is then unchanged; 2 unreadable input.
    """
    import json

    from kg.build.add_document import add_document
    from kg.write.ingest import local_agent

    with _store(ctx) as store, _errors():
        added = add_document(
            store, text, meta=meta or text.with_suffix(".yaml"), annotations=annotations_file,
            agent=agent or local_agent(),
        )
    click.echo(json.dumps(added.receipt.to_json(), indent=2))
    extra = f", {len(added.new_entities)} new entities" if added.new_entities else ""
    click.echo(f"Added document {added.document}: {added.claims} claims{extra} into <{added.graph}>", err=True)


@main.group()
def ontology() -> None:
    """Work with the OWL ontology."""


@ontology.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def ontology_check(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Reason over ontology + data with HermiT and run the quality checks.

    Data is the store, or FILES. Exit 0 consistent and clean, 1 inconsistent or a
    check returned rows (the offending individuals are listed), 3 reasoner unavailable.
    """
    from kg.rdfio import read_graph
    from kg.validation.ontology import check_ontology

    with _errors():
        if files:
            data = read_graph(files)
        else:
            with _store(ctx, read_only=True) as store:
                data = store.union_graph()
        result = check_ontology(data)
    click.echo(result.render(), nl=False)
    ctx.exit(0 if result.ok else 1)


@main.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1). [env KG_HOST]")
@click.option("--port", type=int, help="Port (default 8000). [env KG_PORT]")
@click.option("--read-only", is_flag=True, default=None, help="Open the store read-only.")
@click.option("--get", "get_path", metavar="PATH", help="Answer one GET request for PATH and exit (no socket).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, read_only: bool | None, get_path: str | None) -> None:
    """Serve the SPARQL endpoint, linked data and the query page (builds the store first if empty)."""
    from kg.build.dataset import build_into_store
    from kg.server import create_app

    with _errors():
        settings = _settings(ctx).replace(host=host, port=port, read_only=read_only)
        if not settings.read_only:
            with _store(ctx) as store:
                if store.is_empty():
                    click.echo(f"The store at {settings.store} is empty: building it first…", err=True)
                    result = build_into_store(store, settings.corpus)
                    if result.report.failed():
                        raise click.ClickException("the dataset breaks the shapes; nothing was loaded")
        app = create_app(settings)
    if get_path is not None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from fastapi.testclient import TestClient

        with TestClient(app) as client:
            response = client.get(get_path)
        click.echo(response.text, nl=False)
        ctx.exit(0 if response.status_code < 400 else 1)
    import uvicorn

    click.echo(f"Serving on http://{settings.host}:{settings.port}/  (SPARQL at /sparql)", err=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
