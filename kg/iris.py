"""The only place resource IRIs are minted.

IRIs are deterministic functions of a kind and a slug, so two builds of the same
annotations give the same IRIs and researchers can cite them.
"""

from __future__ import annotations

import re
from enum import Enum

from rdflib import URIRef

from kg.namespaces import RESOURCE_BASE, WD

__all__ = [
    "Kind",
    "SLUG_PATTERN",
    "is_slug",
    "mint",
    "parse",
    "wikidata",
    "claim_part",
    "graph_iri",
    "staging_graph",
    "activity_iri",
    "agent_iri",
    "DEFAULT_GRAPH",
    "PROVENANCE_GRAPH",
]

#: A slug: lower-case ASCII letters and digits, words joined by ``-`` or ``_``.
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_QID = re.compile(r"^Q[1-9][0-9]*$")


class Kind(str, Enum):
    """The kinds of resource in ``https://w3id.org/negotiation-kg/id/{kind}/{slug}``."""

    ACTOR = "actor"
    PLACE = "place"
    MEETING = "meeting"
    PROPOSAL = "proposal"
    CLAIM = "claim"
    DOCUMENT = "document"
    GRAPH = "graph"


def is_slug(value: str) -> bool:
    """True when ``value`` can be used as a slug."""
    return bool(SLUG_PATTERN.match(value))


def mint(kind: Kind, slug: str) -> URIRef:
    """The IRI of the resource ``slug`` of ``kind``.

    >>> str(mint(Kind.ACTOR, "vladimir-putin"))
    'https://w3id.org/negotiation-kg/id/actor/vladimir-putin'
    """
    if not is_slug(slug):
        raise ValueError(f"not a slug: {slug!r} (lower-case letters, digits, '-' or '_')")
    return URIRef(f"{RESOURCE_BASE}{Kind(kind).value}/{slug}")


def parse(iri: str) -> tuple[Kind, str] | None:
    """The (kind, slug) of a resource IRI minted here, or None for any other IRI."""
    if not iri.startswith(RESOURCE_BASE):
        return None
    rest = iri[len(RESOURCE_BASE):].split("#", 1)[0]
    kind, _, slug = rest.partition("/")
    try:
        k = Kind(kind)
    except ValueError:
        return None
    return (k, slug) if is_slug(slug) else None


def claim_part(claim: URIRef, part: str) -> URIRef:
    """A fragment of a claim's IRI for the nodes hanging off it (evidence, selectors, statements)."""
    return URIRef(f"{claim}#{part}")


def graph_iri(slug: str) -> URIRef:
    """The IRI of a named graph (one per source)."""
    return mint(Kind.GRAPH, slug)


def staging_graph(token: str) -> URIRef:
    """The IRI of a staging graph: where a write's triples wait until it commits.

    Staging graphs are never data: listings, dumps and the union leave them out, and
    the next writable open of the store drops any a killed writer left behind.
    """
    return URIRef(f"{RESOURCE_BASE}{Kind.GRAPH.value}/staging-{token}")


#: the graph that holds triples written to the SPARQL/Graph Store "default graph"
#: (the default graph that queries see stays the union of every named graph)
DEFAULT_GRAPH = URIRef(f"{RESOURCE_BASE}{Kind.GRAPH.value}/default")
#: the graph of write receipts: one ``prov:Activity`` per committed write
PROVENANCE_GRAPH = URIRef(f"{RESOURCE_BASE}{Kind.GRAPH.value}/provenance")


def activity_iri(token: str) -> URIRef:
    """The IRI of one write's receipt (a ``prov:Activity`` in the provenance graph)."""
    return URIRef(f"{PROVENANCE_GRAPH}#activity-{token}")


def agent_iri(name: str) -> URIRef:
    """The IRI of the agent (a token name) a write's receipt names."""
    from urllib.parse import quote

    return URIRef(f"{PROVENANCE_GRAPH}#agent-{quote(name, safe='')}")


def wikidata(qid: str) -> URIRef:
    """The Wikidata entity IRI for a QID such as ``Q7747``."""
    if not _QID.match(qid):
        raise ValueError(f"not a Wikidata QID: {qid!r}")
    return WD[qid]
