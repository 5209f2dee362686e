"""The ``kg`` command: thin click commands over the library functions.

Each command parses its options, builds :class:`~kg.config.Settings` (:func:`kg.cli.common.settings`),
calls one library function and maps :class:`~kg.errors.KGError` to its exit code. The
commands live by what they do: :mod:`kg.cli.read` (validate, query, dump), :mod:`kg.cli.write`
(build, ingest, update, add-document: through the running server when it holds the store),
:mod:`kg.cli.admin` (serve, tokens, backup and restore, the ontology check), :mod:`kg.cli.score`
(a draft's score against curated annotations).

Exit codes, the same for every command: 0 done; 1 the data breaks the shapes, a build error or a
store error; 2 unusable input (a file, a query, an option, a store that is missing or cannot be
opened); 3 the reasoner cannot run; 4 another process holds the store for writing.
"""

from __future__ import annotations

import logging

import click

from kg import __version__
from kg.cli.admin import backup, ontology, restore, serve, token
from kg.cli.common import KgGroup
from kg.cli.draft import draft
from kg.cli.read import dump, query, validate
from kg.cli.score import score
from kg.cli.write import add_document_command, build, ingest, update

__all__ = ["main"]


@click.group(cls=KgGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="kg")
def main() -> None:
    """negotiation-kg: a knowledge graph of diplomatic negotiations, every fact tied to its source's words.

    Global options (--store, --corpus, --config, --quiet) go before or after the command.
    Exit codes: 0 done · 1 the data breaks the shapes, or a build or store error · 2 unusable
    input (file, query, option, or a store that is missing or cannot be opened) · 3 the
    reasoner cannot run · 4 another process holds the store for writing.
    """
    # An ill-typed literal ("aldi"^^xsd:integer) is data that SHACL reports on (sh:datatype),
    # not something for rdflib to log a traceback about.
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)


for _command in (build, validate, query, dump, ingest, update, add_document_command, serve, token, backup, restore,
                 ontology, draft, score):
    main.add_command(_command)
