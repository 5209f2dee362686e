"""What real SPARQL servers do differently, in one table per engine.

A :class:`Dialect` is data, not code paths scattered through the store: the remote
store asks it how to send a query, where the Graph Store endpoint is, how many rows
the server hands out before it silently stops, and how to read its answers.

Virtuoso 7.2 (Debian's ``virtuoso-opensource``) needs the most care:

- a POST with ``Content-Type: application/sparql-query`` hangs, so the store sends
  every query and update as a form POST, which every SPARQL 1.1 server accepts;
- SELECT, CONSTRUCT and Graph Store GET stop at ``ResultSetMaxRows`` (10 000 by
  default) without saying so, except an ``X-SPARQL-MaxRows`` header on SELECT; the
  store reads whole graphs in pages below that cap and refuses a user's result that
  reaches it;
- a query that runs out of time answers 200 with partial results and the header
  ``X-SQL-State: S1TAT``, which the store treats as an error;
- its JSON results writer is slow (10 000 rows: 1.1 s, against 0.19 s for the same
  triples as N-Triples from a CONSTRUCT), so whole graphs are read with CONSTRUCT (its XML
  results are fast too, but pyoxigraph's XML reader trims whitespace around literals);
- a stored ``xsd:boolean`` comes back in JSON results as ``"1"``/``"0"`` (but as
  ``"true"``/``"false"`` in N-Triples), read as ``true``/``false`` so both answers agree;
- blank nodes come back as ``nodeID://b123``, which is not a blank node label, and a
  query names a stored blank node as ``<nodeID://b123>`` in a triple pattern (not in
  ``VALUES``);
- ``INSERT DATA`` refuses blank nodes and large payloads, so bulk loads use the
  Graph Store protocol;
- a page of a sorted query may not reach past the row cap (``ORDER BY … LIMIT 10
  OFFSET 15000`` fails with SR353) unless the sorted query is a subquery;
- the default graph is the union of every graph, system graphs included, and an
  update request of several operations is not atomic (an operation that fails
  leaves the ones before it applied), so the store names every graph it reads and
  replaces graphs with one single operation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from kg.errors import ConfigError

__all__ = ["DIALECTS", "GENERIC", "VIRTUOSO", "Dialect", "detect_dialect", "dialect_named"]

_VIRTUOSO_BNODE = re.compile(rb'(?<!\\)("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")nodeID://')
_VIRTUOSO_BOOLEAN = re.compile(
    rb'(?<!\\)("datatype"\s*:\s*"http://www\.w3\.org/2001/XMLSchema#boolean"\s*,\s*"value"\s*:\s*")([01])"')


@dataclass(frozen=True)
class Dialect:
    """How to talk to one kind of SPARQL server."""

    name: str
    #: rows after which the server truncates results without an error (0: it does not)
    max_rows: int = 0
    #: path of the Graph Store endpoint next to the query endpoint's, when the engine has a fixed one
    graph_store_path: str | None = None
    #: the request parameter that gives the server a time limit in milliseconds, if any
    timeout_parameter: str | None = None
    #: the response header whose value ``S1TAT`` marks partial results after a time-out
    partial_state_header: str | None = None
    #: the response header announcing a row cap on SELECT results
    max_rows_header: str | None = None
    #: the IRI prefix under which a query can name a stored blank node (None: it cannot)
    blank_node_prefix: str | None = None
    #: the server refuses to sort more than its row cap for one page (OFFSET + LIMIT), unless
    #: the sorted query is a subquery of the paged one
    sorts_pages_in_subquery: bool = False

    def page(self, ordered: str, limit: int, offset: int) -> str:
        """One page of ``ordered`` (a SELECT ending in ORDER BY): rows offset..offset+limit."""
        if self.sorts_pages_in_subquery:
            variables = ordered.split(" WHERE ", 1)[0].removeprefix("SELECT").strip()
            return f"SELECT {variables} WHERE {{ {{ {ordered} }} }} LIMIT {limit} OFFSET {offset}"
        return f"{ordered} LIMIT {limit} OFFSET {offset}"

    def blank_node_reference(self, label: str) -> str | None:
        """A SPARQL term naming the stored blank node ``label`` (as results gave it), or None."""
        return f"<{self.blank_node_prefix}{label}>" if self.blank_node_prefix is not None else None

    def graph_store_url(self, query_url: str) -> str | None:
        """The Graph Store endpoint next to ``query_url`` (same scheme, host and port)."""
        if self.graph_store_path is None:
            return None
        parts = urlsplit(query_url)
        return urlunsplit((parts.scheme, parts.netloc, self.graph_store_path, "", ""))

    def fix_results_line(self, line: bytes) -> bytes:
        """One line of a JSON results document, made readable by a standard parser and
        giving the same terms as the server's N-Triples (which CONSTRUCT answers use)."""
        if self.name != "virtuoso":
            return line
        if b"nodeID://" in line:
            line = _VIRTUOSO_BNODE.sub(rb"\1", line)
        if b"XMLSchema#boolean" in line:
            line = _VIRTUOSO_BOOLEAN.sub(lambda m: m.group(1) + (b'true"' if m.group(2) == b"1" else b'false"'), line)
        return line


GENERIC = Dialect("generic")
VIRTUOSO = Dialect(
    "virtuoso",
    max_rows=10_000,
    graph_store_path="/sparql-graph-crud",
    timeout_parameter="timeout",
    partial_state_header="X-SQL-State",
    max_rows_header="X-SPARQL-MaxRows",
    blank_node_prefix="nodeID://",
    sorts_pages_in_subquery=True,
)
DIALECTS = {d.name: d for d in (GENERIC, VIRTUOSO)}


def dialect_named(name: str) -> Dialect:
    """The dialect called ``name``; :class:`ConfigError` for an unknown one."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ConfigError(f"unknown remote_dialect {name!r}; use auto, {', '.join(sorted(DIALECTS))}") from None


def detect_dialect(server_header: str | None) -> Dialect:
    """The dialect a ``Server`` response header points to (``Virtuoso/07.20.3229 …``)."""
    if server_header and server_header.lower().startswith("virtuoso"):
        return VIRTUOSO
    return GENERIC
