"""Commands that read: ``kg validate``, ``kg query``, ``kg dump``."""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli.common import KgCommand, errors, fail, open_kg_store, output, read_argument, settings, stdout_is_terminal
from kg.formats import QueryKind
from kg.validation.model import Severity
from kg.validation.render import RENDERERS, render

__all__ = ["dump", "query", "validate"]

_OUTPUT = click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False, path_type=Path),
                       help="Write to FILE instead of stdout (whole or not at all).")


@click.command(cls=KgCommand)
@click.argument("data", nargs=-1, type=click.Path(path_type=Path))
@click.option("--shapes", "shapes_files", multiple=True, type=click.Path(path_type=Path),
              help="Shapes files or folders (default: the project's).")
@click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice([s.value.lower() for s in Severity]), default="violation",
              show_default=True, help="The least severe result that fails the run.")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Known results: they are reported but do not fail the run.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every result of this run to a baseline file (and accept them for this run).")
@_OUTPUT
@click.pass_context
def validate(ctx: click.Context, data: tuple[Path, ...], shapes_files: tuple[Path, ...], fmt: str, fail_on: str,
             baseline: Path | None, write_baseline: Path | None, output_file: Path | None) -> None:
    """Check the store, or DATA files and folders, against the SHACL shapes.

    Exit 0 passes; 1 a result not in the baseline is at least as severe as --fail-on;
    2 unusable input: data or shapes that cannot be read, shapes that are not valid SHACL,
    or a store that is missing.
    """
    from kg.validation.run import ValidationRequest, run_validation

    severity = Severity(fail_on.capitalize())
    chosen = settings(ctx)
    request = ValidationRequest(data=data, shapes=shapes_files, baseline=baseline, write_baseline=write_baseline,
                                memory_mb=chosen.validate_memory_mb, twin=chosen.validate_twin)
    if data:
        with errors():
            report = run_validation(request)
    else:
        with open_kg_store(ctx, read_only=True) as store, errors():
            report = run_validation(request, store=store)
    with output(output_file, binary=False) as out:
        out.write(render(report, fmt, fail_on=severity))
    ctx.exit(1 if report.failed(fail_on=severity) else 0)


def _format_help() -> str:
    from kg.sparql.results import QUERY_FORMATS

    kinds = {QueryKind.SOLUTIONS: "SELECT", QueryKind.BOOLEAN: "ASK", QueryKind.GRAPH: "CONSTRUCT/DESCRIBE"}
    listed = "; ".join(f"{kinds[k]}: {', '.join(v)}" for k, v in QUERY_FORMATS.items())
    return (f"{listed}. Default: table on a terminal (turtle for CONSTRUCT/DESCRIBE), else json "
            "(turtle), or what the -o file's extension says.")


def _query_formats() -> list[str]:
    from kg.sparql.results import ALL_QUERY_FORMATS

    return list(ALL_QUERY_FORMATS)


#: file extensions ``-o`` may imply a format by
_EXTENSIONS = {"json": "json", "srj": "json", "xml": "xml", "srx": "xml", "csv": "csv", "tsv": "tsv", "txt": "table",
               "ttl": "turtle", "nt": "ntriples", "jsonld": "jsonld", "rdf": "rdfxml"}


def _default_format(kind: QueryKind, output_file: Path | None) -> str:
    from kg.sparql.results import QUERY_FORMATS

    if output_file is not None:
        implied = _EXTENSIONS.get(output_file.suffix.lower().lstrip("."))
        if implied in QUERY_FORMATS[kind]:
            return implied
    if kind is QueryKind.GRAPH:
        return "turtle"
    return "table" if output_file is None and stdout_is_terminal() else "json"


@click.command(cls=KgCommand)
@click.argument("sparql", metavar="SPARQL|@FILE")
@click.option("--format", "fmt", type=click.Choice(_query_formats()), help=_format_help())
@_OUTPUT
@click.pass_context
def query(ctx: click.Context, sparql: str, fmt: str | None, output_file: Path | None) -> None:
    """Run a SPARQL query (text, or @FILE; @- reads stdin) on the store; the default graph is every graph.

    Columns come in the order the query names them (for SELECT *, the order they appear in).
    Exit 0 answered; 2 a query that does not parse, a format that cannot hold its result,
    or a store that is missing.
    """
    from kg.sparql.results import query_form, refusal, write_result

    text = read_argument(sparql, what="query", param="SPARQL")
    with open_kg_store(ctx, read_only=True) as store, errors():
        outcome = store.query(text)
        chosen = fmt or _default_format(outcome.kind, output_file)
        refused = refusal(outcome.kind, chosen, form=query_form(text))
        if refused is not None:
            raise fail(refused, 2)
        try:
            with output(output_file) as out:
                write_result(outcome.kind, outcome.result, out, format_name=chosen, query=text)
        except BrokenPipeError:  # the reader (head, less) stopped reading: nothing more to say
            ctx.exit(0)
        except (OSError, ValueError) as exc:  # evaluation is lazy: errors can surface while writing
            raise fail(f"the query failed while its results were written: {exc}", 2) from None


@click.command(cls=KgCommand)
@click.option("--format", "fmt", type=click.Choice(["nquads", "trig", "turtle", "ntriples", "jsonld"]),
              default="nquads", show_default=True)
@_OUTPUT
@click.pass_context
def dump(ctx: click.Context, fmt: str, output_file: Path | None) -> None:
    """Write the whole dataset to stdout or -o FILE (Turtle and N-Triples get the union of every graph).

    Exit 0 written; 2 a store that is missing.
    """
    with open_kg_store(ctx, read_only=True) as store, errors(), output(output_file) as out:
        store.dump(out, format_name=fmt)
