"""SHACL validation of files, rdflib graphs and stores, as a report (:mod:`kg.validation.model`).

The compiled engine (:mod:`kg.shacl`: SHACL Core as SPARQL on pyoxigraph, pyshacl for
what it does not compile) checks files, rdflib graphs or a store; non-conformance is an
ordinary :class:`ValidationReport` that callers render (:mod:`kg.validation.render`) or turn into an
exit code. pyshacl alone stays available as the reference (``Engine.PYSHACL``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Collection, Iterable
from contextlib import nullcontext
from dataclasses import replace
from enum import Enum
from pathlib import Path

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Node

from kg.config import Settings
from kg.errors import InputError, Location
from kg.formats import rdf_format_for_path
from kg.namespaces import RDFS, SH
from kg.rdfio import graph_to_store, quads_to_graph, read_graph, store_label, to_oxigraph_term
from kg.resources import ontology_file, shape_files
from kg.shacl import ENGINE_PYSHACL, StoreLayout, native_predicates, validate_oxigraph
from kg.shacl.literals import protect, restore
from kg.shacl.loading import load_for_validation, mentions_integer_subtypes
from kg.shacl.model import ShapesGraph
from kg.shacl.run import twin_plan
from kg.shacl.scale.groups import validate_in_groups
from kg.shacl.scale.parallel import Twin, can_fork
from kg.validation.model import ValidationReport, report_from_graph

__all__ = [
    "Engine",
    "load_shapes",
    "memory_estimate",
    "ontology_for_validation",
    "validate_files",
    "validate_graph",
    "validate_store",
]


def load_shapes(paths: Iterable[Path] | None = None) -> Graph:
    """The shapes graph: the given files, or the project's own shapes."""
    files = list(paths) if paths is not None else shape_files()
    if not files:
        raise InputError("no shapes files found", location=Location("shapes/"))
    return read_graph(files)


#: the graph of a validation store that holds the shapes, for ``$shapesGraph``
SHAPES_GRAPH = "urn:x-negotiation-kg:shapes-graph"
#: the graph of a validation store that holds the data with literals as pyoxigraph reads
#: them, for SPARQL constraints when the default graph keeps literals exactly as written
NATIVE_GRAPH = "urn:x-negotiation-kg:native-data"


def _has_sparql(shapes: Graph) -> bool:
    return any(True for _ in shapes.subjects(SH.select, None))


def _add_shapes_graph(store: ox.Store, shapes: Graph) -> str | None:
    """Put the shapes into the validation store when a SPARQL constraint reads
    ``$shapesGraph``; the name of that graph, or None."""
    if _shapes_graph_name(shapes) is None:
        return None
    graph_to_store(shapes, store, graph_name=ox.NamedNode(SHAPES_GRAPH))
    return SHAPES_GRAPH


def _shapes_graph_name(shapes: Graph) -> str | None:
    """The graph of a validation store that holds the shapes, if a SPARQL constraint reads them."""
    return SHAPES_GRAPH if any("shapesGraph" in str(q) for q in shapes.objects(None, SH.select)) else None


class Engine(str, Enum):
    """Which validator runs: the compiled-SPARQL engine (pyshacl for what it does not
    compile), or pyshacl alone (the reference)."""

    AUTO = "auto"
    PYSHACL = "pyshacl"


def validate_graph(data: Graph, shapes: Graph | None = None, *, engine: Engine = Engine.AUTO) -> ValidationReport:
    """Validate ``data`` against ``shapes`` (default: the project's shapes)."""
    shapes = load_shapes() if shapes is None else shapes
    if engine is Engine.PYSHACL:
        conforms, report_graph, _ = pyshacl_validate(
            data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=False, meta_shacl=False
        )
        engines = {str(s.node): ENGINE_PYSHACL for s in ShapesGraph(shapes).targeted()}
    else:
        store = graph_to_store(data, convert=lambda t: protect(to_oxigraph_term(t)))
        native = _has_sparql(shapes)
        if native:
            graph_to_store(data, store, graph_name=ox.NamedNode(NATIVE_GRAPH))
        layout = StoreLayout(
            exact_literals=True, native_graph=NATIVE_GRAPH if native else None, shapes_graph=_add_shapes_graph(store, shapes)
        )
        outcome = validate_oxigraph(store, shapes, rdflib_data=lambda: data, layout=layout)
        conforms, report_graph = outcome.conforms, outcome.graph
        engines = {str(node): name for node, name in outcome.engines.items()}
    return report_from_graph(bool(conforms), report_graph, shapes, lambda focus: data.value(focus, RDFS.label), engines)


def validate_store(
    store: ox.Store,
    shapes: Graph | None = None,
    *,
    focus: Collection[Node] | None = None,
    rdflib_data: Callable[[], Graph] | None = None,
    layout: StoreLayout | None = None,
) -> ValidationReport:
    """Validate the default graph of a pyoxigraph store; ``focus`` limits the check to
    those focus nodes (what a change touched). pyshacl, for shapes the engine does not
    compile, gets ``rdflib_data()`` or, without it, a copy of the store's default graph."""
    shapes = load_shapes() if shapes is None else shapes
    def data_copy() -> Graph:
        if rdflib_data is not None:
            return rdflib_data()
        quads = store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        return quads_to_graph(ox.Quad(q.subject, q.predicate, restore(q.object)) for q in quads)  # type: ignore[arg-type]

    outcome = validate_oxigraph(store, shapes, focus=focus, rdflib_data=data_copy, layout=layout or StoreLayout())
    return report_from_graph(
        outcome.conforms, outcome.graph, shapes, lambda focus_node: store_label(store, focus_node), {str(n): e for n, e in outcome.engines.items()}
    )


#: above this many bytes of input, typed literals are no longer kept exactly as written
#: (which loads the data twice when SPARQL constraints read it) unless the canonical form
#: would change a datatype (integer subtypes)
EXACT_BYTES = 64 * 1024 * 1024

#: from this much input on, an in-memory validation asked for a twin has one
#: (:class:`kg.shacl.scale.parallel.Twin`; measured at 12 MB of N-Triples: 0.75 s with it, 0.9 s without)
TWIN_BYTES = 8 * 1024 * 1024

#: the memory an in-memory validation store takes per byte of each serialisation, measured
#: at its peak while loading (N-Triples: 122 MB → 365 MB; Turtle writes the same in a third)
_MEMORY_PER_BYTE = {"turtle": 9.0, "trig": 9.0, "n3": 9.0}
_MEMORY_PER_BYTE_DEFAULT = 3.2


def memory_estimate(paths: Iterable[Path], *, copies: int = 1) -> int:
    """The bytes an in-memory store holding ``copies`` of the files' data would need."""
    total = 0.0
    for path in paths:
        if path.is_file():
            found = rdf_format_for_path(path)
            factor = _MEMORY_PER_BYTE.get(found.name if found else "", _MEMORY_PER_BYTE_DEFAULT)
            total += path.stat().st_size * factor
    return int(total * copies)


def validate_files(
    paths: Iterable[Path], shapes: Graph | None = None, *, memory_mb: int | None = None, twin: bool | None = None
) -> ValidationReport:
    """Validate RDF files: loaded into pyoxigraph (in memory when :func:`memory_estimate`
    fits ``memory_mb``, default :attr:`Settings.validate_memory_mb`; else a temporary
    on-disk store that worker processes query on every core), checked by the compiled
    engine; an rdflib copy is read only if pyshacl must help.

    ``twin`` (default :attr:`Settings.validate_twin`, off) lets an in-memory validation
    of :data:`TWIN_BYTES` or more share its queries with a twin process that loads its own
    copy meanwhile, when the budget holds both: somewhat faster on two cores, for twice the
    memory and an assumption about blank nodes that is checked on every answer."""
    files = list(paths)
    shapes = load_shapes() if shapes is None else shapes
    budget = (Settings.validate_memory_mb if memory_mb is None else memory_mb) * 1024 * 1024
    wants_twin = Settings.validate_twin if twin is None else twin
    size = sum(p.stat().st_size for p in files if p.is_file())
    processes = min(2, os.cpu_count() or 1)
    if size > EXACT_BYTES and can_fork():
        # large N-Triples: checked in groups of jobs, each on an in-memory store of what it
        # reads (which refuses integer subtypes, whose literals must be kept as written)
        grouped = validate_in_groups(files, shapes, processes=processes, budget=budget)
        if grouped is not None:
            outcome, labels = grouped
            engines = {str(n): e for n, e in outcome.engines.items()}
            return report_from_graph(outcome.conforms, outcome.graph, shapes, labels.get, engines)
    # literals exactly as written (slower to load) up to the size where loading time matters,
    # and whenever the canonical form would change a datatype (integer subtypes)
    exact = size <= EXACT_BYTES or any(mentions_integer_subtypes(p) for p in files if p.is_file())
    native = exact and _has_sparql(shapes)
    # the native copy holds only what the SPARQL constraints read (all of it if unbounded)
    footprint = native_predicates(shapes, SHAPES_GRAPH) if native else None
    copies = 2 if native else 1
    in_memory = memory_estimate(files, copies=copies) <= budget
    # a twin process loads its own copy while this one loads, and shares the queries
    with_twin = (
        wants_twin
        and in_memory
        and processes > 1
        and size >= TWIN_BYTES
        and memory_estimate(files, copies=2 * copies) <= budget
        and can_fork()
    )
    with tempfile.TemporaryDirectory(prefix="kg-validate-") as tmp:

        def build() -> ox.Store:
            store = ox.Store() if in_memory else ox.Store(tmp)
            for path in files:
                load_for_validation(
                    store,
                    path,
                    exact=exact,
                    native=ox.NamedNode(NATIVE_GRAPH) if native else None,
                    native_predicates=footprint,
                    in_memory=in_memory,
                )
            _add_shapes_graph(store, shapes)
            if not in_memory:
                # the bulk loader leaves many unsorted table files: compacting them costs a
                # fraction of the load and makes the queries several times faster (at 10M
                # triples, 19 s of compaction took the checks from 194 s to 53 s)
                store.flush()
                store.optimize()
            return store

        layout = StoreLayout(
            path=None if in_memory else Path(tmp),
            processes=processes,
            shapes_graph=_shapes_graph_name(shapes),
            exact_literals=exact,
            native_graph=NATIVE_GRAPH if native else None,
        )
        with Twin(build, twin_plan(shapes, layout)) if with_twin else nullcontext(None) as helper:
            store = build()
            return validate_store(
                store, shapes, rdflib_data=lambda: read_graph(files), layout=replace(layout, twin=helper)
            )


def ontology_for_validation() -> Graph:
    """The ontology, mixed into data so ``sh:targetClass`` reaches subclass instances."""
    return read_graph([ontology_file()])
