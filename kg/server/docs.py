"""``/ontology`` and ``/shapes``: HTML documentation of the ontology and the SHACL shapes, and
the RDF itself by content negotiation.

Both are read with rdflib from the files (:func:`kg.resources.ontology_file`,
:func:`kg.resources.shape_files`), not from the store, and parsed once per version of the files.
RDF clients get Turtle unless they ask for JSON-LD, N-Triples, RDF/XML or N3; browsers get
HTML; ``?format=`` chooses for both. Each term's section has the term's own fragment as its
id, so ``/ontology#Claim`` is where ``nkg:Claim`` is documented and ``/shapes#ClaimShape``
where ``nkgsh:ClaimShape`` is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from ..formats import GRAPH_FORMATS, QueryKind, negotiate, output_format
from ..namespaces import DCTERMS, NKG, OWL, RDF, RDFS, SH
from ..resources import ontology_file, shape_files
from . import markup
from .responses import error_response

__all__ = ["router", "ontology_docs", "shapes_docs", "Docs"]

router = APIRouter()

_RDF_OFFERS = [f.media_type for f in GRAPH_FORMATS]
_HTML_OFFERS = ["text/html", "application/xhtml+xml"]
_FORMAT_NAMES = [f.name for f in GRAPH_FORMATS]
_KINDS = [  # (rdf:type, heading, word), in the order the page lists them
    (OWL.Class, "Classes", "class"), (RDFS.Class, "Classes", "class"),
    (OWL.ObjectProperty, "Object properties", "object property"),
    (OWL.DatatypeProperty, "Datatype properties", "datatype property"),
    (OWL.AnnotationProperty, "Annotation properties", "annotation property"),
    (RDF.Property, "Properties", "property"), (RDFS.Datatype, "Datatypes", "datatype"),
    (OWL.NamedIndividual, "Individuals", "individual"),
]
_SHAPE_TYPES = (SH.NodeShape, SH.PropertyShape)


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
        for rdf_type, _, word in _KINDS:
            for term in sorted(self.ontology.subjects(RDF.type, rdf_type)):
                if isinstance(term, URIRef):
                    out.setdefault(term, word)
        return out

    @property
    def named_shapes(self) -> list[URIRef]:
        """Every shape with an IRI."""
        found = {s for t in _SHAPE_TYPES for s in self.shapes.subjects(RDF.type, t) if isinstance(s, URIRef)}
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


class _Words:
    """Renders terms, class expressions and shapes as HTML for one of the two pages."""

    def __init__(self, d: Docs, page: str) -> None:
        self.d, self.page = d, page
        self.onto_anchor = {t: self.anchor(t) for t in d.terms}
        self.shape_anchor = {s: _fragment(s) for s in d.named_shapes}

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
            found = _text(graph, term, RDFS.label)
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


def _text(graph: Graph, subject: Node, predicate: URIRef) -> str | None:
    values = [o for o in graph.objects(subject, predicate) if isinstance(o, Literal)]
    english = [o for o in values if o.language in (None, "en")]
    return str((english or values)[0]) if values else None


def _fragment(iri: URIRef) -> str:
    text = str(iri)
    return text.split("#", 1)[1] if "#" in text else text.rstrip("/").rsplit("/", 1)[-1]


def _dl(rows: Iterable[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows if v) + "</dl>"


def _named_ancestors(g: Graph, node: Node) -> set[URIRef]:
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


def _shape_index(d: Docs) -> tuple[dict[Node, set[URIRef]], dict[Node, set[tuple[URIRef, str]]]]:
    """Which named shapes constrain each class (sh:targetClass) and each property (sh:path, targets)."""
    g = d.shapes
    classes: dict[Node, set[URIRef]] = {}
    props: dict[Node, set[tuple[URIRef, str]]] = {}
    for shape, cls in g.subject_objects(SH.targetClass):
        for named in _named_ancestors(g, shape):
            classes.setdefault(cls, set()).add(named)
    for node, path in g.subject_objects(SH.path):
        for term in _path_terms(g, path):
            for named in _named_ancestors(g, node):
                props.setdefault(term, set()).add((named, "sh:path"))
    for key, how in ((SH.targetSubjectsOf, "targets subjects of it"), (SH.targetObjectsOf, "targets objects of it")):
        for shape, prop in g.subject_objects(key):
            for named in _named_ancestors(g, shape):
                props.setdefault(prop, set()).add((named, how))
    return classes, props


# --- the ontology page -----------------------------------------------------------------------


def _term_section(w: _Words, term: URIRef, kind: str, index: tuple[dict, dict]) -> str:
    g, classes, props = w.d.ontology, *index
    is_property = kind.endswith("property")
    supers = list(g.objects(term, RDFS.subClassOf))
    disjoint = set(g.objects(term, OWL.disjointWith)) | set(g.subjects(OWL.disjointWith, term))
    for group in g.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(g, g.value(group, OWL.members)))
        if term in members:
            disjoint |= {m for m in members if m != term}
    kinds = [t for t in g.objects(term, RDF.type) if t not in {k for k, _, _ in _KINDS}]
    if is_property:
        shape_links = ", ".join(f"{w.link(shape)} <span class=how>({escape(how)})</span>"
                                for shape, how in sorted(props.get(term, set())))
    else:
        shape_links = w.links(classes.get(term, set()))
    rows = [("IRI", f"<code>{escape(str(term))}</code>")]
    if is_property:
        rows += [("domain", w.links(g.objects(term, RDFS.domain)) or "—"),
                 ("range", w.links(g.objects(term, RDFS.range)) or "—"),
                 ("subproperty of", w.links(g.objects(term, RDFS.subPropertyOf))),
                 ("superproperty of", w.links(s for s in g.subjects(RDFS.subPropertyOf, term)
                                              if isinstance(s, URIRef))),
                 ("inverse of", w.links(g.objects(term, OWL.inverseOf))),
                 ("characteristics", w.links(kinds))]
    else:
        supers.sort(key=lambda s: (isinstance(s, BNode), str(s)))
        rows += [("subclass of", ", ".join(w.expression(s) for s in supers)),
                 ("superclass of", w.links(s for s in g.subjects(RDFS.subClassOf, term) if isinstance(s, URIRef))),
                 ("equivalent to", ", ".join(w.expression(e) for e in g.objects(term, OWL.equivalentClass))),
                 ("disjoint with", w.links(disjoint)),
                 ("domain of", w.links(g.subjects(RDFS.domain, term))),
                 ("range of", w.links(g.subjects(RDFS.range, term)))]
    rows += [("constrained by", shape_links), ("defined by", w.links(g.objects(term, RDFS.isDefinedBy)))]
    comment = _text(g, term, RDFS.comment)
    return (f"<section class=term id='{escape(w.anchor(term))}'><h3>{escape(w.label(term) or w.qname(term))} "
            f"<code>{escape(w.qname(term))}</code> <span class=kind>{escape(kind)}</span></h3>"
            + (f"<p>{escape(comment)}</p>" if comment else "") + _dl(rows) + "</section>")


def ontology_docs(d: Docs) -> str:
    """The ontology as an HTML page."""
    g, w = d.ontology, _Words(d, "ontology")
    index = _shape_index(d)
    header = next(iter(g.subjects(RDF.type, OWL.Ontology)), None)
    title = (_text(g, header, DCTERMS.title) if header else None) or "Ontology"
    meta = []
    if header is not None:
        for prop, name in ((OWL.versionInfo, "version"), (OWL.versionIRI, "version IRI"),
                           (DCTERMS.license, "license"),
                           (DCTERMS.created, "created")):
            meta.append((name, w.links(g.objects(header, prop))))
        meta.insert(0, ("IRI", f"<code>{escape(str(header))}</code>"))
        meta.append(("namespace", f"<code>{escape(str(NKG))}</code> (prefix <code>nkg:</code>)"))
    description = _text(g, header, DCTERMS.description) if header else None
    own = {t: k for t, k in d.terms.items() if str(t).startswith(str(NKG))}
    external = {t: k for t, k in d.terms.items() if t not in own}
    groups: dict[str, list[URIRef]] = {}
    for rdf_type, heading, _ in _KINDS:
        for term in sorted(own):
            if (term, RDF.type, rdf_type) in g and term not in {t for ts in groups.values() for t in ts}:
                groups.setdefault(heading, []).append(term)
    toc = "".join(
        f"<li><a href='#{escape(h.lower().replace(' ', '-'))}'>{escape(h)}</a> ({len(ts)}): "
        + ", ".join(w.link(t) for t in ts) + "</li>" for h, ts in groups.items()
    ) + f"<li><a href='#external-terms'>External terms</a> ({len(external)})</li>"
    sections = "".join(
        f"<h2 id='{escape(h.lower().replace(' ', '-'))}'>{escape(h)}</h2>"
        + "".join(_term_section(w, t, own[t], index) for t in ts) for h, ts in groups.items()
    )
    classes, props = index
    ext_rows = "".join(
        f"<tr id='{escape(w.anchor(t))}'><td><a href='{escape(str(t))}'><code>{escape(w.qname(t))}</code></a></td>"
        f"<td>{escape(k)}</td><td>{escape(w.label(t) or '')}</td>"
        f"<td>{w.links(g.objects(t, RDFS.range))}</td><td>"
        + ", ".join(w.link(s) for s in sorted(classes.get(t, set())))
        + ", ".join(w.link(s) for s, _ in sorted(props.get(t, set()))) + "</td></tr>"
        for t, k in sorted(external.items(), key=lambda i: (i[1], w.qname(i[0])))
    )
    body = (
        (f"<p>{escape(description)}</p>" if description else "") + _dl(meta)
        + f"<nav class=toc><ul>{toc}</ul></nav>{sections}"
        + "<h2 id=external-terms>External terms</h2><p>Terms of other vocabularies the data uses, declared "
          "in the ontology so that OWL tools know each one's kind.</p>"
        + f"<table><tr><th>term</th><th>kind</th><th>label</th><th>range</th><th>constrained by</th></tr>"
          f"{ext_rows}</table>"
    )
    return markup.html_page(title, body, alternates=markup.alternates("/ontology"))


# --- the shapes page --------------------------------------------------------------------------

_NODE_KINDS = {SH.IRI: "an IRI", SH.BlankNode: "a blank node", SH.Literal: "a literal",
               SH.BlankNodeOrIRI: "an IRI or a blank node", SH.BlankNodeOrLiteral: "a blank node or a literal",
               SH.IRIOrLiteral: "an IRI or a literal"}
_SIMPLE: dict[URIRef, str] = {
    SH["class"]: "an instance of {v}", SH.datatype: "a literal of datatype {v}",
    SH.minInclusive: "≥ {v}", SH.minExclusive: "> {v}",
    SH.maxInclusive: "≤ {v}", SH.maxExclusive: "< {v}", SH.hasValue: "includes the value {v}",
    SH.node: "conforms to {v}", SH["not"]: "does not conform to {v}", SH.equals: "the same values as {v}",
    SH.disjoint: "no value in common with {v}", SH.lessThan: "less than every value of {v}",
    SH.lessThanOrEquals: "at most every value of {v}",
}
_LISTS = {SH["or"]: "either", SH["and"]: "all of:", SH.xone: "exactly one of", SH["in"]: "one of",
          SH.languageIn: "in language"}
#: said elsewhere on the page, not as a constraint of the node
_NOT_CONSTRAINTS = {
    SH.path, SH.minCount, SH.maxCount, SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
    SH.property, SH.sparql, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf,
    SH.message, SH.name, SH.description, SH.severity, SH.order, SH.group, SH.deactivated, SH.ignoredProperties,
    SH.flags, RDF.type, RDFS.label, RDFS.comment,
}


def _constraints(w: _Words, node: Node) -> list[str]:
    """Each constraint of a shape node (named or not), in words."""
    g, out = w.d.shapes, []
    for p, o in sorted(g.predicate_objects(node), key=lambda po: (str(po[0]), str(po[1]))):
        nested = w.link(o) if isinstance(o, URIRef) else f"[{_shape_words(w, o)}]"
        if p == SH.nodeKind:
            out.append(_NODE_KINDS.get(o, w.link(o)))  # type: ignore[arg-type]
        elif p in (SH.node, SH["not"]):
            out.append(_SIMPLE[p].format(v=nested))
        elif p in _SIMPLE:
            out.append(_SIMPLE[p].format(v=w.link(o)))
        elif p in (SH.minLength, SH.maxLength):
            n = int(str(o))
            out.append(f"{'at least' if p == SH.minLength else 'at most'} {n} character{'' if n == 1 else 's'}")
        elif p == SH.pattern:
            flags = g.value(node, SH.flags)
            out.append(f"matching <code>/{escape(str(o))}/{escape(str(flags or ''))}</code>")
        elif p in _LISTS:
            items = list(Collection(g, o))
            words = [_nested(w, i) for i in items]
            if p in (SH["or"], SH.xone) and len(words) > 1:
                lead = "either " if p == SH["or"] else "exactly one of "
                out.append(lead + ", ".join(words[:-1]) + " <em>or</em> " + words[-1])
            else:
                out.append(f"{_LISTS[p]} " + (" <em>and</em> " if p == SH["and"] else ", ").join(words))
        elif p == SH.uniqueLang and str(o).lower() == "true":
            out.append("at most one value per language")
        elif p == SH.closed and str(o).lower() == "true":
            ignored = g.value(node, SH.ignoredProperties)
            extra = ", ".join(w.link(i) for i in Collection(g, ignored)) if ignored is not None else ""
            out.append("no properties other than those listed" + (f" (and {extra})" if extra else ""))
        elif p not in _NOT_CONSTRAINTS:
            out.append(f"{w.link(p)} {w.link(o)}")
    return out


def _values(w: _Words, node: Node) -> str:
    """What a property shape asks of the values on its path, in words."""
    g = w.d.shapes
    low, high = g.value(node, SH.minCount), g.value(node, SH.maxCount)
    words = _constraints(w, node)
    parts = []
    qualified = g.value(node, SH.qualifiedValueShape)
    if low is not None or high is not None or words or qualified is None:
        parts.append(_cardinality(low, high, "value") + (", each " + "; ".join(words) if words else ""))
    if qualified is not None:
        count = _cardinality(g.value(node, SH.qualifiedMinCount), g.value(node, SH.qualifiedMaxCount), "value")
        if isinstance(qualified, BNode):
            what = f"is {_shape_words(w, qualified)}"
        else:
            what = f"conforms to {w.link(qualified)}"
        parts.append(f"{count} that {what}")
    return "; ".join(parts)


def _nested(w: _Words, node: Node) -> str:
    """A member of an sh:or/sh:and/sh:in list: a term, or a shape in brackets when it needs them."""
    if not isinstance(node, BNode):
        return w.link(node)
    words = _shape_words(w, node)
    simple = (node, SH.path, None) not in w.d.shapes and len(_constraints(w, node)) == 1
    return words if simple else f"[{words}]"


def _cardinality(low: Node | None, high: Node | None, noun: str) -> str:
    lo, hi = (int(str(x)) if x is not None else None for x in (low, high))
    plural = lambda n: noun if n == 1 else noun + "s"  # noqa: E731
    if lo is not None and lo == hi:
        return f"exactly {lo} {plural(lo)}"
    if lo and hi is not None:
        return f"{lo} to {hi} {noun}s"
    if lo:
        return f"at least {lo} {plural(lo)}"
    if hi is not None:
        return f"at most {hi} {plural(hi)}"
    return f"any number of {noun}s"


def _path(w: _Words, path: Node) -> str:
    g = w.d.shapes
    if not isinstance(path, BNode):
        return w.link(path)
    for key, fmt in ((SH.inversePath, "^{}"), (SH.zeroOrMorePath, "{}*"), (SH.oneOrMorePath, "{}+"),
                     (SH.zeroOrOnePath, "{}?")):
        if (inner := g.value(path, key)) is not None:
            return fmt.format(_path(w, inner))
    if (alternatives := g.value(path, SH.alternativePath)) is not None:
        return "(" + " | ".join(_path(w, p) for p in Collection(g, alternatives)) + ")"
    return " / ".join(_path(w, p) for p in Collection(g, path))


def _shape_words(w: _Words, node: Node) -> str:
    """A (usually anonymous) shape in one line."""
    g = w.d.shapes
    path = g.value(node, SH.path)
    if path is not None:
        return f"{_path(w, path)}: {_values(w, node)}"
    return "; ".join(_constraints(w, node)) or "anything"


def _property_rows(w: _Words, shape: URIRef) -> str:
    g, rows = w.d.shapes, []
    members = list(g.objects(shape, SH.property))
    if (shape, SH.path, None) in g:
        members.insert(0, shape)
    for ps in sorted(members, key=lambda n: w.qname(g.value(n, SH.path) or n)):
        path = g.value(ps, SH.path)
        named = f" <span class=how>(shape {w.link(ps)})</span>" if isinstance(ps, URIRef) and ps != shape else ""
        message = _text(g, ps, SH.message)
        rows.append(f"<tr><td>{_path(w, path) if path is not None else '—'}{named}</td>"
                    f"<td>{_values(w, ps)}</td>"
                    f"<td>{f'<q>{escape(message)}</q>' if message else ''}</td></tr>")
    if not rows:
        return ""
    return f"<table class=constraints><tr><th>path</th><th>values</th><th>message</th></tr>{''.join(rows)}</table>"


def _shape_section(w: _Words, shape: URIRef) -> str:
    g = w.d.shapes
    targets = ([f"every instance of {w.link(c)}" for c in sorted(g.objects(shape, SH.targetClass))]
               + [f"every subject of {w.link(p)}" for p in sorted(g.objects(shape, SH.targetSubjectsOf))]
               + [f"every object of {w.link(p)}" for p in sorted(g.objects(shape, SH.targetObjectsOf))]
               + [f"the node {w.link(n)}" for n in sorted(g.objects(shape, SH.targetNode))])
    users = sorted({a for s in g.subjects(None, shape) for a in _named_ancestors(g, s)} - {shape})
    kind = "property shape" if (shape, RDF.type, SH.PropertyShape) in g else "node shape"
    sparql = "".join(
        f"<li><q>{escape(_text(g, c, SH.message) or 'SPARQL constraint')}</q><details><summary>SPARQL</summary>"
        f"<pre>{escape(str(g.value(c, SH.select) or g.value(c, SH.ask) or ''))}</pre></details></li>"
        for c in g.objects(shape, SH.sparql)
    )
    node_words = _constraints(w, shape) if (shape, SH.path, None) not in g else []
    message = _text(g, shape, SH.message)
    rows = [("file", f"<code>shapes/{escape(w.d.shape_files.get(shape, '?'))}</code>"),
            ("targets", "; ".join(targets)), ("focus nodes must be", "; ".join(node_words)),
            ("message", f"<q>{escape(message)}</q>" if message else ""),
            ("severity", w.link(g.value(shape, SH.severity)) if (shape, SH.severity, None) in g else ""),
            ("used by", w.links(users))]
    comment = _text(g, shape, RDFS.comment)
    return (f"<section class=shape id='{escape(w.shape_anchor[shape])}'><h3>{escape(w.label(shape) or w.qname(shape))} "
            f"<code>{escape(w.qname(shape))}</code> <span class=kind>{kind}</span></h3>"
            + (f"<p>{escape(comment)}</p>" if comment else "") + _dl(rows) + _property_rows(w, shape)
            + (f"<h4>SPARQL constraints</h4><ul>{sparql}</ul>" if sparql else "") + "</section>")


def shapes_docs(d: Docs) -> str:
    """The shapes as an HTML page."""
    w = _Words(d, "shapes")
    shapes = sorted(d.named_shapes, key=lambda s: (d.shape_files.get(s, ""), str(s)))
    files: dict[str, list[URIRef]] = {}
    for s in shapes:
        files.setdefault(d.shape_files.get(s, "?"), []).append(s)
    toc = "".join(f"<li><code>shapes/{escape(f)}</code>: " + ", ".join(w.link(s) for s in ss) + "</li>"
                  for f, ss in files.items())
    body = ("<p>The SHACL shapes every build and every ingest is validated against (<code>kg validate</code>), "
            "one file per concern. Each shape's constraints are spelled out below; the classes and "
            "properties link to the <a href=/ontology>ontology</a>.</p>"
            f"<nav class=toc><ul>{toc}</ul></nav>" + "".join(_shape_section(w, s) for s in shapes))
    return markup.html_page("SHACL shapes", body, alternates=markup.alternates("/shapes"))


# --- routes -------------------------------------------------------------------------------------


def _respond(request: Request, format: str | None, name: str) -> Response:
    """``name`` ("ontology" or "shapes") in the negotiated format; each rendering made once per
    version of the files."""
    d = docs()
    key = format or negotiate(request.headers.get("accept"), [*_RDF_OFFERS, *_HTML_OFFERS])
    headers = {"Vary": "Accept"}
    if key in ("html", *_HTML_OFFERS):
        if (name, "html") not in d.rendered:
            page = ontology_docs if name == "ontology" else shapes_docs
            d.rendered[(name, "html")] = page(d).encode("utf-8")
        return HTMLResponse(d.rendered[(name, "html")], headers=headers)
    fmt = output_format(QueryKind.GRAPH, key) if key else None
    if fmt is None:
        offered = ", ".join([*_RDF_OFFERS, "text/html"])
        return error_response(406, f"offered: {offered} (format=html or one of {', '.join(_FORMAT_NAMES)})")
    if (name, fmt.name) not in d.rendered:
        graph = d.ontology if name == "ontology" else d.shapes
        if fmt.name == "turtle" and name == "ontology":
            data = d.ontology_path.read_bytes()  # the source itself, comments and all
        elif fmt.name == "jsonld":
            context = {p: str(ns) for p, ns in graph.namespaces() if p}
            data = graph.serialize(format="json-ld", context=context, auto_compact=True, encoding="utf-8")
        else:
            data = graph.serialize(format=fmt.rdflib, encoding="utf-8")
        d.rendered[(name, fmt.name)] = data
    media = fmt.media_type + ("; charset=utf-8" if fmt.media_type.startswith("text/") else "")
    return Response(d.rendered[(name, fmt.name)], media_type=media, headers=headers)


@router.get("/ontology", summary="The ontology: HTML documentation, or the OWL itself as RDF")
def ontology(request: Request, format: str | None = None) -> Response:
    """The ontology by Accept: Turtle (the source file) for RDF clients, HTML for browsers;
    ``?format=html|turtle|jsonld|ntriples|rdfxml|n3`` overrides it."""
    return _respond(request, format, "ontology")


@router.get("/shapes", summary="The SHACL shapes: HTML documentation, or the shapes as RDF")
def shapes(request: Request, format: str | None = None) -> Response:
    """All shapes files as one graph, by Accept (``?format=`` overrides it)."""
    return _respond(request, format, "shapes")
