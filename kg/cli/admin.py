"""Commands that look after the store and serve it: ``kg serve``, ``kg token``, ``kg backup``,
``kg restore``, ``kg ontology check``."""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli.common import KgCommand, KgGroup, errors, is_quiet, open_kg_store, say, settings
from kg.cli.progress import progress

__all__ = ["backup", "ontology", "restore", "serve", "token"]


@click.group(cls=KgGroup)
def token() -> None:
    """Write tokens for the HTTP API: create, list, revoke.

    A client sends 'Authorization: Bearer <secret>'; the token's name is recorded as the agent
    of every change it makes. Stored hashed beside the store (setting tokens_file).
    """


@token.command("create")
@click.argument("name")
@click.pass_context
def token_create(ctx: click.Context, name: str) -> None:
    """Create the token NAME and print its secret on stdout, the only time it is shown.

    Exit 0 created; 2 a name that is not valid or is taken.
    """
    from kg.ops.tokens import create_token

    with errors():
        secret = create_token(settings(ctx), name)
    click.echo(secret)
    say(ctx, f"Token {name!r} created; keep the secret now, it cannot be shown again.")


@token.command("list")
@click.pass_context
def token_list(ctx: click.Context) -> None:
    """List the tokens: name, when created, whether revoked (never a secret)."""
    from kg.ops.tokens import list_tokens

    with errors():
        tokens = list_tokens(settings(ctx))
    width = max([len("NAME"), *(len(t.name) for t in tokens)])
    click.echo(f"{'NAME':<{width}}  {'CREATED':<25}  STATUS")
    for t in tokens:
        click.echo(f"{t.name:<{width}}  {t.created.isoformat():<25}  {'revoked' if t.revoked else 'active'}")


@token.command("revoke")
@click.argument("name")
@click.pass_context
def token_revoke(ctx: click.Context, name: str) -> None:
    """Revoke the token NAME: requests bearing it are refused (403) from now on.

    Exit 0 revoked; 2 no such token.
    """
    from kg.ops.tokens import revoke_token

    with errors():
        revoke_token(settings(ctx), name)
    say(ctx, f"Token {name!r} revoked.")


@click.command(cls=KgCommand)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, directory: Path) -> None:
    """Copy the store to the new DIRECTORY: a consistent snapshot, also while kg serve runs.

    The copy is itself a store. Tokens are not included. Exit 0 done, 1 store error,
    2 DIRECTORY exists and is not empty, or no store to copy.
    """
    from kg.ops.backup import backup_store

    with progress(label="Backing up", quiet=is_quiet(ctx), mode=settings(ctx).progress), errors():
        snapshot = backup_store(settings(ctx), directory)
    say(ctx, f"Backed up {snapshot.quads} quads ({snapshot.graphs} named graphs) to {snapshot.path}: {snapshot.method}")


@click.command(cls=KgCommand)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that holds data.")
@click.pass_context
def restore(ctx: click.Context, directory: Path, force: bool) -> None:
    """Replace the store by the backup in DIRECTORY, all at once (stop kg serve first).

    Exit 0 done, 1 store error, 2 not a backup, or the store holds data and --force was
    not given, 4 the store is in use (a running kg serve: stop it first).
    """
    from kg.ops.backup import restore_store

    with progress(label="Restoring", quiet=is_quiet(ctx), mode=settings(ctx).progress), errors():
        snapshot = restore_store(settings(ctx), directory, force=force)
    say(ctx, f"Restored {snapshot.quads} quads ({snapshot.graphs} named graphs) into {snapshot.path}")


@click.group(cls=KgGroup)
def ontology() -> None:
    """Work with the OWL ontology: kg ontology check."""


@ontology.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def ontology_check(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Reason over the ontology and the data with HermiT, and run the quality checks.

    Data is the store, or FILES. Exit 0 consistent and clean; 1 inconsistent or a check
    returned rows (the offending individuals are listed); 2 unreadable input or no store;
    3 the reasoner cannot run (no Java).
    """
    from kg.rdfio import read_graph
    from kg.validation.ontology import check_ontology

    if files:
        with errors():
            data = read_graph(files)
    else:
        with open_kg_store(ctx, read_only=True) as store, errors():
            data = store.union_graph()
    with progress(label="Reasoning", quiet=is_quiet(ctx), mode=settings(ctx).progress), errors():
        result = check_ontology(data)
    click.echo(result.render(), nl=False)
    ctx.exit(0 if result.ok else 1)


@click.command(cls=KgCommand)
@click.option("--host", help="Interface to listen on (default 127.0.0.1). [env KG_HOST]")
@click.option("--port", type=int, help="Port (default 8000). [env KG_PORT]")
@click.option("--read-only", is_flag=True, default=None, help="Open the store read-only (beside another writer).")
@click.option("--get", "get_path", metavar="PATH", help="Answer one GET request for PATH and exit (no socket).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, read_only: bool | None, get_path: str | None) -> None:
    """Serve the SPARQL endpoint, linked data and the query page (builds the store first if empty).

    While it runs, kg build, ingest, update and add-document on the same store go through it.
    Exit 0 stopped; 1 the first build breaks the shapes; 2 a store that cannot be opened;
    4 the store is held by another process (named in the message).
    """
    from kg.build.dataset import build_into_store
    from kg.server import create_app

    with errors():
        chosen = settings(ctx).replace(host=host, port=port, read_only=read_only)
    if not chosen.read_only:
        with open_kg_store(ctx, using=chosen) as store, errors():
            if store.is_empty():
                say(ctx, f"The store at {chosen.store} is empty: building it first…")
                result = build_into_store(store, chosen.corpus)
                if result.report.failed():
                    raise click.ClickException("the dataset breaks the shapes; nothing was loaded")
    with errors():
        app = create_app(chosen)
    if get_path is not None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from fastapi.testclient import TestClient

        with TestClient(app) as client:
            response = client.get(get_path)
        click.echo(response.text, nl=not response.text.endswith("\n"))
        ctx.exit(0 if response.status_code < 400 else 1)
    import uvicorn

    say(ctx, f"Serving on http://{chosen.host}:{chosen.port}/  (SPARQL at /sparql)")
    uvicorn.run(app, host=chosen.host, port=chosen.port, log_level="warning" if is_quiet(ctx) else "info")
