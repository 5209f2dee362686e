"""The only place resource IRIs are minted, and the one check of IRIs that come from outside.

IRIs are deterministic functions of a kind and a slug, so two builds of the same
annotations give the same IRIs and researchers can cite them. An IRI a client or a user
hands in (a graph to read or write, a query's dataset) passes :func:`check_iri` before
anything else sees it.
"""

from __future__ import annotations

import re
from enum import Enum

import pyoxigraph as ox
from rdflib import URIRef

from kg.errors import InputError
from kg.namespaces import RESOURCE_BASE, WD

__all__ = [
    "Kind",
    "SLUG_PATTERN",
    "check_iri",
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


#: characters no IRI may hold (RFC 3987 and the SPARQL ``IRIREF`` terminal): controls, space,
#: DEL and the C1 controls U+0080–U+009F, and the delimiters ``<>"{}|^`\\``
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f-\x9f]')
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def check_iri(value: str, *, what: str = "IRI") -> str:
    """``value`` when it is an absolute IRI; otherwise :class:`~kg.errors.InputError` naming
    ``what`` (``"graph"``, ``"default-graph-uri"``…) and the first character at fault.

    Graph IRIs reach the store from query strings, form fields, the URL of a direct Graph
    Store request and the command line. Unchecked, pyoxigraph refuses some with a
    ``ValueError`` deep in a request (a 500), a remote server refuses others, and one with a
    ``>`` written into SPARQL text between ``<…>`` ends the IRI early and makes the rest
    code. So every IRI from outside passes here first: the characters the grammar excludes
    are named by position, and what is left must be an IRI pyoxigraph accepts.

    >>> check_iri("http://example.org/g")
    'http://example.org/g'
    """
    bad = _NOT_IN_IRI.search(value)
    if bad is not None:
        raise InputError(f"{what} {value!r} is not an IRI: character U+{ord(bad.group()):04X} at position "
                         f"{bad.start() + 1} is not allowed in an IRI")
    if not _SCHEME.match(value):
        raise InputError(f"{what} {value!r} is not an absolute IRI (it needs a scheme such as http:)")
    try:
        ox.NamedNode(value)
    except ValueError as exc:
        raise InputError(f"{what} {value!r} is not an IRI: {exc}") from None
    return value


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
    """A fragment of a resource's IRI for the nodes hanging off it (a claim's evidence, selectors and
    statements; a document graph's drafting record)."""
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
