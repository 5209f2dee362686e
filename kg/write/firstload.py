"""A first load's files validated before anything is loaded, when that is exact and pays.

A new graph loaded from files into a store that holds nothing but receipts (a first ``kg
ingest``) goes in place, and the gate then validates the store's default graph where it lies
(:func:`kg.write.gate.check_write`): the engine queries the on-disk store in one process,
which for a million triples takes several times the load — and a refused write has loaded
everything for nothing. The same state (the files' triples, the receipts, the ontology) read
from N-Triples files is validated in memory, by two processes when large
(:func:`kg.validation.check.validate_files`, in predicate groups), in a fraction of that.
So :func:`validate_first` validates it so before the write stages anything: a refused write
loads nothing, an accepted one is not validated again.

It is worth it only when a node of the files may be a focus node: a byte scan looks for an
IRI the shapes target (:class:`~kg.write.focus.Targets`), written ``<iri>`` as N-Triples
writes every IRI in full. Without one the usual way costs nothing (the gate sees that
nothing is targeted). Its answer is None — the write goes the usual way, which is exact —
whenever this answer could differ from the gate's or the loader's:

* the files are not all N-Triples (an N-Quads file loaded in place keeps its graph names;
  ``kg ingest`` hands dataset files over as N-Triples), or a base IRI other than the
  loader's default is asked for;
* the screen (:func:`kg.rdfguard.screen_rdf`, run before any parser reads a file) refuses a
  file or says it may hold triple terms, or a file cannot be parsed: the loader then says
  what and where, as it always did;
* a result is about a node of the ontology or of the receipts, about a literal, or about a
  node the shapes name (``sh:targetNode``) that the files may not hold: only results about
  nodes of the new graph count, and those cannot be told apart here.

Of the ontology and the receipts, only what a shape may read from a node of the files is
validated with them (:func:`_readable`): the rest could only make the validation slower
(blank nodes, which validating in groups cannot take; what looks like integer subtypes).
"""

from __future__ import annotations

import mmap
import re
import tempfile
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import TypeGuard

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.errors import InputError
from kg.formats import rdf_format_by_name, rdf_format_for_path
from kg.iris import PROVENANCE_GRAPH
from kg.namespaces import RDF, RDFS, SH
from kg.rdfguard import screen_rdf
from kg.rdfio import graph_to_triples
from kg.shacl.incremental import backward_predicates
from kg.store.base import Store
from kg.validation.check import validate_files
from kg.validation.model import ValidationReport
from kg.write.change import Change, FilesChange, SourceFile
from kg.write.focus import Targets
from kg.write.gate import GateResult, gate_ontology

__all__ = ["is_first_load", "validate_first"]

_NTRIPLES = rdf_format_by_name("ntriples")
#: what the engine reads of any node, named by a shape or not: types and the class
#: hierarchy (targets, ``sh:class``), labels (the report)
_ALWAYS_READ = frozenset({str(RDF.type), str(RDFS.subClassOf), str(RDFS.label)})


def validate_first(store: Store, change: Change, shapes: Graph, *,
                   starting: Callable[[], None] | None = None) -> GateResult | None:
    """The gate's verdict on ``change`` (a first load of files, see the module), reached
    before anything is staged; None when it must be reached the usual way. ``starting`` is
    called when the validation begins (not when the answer is None at once)."""
    if not is_first_load(change, store) or not _from_ntriples(change):
        return None
    ontology = gate_ontology()
    targets = Targets.of(shapes, ontology)
    if not targets.opaque and not _mentions(change.files, _target_iris(targets)):
        return None
    try:
        if any(screen_rdf(s.path, s.format, s.label, max_nesting=change.max_nesting) for s in change.files):
            return None  # may hold triple terms: refused once staged, the usual way
    except InputError:
        return None  # the usual way screens it again and says the same
    if starting is not None:
        starting()
    side = [*graph_to_triples(ontology), *store.graph_triples(str(PROVENANCE_GRAPH))]
    with tempfile.TemporaryDirectory(prefix="kg-first-load-") as tmp:
        files = [_as_ntriples_file(s, Path(tmp) / f"data-{n}.nt") for n, s in enumerate(change.files)]
        read = _readable(side, shapes)
        if read:
            files.append(Path(tmp) / "ontology-and-receipts.nt")
            ox.serialize(read, str(files[-1]), format=_NTRIPLES.oxigraph)
        try:
            report = validate_files(files, shapes)
        except (InputError, SyntaxError, ValueError, OSError):
            return None  # unreadable input: the loader says what and where
    return _about_the_files(report, side, read, targets, change.files)


def is_first_load(change: Change, store: Store) -> TypeGuard[FilesChange]:
    """True when ``change`` is files to be loaded in place as a new graph into a store that
    holds nothing but receipts (a first ``kg ingest``): the new state is then the files'
    triples and the receipts, which is what this module validates and what
    :func:`kg.write.apply.apply_write` may load beside its union copy."""
    return (isinstance(change, FilesChange) and change.in_place and bool(change.files)
            and store.in_place_loader() is not None and not store.has_graph(change.graph)
            and set(store.named_graphs()) <= {str(PROVENANCE_GRAPH)})


def _from_ntriples(change: FilesChange) -> bool:
    """True when every file is N-Triples read with the loader's default base."""
    return (all(s.format.name == _NTRIPLES.name for s in change.files)
            and all(change.base_for(s) == s.path.resolve().as_uri() for s in change.files))


def _target_iris(targets: Targets) -> set[str]:
    return set(targets.classes | targets.subjects_of | targets.objects_of | targets.nodes)


def _mentions(files: Iterable[SourceFile], iris: Collection[str]) -> bool:
    """True when one of ``iris`` is written ``<iri>`` in one of the files. One search per
    namespace: a namespace absent from a file costs one pass of ``bytes.find`` (121 MB:
    0.03 s), a present one a regular expression whose literal prefix the engine looks for."""
    by_namespace: dict[str, list[str]] = {}
    for iri in iris:
        cut = max(iri.rfind("#"), iri.rfind("/")) + 1
        by_namespace.setdefault(iri[:cut], []).append(iri[cut:])
    searches = [(b"<" + ns.encode(), re.compile(b"<" + re.escape(ns.encode()) + b"(?:"
                                                + b"|".join(re.escape(n.encode()) for n in sorted(names)) + b")>"))
                for ns, names in by_namespace.items()]
    for source in files:
        if not searches or source.path.stat().st_size == 0:
            continue
        with source.path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if any(data.find(prefix) >= 0 and pattern.search(data) is not None for prefix, pattern in searches):
                return True
    return False


def _has_blank_node(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def _readable(side: Sequence[ox.Triple], shapes: Graph) -> list[ox.Triple]:
    """The triples of ``side`` that a shape may read from a node of the files (all of them when
    that cannot be told). A shape reads along the predicates it names, forwards, and backwards
    along those :func:`~kg.shacl.incremental.backward_predicates` lists; the engine also reads
    types, the class hierarchy and labels. ``sh:closed`` reads every predicate of a node, a
    SPARQL target or a SPARQL constraint with a variable predicate anything.

    Left out, triples cannot make the data look as if it had integer subtypes (the
    ontology's ``rdfs:range xsd:nonNegativeInteger``: literals would then be kept as
    written, a slower validation), nor hold blank nodes (:func:`_blank_nodes_unreachable`)."""
    walked_back = backward_predicates(shapes)
    if walked_back is None or (None, SH.target, None) in shapes or (None, SH.closed, None) in shapes:
        return list(side)
    named = {str(o) for o in shapes.objects() if isinstance(o, URIRef)} | walked_back
    kept = [t for t in side if t.predicate.value in named or t.predicate.value in _ALWAYS_READ]
    blank = [t for t in kept if _has_blank_node(t)]
    if blank and _blank_nodes_unreachable(blank, named, walked_back):
        return [t for t in kept if not _has_blank_node(t)]
    return kept


def _blank_nodes_unreachable(blank: Sequence[ox.Triple], named: set[str], walked_back: frozenset[str]) -> bool:
    """True when no shape can reach a blank node of ``blank`` from a node of the files
    (validating in groups needs data without them: each process would name them anew). A
    path steps onto one only forwards along a predicate linking an IRI to a blank node, which
    the shapes would name, or backwards along one linking a blank node to an IRI, which they
    would walk back. A class test walks ``rdfs:subClassOf`` on its own, but a blank node is a
    dead end for it unless it is itself a subclass."""
    if any(t.predicate.value == str(RDFS.subClassOf) and isinstance(t.subject, ox.BlankNode) for t in blank):
        return False
    into = {t.predicate.value for t in blank if isinstance(t.subject, ox.NamedNode)}
    back_into = {t.predicate.value for t in blank if isinstance(t.object, ox.NamedNode)}
    return not (into & named) and not (back_into & walked_back)


def _as_ntriples_file(source: SourceFile, link: Path) -> Path:
    """The file, or a link to it named ``*.nt`` when its name does not say N-Triples (the
    validation reads the format off the name; the link resolves to the file, as the base IRI)."""
    if rdf_format_for_path(source.path) == _NTRIPLES:
        return source.path
    link.symlink_to(source.path.resolve())
    return link


def _about_the_files(report: ValidationReport, side: Sequence[ox.Triple], read: Sequence[ox.Triple],
                     targets: Targets, files: Sequence[SourceFile]) -> GateResult | None:
    """The verdict on the new graph: every result must be about a node of the files, not one
    of ``side`` (the ontology and the receipts; ``read``: what of them was validated). None
    when one may not be (see the module)."""
    side_nodes = {term.value for t in side for term in (t.subject, t.object) if isinstance(term, ox.NamedNode)}
    side_blank = any(_has_blank_node(t) for t in read)
    focus: set[str] = set()
    for result in report.results:
        node = result.focus_node
        if node.startswith('"') or node in side_nodes or (node.startswith("_:") and side_blank):
            return None
        if node in targets.nodes and node not in focus and not _mentions(files, [node]):
            return None
        focus.add(node)
    return GateResult(report, len(focus), True)
