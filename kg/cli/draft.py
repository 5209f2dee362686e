"""``kg draft``: proposed annotations for a new document, to review and publish with ``kg add-document``.

The gazetteer is the store's (every entity's labels and aliases), or a gazetteer file
(``--entities``); the backend is the ``draft_backend`` setting or ``--backend``. The draft is
written whole or not at all; what the drafter could not find is listed in its ``draft:`` block
and on stderr.
"""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli.common import KgCommand, errors, open_kg_store, say, settings

__all__ = ["draft"]


@click.command(cls=KgCommand)
@click.argument("text", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--meta", type=click.Path(dir_okay=False, path_type=Path),
              help="Metadata to use instead of what the text gives (title, author id, datePublished, id).")
@click.option("-o", "--output", "output_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The draft annotation file to write (whole or not at all).")
@click.option("--entities", "entities_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A gazetteer file (like data/annotations/entities.yaml) instead of the store's entities.")
@click.option("--backend", type=click.Choice(["rules", "spacy", "openai"]),
              help="rules (offline, the default), spacy (an installed pipeline) or openai (a chat endpoint). "
                   "[setting draft_backend]")
@click.option("--endpoint", metavar="URL", help="The OpenAI-compatible endpoint's base URL. [setting draft_endpoint]")
@click.option("--model", metavar="NAME", help="The chat model, or the spaCy pipeline. [setting draft_model]")
@click.pass_context
def draft(ctx: click.Context, text: Path, meta: Path | None, output_file: Path, entities_file: Path | None,
          backend: str | None, endpoint: str | None, model: str | None) -> None:
    """Draft annotations for the document TEXT: claims with verbatim quotes, claimants, stances
    with their hedges and conditions, estimates, and the metadata the text gives.

    `kg add-document TEXT --annotations FILE` publishes the draft unchanged, and its graph says
    it was drafted. Exit 0 written; 2 unusable input (an empty, binary or non-English text, no
    sentences, a store or endpoint that cannot be read).
    """
    from kg.draft.backends.openai import ChatBackend
    from kg.draft.backends.rules import RulesBackend
    from kg.draft.backends.spacy import SpacyBackend
    from kg.draft.drafter import document_id, draft_document, given_metadata, write_draft
    from kg.draft.gazetteer import Gazetteer

    chosen = settings(ctx).replace(draft_backend=backend, draft_endpoint=endpoint, draft_model=model)
    with errors():
        if chosen.draft_backend == "openai":
            if not chosen.draft_endpoint:
                raise click.UsageError("the openai backend needs --endpoint URL (or the draft_endpoint setting)")
            engine: RulesBackend | SpacyBackend | ChatBackend = ChatBackend(
                chosen.draft_endpoint, model=chosen.draft_model or "default", api_key=chosen.draft_api_key)
        elif chosen.draft_backend == "spacy":
            engine = SpacyBackend(chosen.draft_model or "en_core_web_sm")
        else:
            engine = RulesBackend()
        if entities_file is not None:
            gazetteer, known = Gazetteer.from_file(entities_file), None
            others: set[str] = set()
        else:
            from kg.build.add_document import claims_elsewhere, known_entities
            from kg.build.rdfize import document_graph_iri

            with open_kg_store(ctx, read_only=True) as store:
                outside = document_graph_iri(document_id(text, given_metadata(meta)))
                gazetteer = Gazetteer.from_store(store, outside=str(outside))
                known, others = known_entities(store, outside=outside), claims_elsewhere(store, outside=outside)
        result = draft_document(text, gazetteer, backend=engine, meta=meta, known=known, other_claims=others)
        write_draft(result, output_file)
    for line in [*result.draft.not_found, *result.draft.dropped]:
        say(ctx, f"not found: {line}")
    say(ctx, f"Drafted {len(result.draft.claims)} claims of {result.draft.document} into {output_file} "
             f"({result.draft.method}); review them, then: kg add-document {text} --annotations {output_file}")
