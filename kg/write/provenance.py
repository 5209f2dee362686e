"""Receipts and their provenance: what a committed write did, returned to the writer and
recorded as one ``prov:Activity`` per write in the provenance graph.

::

    <activity> a prov:Activity ;
        prov:wasAssociatedWith <agent> ;            # the token's name, as rdfs:label
        prov:startedAtTime …, prov:endedAtTime … ;
        prov:used <activity#source>, <activity#shapes> ;   # each with an spdx:Checksum (sha256)
        prov:generated <graph> … ; prov:invalidated <dropped graph> … ;
        prov:generated <activity#validation> ;      # a sh:ValidationReport: sh:conforms, warnings
        nkg:triplesAdded n ; nkg:triplesRemoved n .

The shapes' checksum tells the next write whether the shapes changed since
(:func:`last_shapes_checksum`), in which case the whole store is validated again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyoxigraph as ox

from kg.iris import PROVENANCE_GRAPH, agent_iri
from kg.namespaces import NKG, PROV, RDF, RDFS, SH, SPDX, XSD
from kg.store.base import Store

__all__ = ["SHAPES_LABEL", "GraphReceipt", "Receipt", "SourceInfo", "activity_triples", "last_shapes_checksum"]

#: the label of the entity standing for the shapes a write was validated against
SHAPES_LABEL = "SHACL shapes"


@dataclass(frozen=True)
class SourceInfo:
    """Where a change came from: a name (file, request) and the sha256 of its bytes if known."""

    name: str
    sha256: str | None = None


@dataclass(frozen=True)
class GraphReceipt:
    """What a write did to one graph."""

    graph: str
    mode: str
    added: int
    removed: int


@dataclass
class Receipt:
    """What a committed write did, as returned to the writer and recorded as provenance."""

    iri: str
    agent: str
    source: str | None
    sha256: str
    started: datetime
    ended: datetime
    graphs: list[GraphReceipt]
    conforms: bool
    warnings: list[dict[str, Any]]
    focus_nodes: int
    whole_store: bool
    shapes_sha256: str = ""

    @property
    def created(self) -> bool:
        """True when the write made a graph that did not exist (its count says ``create``)."""
        return any(g.mode == "create" for g in self.graphs)

    @property
    def added(self) -> int:
        """Triples added, over every graph."""
        return sum(g.added for g in self.graphs)

    @property
    def removed(self) -> int:
        """Triples removed, over every graph."""
        return sum(g.removed for g in self.graphs)

    def to_json(self) -> dict[str, Any]:
        """The receipt as JSON (what the HTTP API returns)."""
        return {
            "receipt": self.iri,
            "agent": self.agent,
            "source": self.source,
            "sha256": self.sha256,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat(),
            "graphs": [g.__dict__ for g in self.graphs],
            "added": self.added,
            "removed": self.removed,
            "validation": {
                "conforms": self.conforms,
                "warnings": self.warnings,
                "focus_nodes": self.focus_nodes,
                "whole_store": self.whole_store,
                "shapes_sha256": self.shapes_sha256,
            },
        }


def _n(term: object) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def _checksum(out: list[ox.Triple], entity: ox.NamedNode, value: str) -> None:
    node = ox.NamedNode(entity.value + "-sha256")
    out.append(ox.Triple(entity, _n(SPDX.checksum), node))
    out.append(ox.Triple(node, _n(RDF.type), _n(SPDX.Checksum)))
    out.append(ox.Triple(node, _n(SPDX.algorithm), _n(SPDX.checksumAlgorithm_sha256)))
    out.append(ox.Triple(node, _n(SPDX.checksumValue), ox.Literal(value, datatype=_n(XSD.hexBinary))))


def _timestamp(moment: datetime) -> str:
    """An ``xsd:dateTime`` to the millisecond: finer fractions are valid XSD, but HermiT (``kg
    ontology check``) refuses more than three digits, and a receipt needs no more."""
    return moment.isoformat(timespec="milliseconds")


def activity_triples(receipt: Receipt) -> list[ox.Triple]:
    """The provenance record of ``receipt``."""
    act = ox.NamedNode(receipt.iri)
    agent = _n(agent_iri(receipt.agent))
    stamp = _n(XSD.dateTime)
    out = [
        ox.Triple(act, _n(RDF.type), _n(PROV.Activity)),
        ox.Triple(act, _n(PROV.wasAssociatedWith), agent),
        ox.Triple(agent, _n(RDF.type), _n(PROV.Agent)),
        ox.Triple(agent, _n(RDFS.label), ox.Literal(receipt.agent)),
        ox.Triple(act, _n(PROV.startedAtTime), ox.Literal(_timestamp(receipt.started), datatype=stamp)),
        ox.Triple(act, _n(PROV.endedAtTime), ox.Literal(_timestamp(receipt.ended), datatype=stamp)),
        ox.Triple(act, _n(NKG.triplesAdded), ox.Literal(str(receipt.added), datatype=_n(XSD.integer))),
        ox.Triple(act, _n(NKG.triplesRemoved), ox.Literal(str(receipt.removed), datatype=_n(XSD.integer))),
    ]
    source = ox.NamedNode(receipt.iri + "-source")
    out += [
        ox.Triple(act, _n(PROV.used), source),
        ox.Triple(source, _n(RDF.type), _n(PROV.Entity)),
    ]
    if receipt.source:
        out.append(ox.Triple(source, _n(RDFS.label), ox.Literal(receipt.source)))
    _checksum(out, source, receipt.sha256)
    shapes = ox.NamedNode(receipt.iri + "-shapes")
    out += [
        ox.Triple(act, _n(PROV.used), shapes),
        ox.Triple(shapes, _n(RDF.type), _n(PROV.Entity)),
        ox.Triple(shapes, _n(RDFS.label), ox.Literal(SHAPES_LABEL)),
    ]
    _checksum(out, shapes, receipt.shapes_sha256)
    for g in receipt.graphs:
        verb = PROV.invalidated if g.mode == "drop" else PROV.generated
        out.append(ox.Triple(act, _n(verb), ox.NamedNode(g.graph)))
    report = ox.NamedNode(receipt.iri + "-validation")
    out += [
        ox.Triple(act, _n(PROV.generated), report),
        ox.Triple(report, _n(RDF.type), _n(SH.ValidationReport)),
        ox.Triple(report, _n(SH.conforms), ox.Literal("true" if receipt.conforms else "false", datatype=_n(XSD.boolean))),
    ]
    for w in receipt.warnings:
        out.append(ox.Triple(report, _n(RDFS.comment), ox.Literal(
            f"[{w['severity']}] {w['focus_node']} {w['path'] or ''}: {w['message']}".strip())))
    return out


def last_shapes_checksum(store: Store) -> str | None:
    """The sha256 of the shapes the most recent write was validated against, or None."""
    query = f"""
        SELECT ?sum WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
            ?act <{PROV.used}> ?shapes ; <{PROV.endedAtTime}> ?end .
            ?shapes <{RDFS.label}> "{SHAPES_LABEL}" ; <{SPDX.checksum}>/<{SPDX.checksumValue}> ?sum .
        }} }} ORDER BY DESC(?end) LIMIT 1"""
    row = next(iter(store.select(query)), None)
    return row["sum"].value if row is not None else None
