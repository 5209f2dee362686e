"""The parsed ontology and shapes files behind ``/ontology`` and ``/shapes``, and the small
helpers both pages use to put RDF into words (labels, links, fragments, shape index).

Parsed once per version of the files (a cache keyed on their modification times).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Identifier, Node

from kg.namespaces import NKG, OWL, RDF, RDFS, SH
from kg.resources import ontology_file, shape_files
from kg.server import markup

__all__ = ["Docs", "Words", "KINDS", "SHAPE_TYPES", "ShapeIndex", "docs", "dl", "fragment", "text_of",
           "named_ancestors", "shape_index", "sorted_terms"]

KINDS = [  # (rdf:type, heading, word), in the order the page lists them
    (OWL.Class, "Classes", "class"), (RDFS.Class, "Classes", "class"),
    (OWL.ObjectProperty, "Object properties", "object property"),
    (OWL.DatatypeProperty, "Datatype properties", "datatype property"),
    (OWL.AnnotationProperty, "Annotation properties", "annotation property"),
    (RDF.Property, "Properties", "property"), (RDFS.Datatype, "Datatypes", "datatype"),
    (OWL.NamedIndividual, "Individuals", "individual"),
]
SHAPE_TYPES = (SH.NodeShape, SH.PropertyShape)
#: the named shapes that constrain each class, and each property with how (see :func:`shape_index`)
ShapeIndex = tuple[dict[Node, set[URIRef]], dict[Node, set[tuple[URIRef, str]]]]


@dataclass
class Docs:
    """One version of the ontology and shapes files, parsed, with the pages rendered from them."""

    ontology: Graph
    shapes: Graph
    shape_files: dict[URIRef, str]
    ontology_path: Path
    rendered: dict[tuple[str, str], bytes] = field(default_factory=dict)

    @property
    def terms(self) -> dict[URIRef, str]:
        """Every term the ontology declares, with the word for its kind (first kind listed)."""
        out: dict[URIRef, str] = {}
        for rdf_type, _, word in KINDS:
            for term in sorted(t for t in self.ontology.subjects(RDF.type, rdf_type) if isinstance(t, URIRef)):
                out.setdefault(term, word)
        return out

    @property
    def named_shapes(self) -> list[URIRef]:
        """Every shape with an IRI."""
        found = {s for t in SHAPE_TYPES for s in self.shapes.subjects(RDF.type, t) if isinstance(s, URIRef)}
        return sorted(found)


@lru_cache(maxsize=4)
def _load(ontology: Path, shapes: tuple[Path, ...], stamps: tuple[tuple[int, int], ...]) -> Docs:
    onto = Graph().parse(ontology, format="turtle")
    merged, sources = Graph(), {}
    for path in shapes:
        part = Graph().parse(path, format="turtle")
        for prefix, ns in part.namespaces():
            merged.bind(prefix, ns, override=False)
        for triple in part:
            merged.add(triple)
        sources.update({s: path.name for s in part.subjects() if isinstance(s, URIRef)})
    return Docs(onto, merged, sources, ontology)


def docs() -> Docs:
    """The ontology and shapes as the files are now (parsed again only when a file changes)."""
    paths = (ontology_file(), *shape_files())
    stamps = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    return _load(paths[0], paths[1:], stamps)


# --- words for RDF terms ---------------------------------------------------------------------


class Words:
    """Renders terms, class expressions and shapes as HTML for one of the two pages."""

    def __init__(self, d: Docs, page: str) -> None:
        self.d, self.page = d, page
        self.onto_anchor = {t: self.anchor(t) for t in d.terms}
        self.shape_anchor = {s: fragment(s) for s in d.named_shapes}

    def anchor(self, term: URIRef) -> str:
        return str(term)[len(str(NKG)):] if str(term).startswith(str(NKG)) else self.qname(term)

    def qname(self, term: Node) -> str:
        for graph in (self.d.ontology, self.d.shapes):
            try:
                return graph.namespace_manager.curie(str(term), generate=False)
            except (KeyError, ValueError):
                continue
        return markup.short(str(term))

    def label(self, term: Node) -> str | None:
        for graph in (self.d.ontology, self.d.shapes):
            found = text_of(graph, term, RDFS.label)
            if found:
                return found
        return None

    def link(self, term: Node) -> str:
        if isinstance(term, Literal):
            return f"<span class=lit>{escape(str(term))}</span>"
        if not isinstance(term, URIRef):
            return "<span class=bnode>[ ]</span>"
        if term in self.onto_anchor:
            url = ("" if self.page == "ontology" else "/ontology") + "#" + self.onto_anchor[term]
        elif term in self.shape_anchor:
            url = ("" if self.page == "shapes" else "/shapes") + "#" + self.shape_anchor[term]
        else:
            url = markup.href(str(term))
        tip = self.label(term)
        title = f' title="{escape(tip)}"' if tip else ""
        return f'<a href="{escape(url)}"{title}><code>{escape(self.qname(term))}</code></a>'

    def links(self, terms: Iterable[Node]) -> str:
        return ", ".join(self.link(t) for t in sorted(set(terms), key=str))

    def expression(self, node: Node) -> str:
        """An OWL class expression or data range in words."""
        g = self.d.ontology
        if not isinstance(node, BNode):
            return self.link(node)
        prop = g.value(node, OWL.onProperty)
        if prop is not None:
            p = self.link(prop)
            for key, words in ((OWL.allValuesFrom, "every {p} is {x}"), (OWL.someValuesFrom, "some {p} is {x}"),
                               (OWL.hasValue, "{p} has the value {x}")):
                if (value := g.value(node, key)) is not None:
                    return words.format(p=p, x=self.expression(value))
            for key, words in ((OWL.cardinality, "exactly"), (OWL.qualifiedCardinality, "exactly"),
                               (OWL.minCardinality, "at least"), (OWL.minQualifiedCardinality, "at least"),
                               (OWL.maxCardinality, "at most"), (OWL.maxQualifiedCardinality, "at most")):
                if (value := g.value(node, key)) is not None:
                    on = g.value(node, OWL.onClass) or g.value(node, OWL.onDataRange)
                    return f"{words} {escape(str(value))} {p}" + (f" that is {self.expression(on)}" if on else "")
        for key, words in ((OWL.unionOf, "any of"), (OWL.intersectionOf, "all of"), (OWL.oneOf, "one of")):
            if (items := g.value(node, key)) is not None:
                return f"{words} (" + ", ".join(self.expression(i) for i in Collection(g, items)) + ")"
        if (value := g.value(node, OWL.complementOf)) is not None:
            return f"not {self.expression(value)}"
        return "an anonymous class"


def text_of(graph: Graph, subject: Node, predicate: URIRef) -> str | None:
    values = [o for o in graph.objects(subject, predicate) if isinstance(o, Literal)]
    english = [o for o in values if o.language in (None, "en")]
    return str((english or values)[0]) if values else None


def sorted_terms(nodes: Iterable[Node]) -> list[Identifier]:
    """``nodes`` in rdflib's order of terms (blank nodes, IRIs, literals; each kind by its text).

    The files are Turtle, whose graphs hold nothing but terms."""
    return sorted(n for n in nodes if isinstance(n, Identifier))


def fragment(iri: URIRef) -> str:
    text = str(iri)
    return text.split("#", 1)[1] if "#" in text else text.rstrip("/").rsplit("/", 1)[-1]


def dl(rows: Iterable[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows if v) + "</dl>"


def named_ancestors(g: Graph, node: Node) -> set[URIRef]:
    """The named nodes above ``node`` (the shape a property shape or a list member belongs to)."""
    found, seen, todo = set(), set(), [node]
    while todo:
        current = todo.pop()
        if isinstance(current, URIRef):
            found.add(current)
            continue
        if current in seen:
            continue
        seen.add(current)
        todo.extend(g.subjects(None, current))
    return found


def _path_terms(g: Graph, path: Node) -> set[URIRef]:
    if isinstance(path, URIRef):
        return {path}
    out: set[URIRef] = set()
    for _, _, o in g.triples((path, None, None)):
        out |= _path_terms(g, o)
    return out


def shape_index(d: Docs) -> ShapeIndex:
    """Which named shapes constrain each class (sh:targetClass) and each property (sh:path, targets)."""
    g = d.shapes
    classes: dict[Node, set[URIRef]] = {}
    props: dict[Node, set[tuple[URIRef, str]]] = {}
    for shape, cls in g.subject_objects(SH.targetClass):
        for named in named_ancestors(g, shape):
            classes.setdefault(cls, set()).add(named)
    for node, path in g.subject_objects(SH.path):
        for term in _path_terms(g, path):
            for named in named_ancestors(g, node):
                props.setdefault(term, set()).add((named, "sh:path"))
    for key, how in ((SH.targetSubjectsOf, "targets subjects of it"), (SH.targetObjectsOf, "targets objects of it")):
        for shape, prop in g.subject_objects(key):
            for named in named_ancestors(g, shape):
                props.setdefault(prop, set()).add((named, how))
    return classes, props


