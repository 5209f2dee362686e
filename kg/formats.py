"""One table of formats: name ↔ media type ↔ file extension ↔ pyoxigraph/rdflib format.

The CLI's ``--format`` choices, file-type guessing and (in the server) Accept
negotiation all read these tables, so a format is added in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pyoxigraph as ox

from kg.errors import NotAcceptableError, UnsupportedMediaTypeError

__all__ = [
    "rdf_extensions",
    "rdf_format_of_body",
    "RdfFormatInfo",
    "ResultFormatInfo",
    "RDF_FORMATS",
    "RESULT_FORMATS",
    "QueryKind",
    "rdf_format_for_path",
    "GRAPH_FORMATS",
    "RESULT_MEDIA_ALIASES",
    "output_formats",
    "output_format",
    "negotiate",
    "choose_format",
    "format_aliases",
    "graph_offers",
    "rdf_format_by_name",
    "result_format_by_name",
]


@dataclass(frozen=True)
class RdfFormatInfo:
    """An RDF serialisation."""

    name: str
    media_type: str
    extension: str
    oxigraph: ox.RdfFormat
    rdflib: str
    datasets: bool
    #: the serialiser writes prefix declarations (so output uses the project's prefixes)
    prefixes: bool
    #: the syntax has relative IRIs, resolved against a base IRI: the same bytes read against
    #: another base may be other triples. N-Triples and N-Quads have none (pyoxigraph's
    #: parser refuses one), so their triples do not depend on where the bytes came from.
    relative_iris: bool


@dataclass(frozen=True)
class ResultFormatInfo:
    """A SPARQL SELECT/ASK results serialisation."""

    name: str
    media_type: str
    extension: str
    oxigraph: ox.QueryResultsFormat


RDF_FORMATS: tuple[RdfFormatInfo, ...] = (
    RdfFormatInfo("turtle", "text/turtle", "ttl", ox.RdfFormat.TURTLE, "turtle", False, True, True),
    RdfFormatInfo("ntriples", "application/n-triples", "nt", ox.RdfFormat.N_TRIPLES, "nt", False, False, False),
    RdfFormatInfo("nquads", "application/n-quads", "nq", ox.RdfFormat.N_QUADS, "nquads", True, False, False),
    RdfFormatInfo("trig", "application/trig", "trig", ox.RdfFormat.TRIG, "trig", True, True, True),
    RdfFormatInfo("jsonld", "application/ld+json", "jsonld", ox.RdfFormat.JSON_LD, "json-ld", True, False, True),
    RdfFormatInfo("rdfxml", "application/rdf+xml", "rdf", ox.RdfFormat.RDF_XML, "xml", False, True, True),
    RdfFormatInfo("n3", "text/n3", "n3", ox.RdfFormat.N3, "n3", False, True, True),
)

#: RDF formats that can carry one graph (a CONSTRUCT/DESCRIBE result, a resource page);
#: JSON-LD holds datasets and graphs alike.
GRAPH_FORMATS: tuple[RdfFormatInfo, ...] = tuple(f for f in RDF_FORMATS if not f.datasets or f.name == "jsonld")

RESULT_FORMATS: tuple[ResultFormatInfo, ...] = (
    ResultFormatInfo("json", "application/sparql-results+json", "srj", ox.QueryResultsFormat.JSON),
    ResultFormatInfo("xml", "application/sparql-results+xml", "srx", ox.QueryResultsFormat.XML),
    ResultFormatInfo("csv", "text/csv", "csv", ox.QueryResultsFormat.CSV),
    ResultFormatInfo("tsv", "text/tab-separated-values", "tsv", ox.QueryResultsFormat.TSV),
)

#: generic media types clients send for SPARQL results (SPARQL 1.1 Protocol clients often do)
RESULT_MEDIA_ALIASES: dict[str, str] = {"application/json": "json", "application/xml": "xml"}

#: other names clients use in a ``format=`` parameter (SPARQLWrapper sends ``xml``,
#: ``rdf+xml``, ``json-ld`` for graphs), per kind of result
_NAME_ALIASES: dict[bool, dict[str, str]] = {
    True: {"xml": "rdfxml", "rdf+xml": "rdfxml", "rdf": "rdfxml", "json-ld": "jsonld", "json": "jsonld",
           "ttl": "turtle", "nt": "ntriples", "n-triples": "ntriples", "application/xml": "rdfxml"},
    False: {**RESULT_MEDIA_ALIASES, "srj": "json", "srx": "xml", "sparql-results+json": "json",
            "sparql-results+xml": "xml"},
}

_EXTRA_EXTENSIONS = {"owl": "rdfxml", "xml": "rdfxml", "json": "jsonld", "ttls": "turtle", "shacl": "turtle"}


class QueryKind(str, Enum):
    """What a SPARQL query returns."""

    SOLUTIONS = "solutions"  # SELECT
    BOOLEAN = "boolean"  # ASK
    GRAPH = "graph"  # CONSTRUCT / DESCRIBE


def rdf_extensions() -> str:
    """The file extensions read as RDF, for messages (``.ttl, .nt, …``), from the one table."""
    return ", ".join(f".{f.extension}" for f in RDF_FORMATS)


def rdf_format_of_body(content_type: str | None) -> RdfFormatInfo:
    """The RDF format a request body's ``Content-Type`` names (parameters such as ``charset``
    ignored); :class:`~kg.errors.UnsupportedMediaTypeError` listing what is read otherwise."""
    media = (content_type or "").split(";")[0].strip().lower()
    for fmt in RDF_FORMATS:
        if media == fmt.media_type:
            return fmt
    known = ", ".join(f.media_type for f in RDF_FORMATS)
    raise UnsupportedMediaTypeError(f"unsupported content type {media or '(none)'}; send RDF as one of: {known}")


def rdf_format_by_name(name: str) -> RdfFormatInfo:
    """The RDF format called ``name`` (a key of :data:`RDF_FORMATS`)."""
    for fmt in RDF_FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def result_format_by_name(name: str) -> ResultFormatInfo:
    """The results format called ``name`` (a key of :data:`RESULT_FORMATS`)."""
    for fmt in RESULT_FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def output_formats(kind: QueryKind) -> tuple[RdfFormatInfo, ...] | tuple[ResultFormatInfo, ...]:
    """The formats a query result of ``kind`` can be written in (CSV and TSV hold only SELECT results)."""
    if kind is QueryKind.GRAPH:
        return GRAPH_FORMATS
    if kind is QueryKind.BOOLEAN:
        return tuple(f for f in RESULT_FORMATS if f.name in ("json", "xml"))
    return RESULT_FORMATS


def output_format(kind: QueryKind, key: str) -> RdfFormatInfo | ResultFormatInfo | None:
    """The format, by name, alias or media type, that can write a result of ``kind``; None if none can."""
    key = key.strip().lower()
    key = _NAME_ALIASES[kind is QueryKind.GRAPH].get(key, key)
    for fmt in output_formats(kind):
        if key in (fmt.name, fmt.media_type):
            return fmt
    return None


def rdf_format_for_path(path: Path) -> RdfFormatInfo | None:
    """The RDF format a file's extension says, or None."""
    ext = path.suffix.lower().lstrip(".")
    if ext in _EXTRA_EXTENSIONS:
        return rdf_format_by_name(_EXTRA_EXTENSIONS[ext])
    for fmt in RDF_FORMATS:
        if fmt.extension == ext:
            return fmt
    return None


def _parse_accept(accept: str) -> list[tuple[str, float, int]]:
    entries = []
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        entries.append((media, q, position))
    return entries


def negotiate(accept: str | None, offers: list[str]) -> str | None:
    """The offer the Accept header prefers (q-values, specificity, then order of ``offers``).

    ``None`` when nothing offered is acceptable (HTTP 406). A missing header accepts the first offer.
    """
    if not accept or not accept.strip():
        return offers[0] if offers else None
    best: tuple[float, int, int, int] | None = None
    chosen = None
    entries = _parse_accept(accept)
    for rank, offer in enumerate(offers):
        kind = offer.split("/")[0]
        for media, q, position in entries:
            if media == offer:
                specificity = 2
            elif media == f"{kind}/*":
                specificity = 1
            elif media == "*/*":
                specificity = 0
            else:
                continue
            if q <= 0:
                break
            key = (q, specificity, -position, -rank)
            if best is None or key > best:
                best, chosen = key, offer
            break
    return chosen


def choose_format(asked: str | None, accept: str | None, offers: Mapping[str, str], *,
                  aliases: Mapping[str, str] | None = None, what: str = "this answer") -> str:
    """The name (a key of ``offers``: name → media type) of the format to answer in.

    ``asked`` (a ``format=`` parameter: a name, an alias of ``aliases`` or a media type) wins;
    one that names nothing offered is refused, never replaced by a default. Without it, the
    ``accept`` header chooses (:func:`negotiate`; no header takes the first offer). Refusals
    are :class:`~kg.errors.NotAcceptableError` (HTTP 406) naming what is offered.
    """
    names = ", ".join(offers)
    if asked is not None:
        key = asked.strip().lower()
        key = (aliases or {}).get(key, key)
        for name, media in offers.items():
            if key in (name, media):
                return name
        raise NotAcceptableError(f"format={asked!r} is not offered for {what}; format= takes one of: {names}")
    chosen = negotiate(accept, list(dict.fromkeys(offers.values())))
    for name, media in offers.items():
        if media == chosen:
            return name
    raise NotAcceptableError(f"nothing offered for {what} fits Accept: {accept}; offered: "
                             f"{', '.join(dict.fromkeys(offers.values()))} (or format= one of: {names})")


def format_aliases(kind: QueryKind) -> Mapping[str, str]:
    """Other names clients give a format of ``kind`` in ``format=`` (``rdf+xml``, ``srj``, …)."""
    return _NAME_ALIASES[kind is QueryKind.GRAPH]


def graph_offers(*, html: bool) -> dict[str, str]:
    """Name → media type of the formats a graph is offered in (HTML first when ``html``), for
    :func:`choose_format`."""
    return {**({"html": "text/html"} if html else {}), **{f.name: f.media_type for f in GRAPH_FORMATS}}
