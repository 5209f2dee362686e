"""``kg add-document``: one new source document, built like the seed articles, into its own graph.

The text and its metadata are read by :mod:`kg.build.corpus` (fixity checked), the
annotations by :mod:`kg.build.annotations` (every quote placed, every id resolved, errors at
``file:line``), the graph written by :mod:`kg.build.rdfize` — the build's own steps. What the
build takes from the rest of the corpus comes here from the store: the entities other
graphs describe and the claims other documents make, so the new document can name
them and refer to them, and cannot take over their ids.

The document's graph is then *replaced* through :func:`kg.write.apply.apply_write`, the one
write path: the SHACL gate, one transaction, a receipt and its provenance. Adding the
same document again replaces what it said before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from kg.build.annotations import load_document_annotations
from kg.build.corpus import Document, document_from_metadata, read_document
from kg.build.drafted import metadata_block
from kg.build.model import Entity
from kg.build.yamlfile import LineDict, load_yaml
from kg.build.rdfize import document_graph, document_graph_iri
from kg.build.vocabulary import ENTITY_TYPES
from kg.errors import InputError, Location
from kg.iris import Kind, parse
from kg.namespaces import NKG, RDF, RDFS, SKOS
from kg.store import Store
from kg.write.apply import apply_write
from kg.write.change import Change
from kg.write.provenance import Receipt, SourceInfo

__all__ = ["AddedDocument", "add_document", "claims_elsewhere", "known_entities"]

_ENTITY_KINDS = {kind for kind, _ in ENTITY_TYPES.values()}


@dataclass(frozen=True)
class AddedDocument:
    """What ``kg add-document`` did: the document's graph, its claims, the receipt."""

    graph: URIRef
    document: str
    claims: int
    new_entities: tuple[str, ...]
    receipt: Receipt


def _type_word(kind: Kind, classes: set[str]) -> str | None:
    """The entity type whose classes the resource has, the most specific one."""
    fitting = [
        (len(types), word)
        for word, (k, types) in ENTITY_TYPES.items()
        if k == kind and {str(t) for t in types} <= classes
    ]
    return max(fitting)[1] if fitting else None


def known_entities(store: Store, *, outside: URIRef, aliases: bool = False) -> dict[str, Entity]:
    """The annotated entities (actors, places, meetings, proposals) described in any graph but
    ``outside``, with their ``skos:altLabel`` aliases when ``aliases`` (a drafter's gazetteer
    looks for them in the text; a new document only refers to the entities)."""
    alt = (f" OPTIONAL {{ GRAPH ?h {{ ?e <{SKOS.altLabel}> ?alt }} FILTER(?h != <{outside}>) }}" if aliases else "")
    rows = store.select_all(
        f"SELECT ?e ?label ?class{' ?alt' if aliases else ''} WHERE {{ GRAPH ?g {{ ?e <{RDFS.label}> ?label ; "
        f"<{RDF.type}> ?class }} FILTER(?g != <{outside}>){alt} }}",
        f"ORDER BY ?e ?label ?class{' ?alt' if aliases else ''}",
    )
    labels: dict[str, str] = {}
    classes: dict[str, set[str]] = {}
    alts: dict[str, set[str]] = {}
    for row in rows:
        node = row["e"]
        if not isinstance(node, ox.NamedNode):
            continue
        labels.setdefault(node.value, row["label"].value)
        classes.setdefault(node.value, set()).add(row["class"].value)
        if aliases and row["alt"] is not None:
            alts.setdefault(node.value, set()).add(row["alt"].value)
    where = Location(f"the store at {store.location}")
    out: dict[str, Entity] = {}
    for iri, label in labels.items():
        parsed = parse(iri)
        if parsed is None or parsed[0] not in _ENTITY_KINDS:
            continue
        kind, slug = parsed
        word = _type_word(kind, classes[iri])
        if word is not None:
            out[slug] = Entity(slug, kind, word, label, tuple(sorted(alts.get(iri, ()))), None, None, where)
    return out


def claims_elsewhere(store: Store, *, outside: URIRef) -> set[str]:
    """The ids of the claims that graphs other than ``outside`` hold."""
    rows = store.select_all(f"SELECT DISTINCT ?c WHERE {{ GRAPH ?g {{ ?c a <{NKG.Claim}> }} FILTER(?g != <{outside}>) }}",
                            "ORDER BY ?c")
    out: set[str] = set()
    for row in rows:
        parsed = parse(row["c"].value)
        if parsed is not None and parsed[0] is Kind.CLAIM:
            out.add(parsed[1])
    return out


def _read(text: Path, meta: Path | None, annotations: Path) -> tuple[Document, LineDict | None]:
    """The document with its metadata: ``meta``; else ``<text>.yaml`` beside it; else the
    ``metadata:`` block a draft proposes (:mod:`kg.build.drafted`). Also the annotation file,
    when it was read for that block (the annotation reader takes it rather than parse it again)."""
    if meta is not None:
        return read_document(text, meta), None
    beside = text.with_suffix(".yaml")
    if beside.is_file() or not text.is_file():  # read_document names a missing text first
        return read_document(text, beside), None
    if not annotations.is_file():  # the file the user named, not the metadata file nobody did
        raise InputError("no such annotation file", location=Location(str(annotations)))
    data = load_yaml(annotations)
    block = metadata_block(annotations, data)
    if block is None:
        raise InputError(f"no metadata for {text.name}: give --meta, put {beside.name} beside it, "
                         "or a 'metadata:' block in the annotation file", location=Location(str(annotations)))
    return document_from_metadata(text, block, annotations), data


def add_document(store: Store, text: Path, *, meta: Path | None, annotations: Path, agent: str) -> AddedDocument:
    """Build the document ``text`` (metadata ``meta``, annotations ``annotations``) and put its
    graph into ``store`` through the SHACL gate. Without ``meta``, the metadata is
    ``<text>.yaml`` beside the text or, without that, the annotation file's ``metadata:`` block.

    Raises :class:`~kg.errors.BuildError` (file:line) for annotations that cannot be
    built, :class:`~kg.errors.InputError` for unreadable files and
    :class:`~kg.errors.ValidationFailed` when the graph would break the shapes; the store
    is then unchanged.
    """
    document, data = _read(text, meta, annotations)
    graph_name = document_graph_iri(document.id)
    known = known_entities(store, outside=graph_name)
    built = load_document_annotations(
        annotations, document, known, other_claims=claims_elsewhere(store, outside=graph_name), data=data
    )
    new = tuple(sorted(set(built.entities) - set(known)))
    graph = document_graph(built, document.id, describe=new)
    receipt = apply_write(
        store,
        Change.replace(str(graph_name), graph),
        agent=agent,
        source=SourceInfo(name=text.name, sha256=document.sha256),
    )
    return AddedDocument(graph_name, document.id, len(built.documents[document.id].claims), new, receipt)
