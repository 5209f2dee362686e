"""The ``/shapes`` page: every named shape and each of its constraints, in words."""

from __future__ import annotations

from html import escape

from rdflib import BNode, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from kg.namespaces import RDF, RDFS, SH
from kg.server import markup
from kg.server.docs_model import Docs, Words, dl, named_ancestors, sorted_terms, text_of

__all__ = ["shapes_docs"]
# --- the shapes page --------------------------------------------------------------------------

_NODE_KINDS: dict[Node, str] = {SH.IRI: "an IRI", SH.BlankNode: "a blank node", SH.Literal: "a literal",
               SH.BlankNodeOrIRI: "an IRI or a blank node", SH.BlankNodeOrLiteral: "a blank node or a literal",
               SH.IRIOrLiteral: "an IRI or a literal"}
_SIMPLE: dict[Node, str] = {
    SH["class"]: "an instance of {v}", SH.datatype: "a literal of datatype {v}",
    SH.minInclusive: "≥ {v}", SH.minExclusive: "> {v}",
    SH.maxInclusive: "≤ {v}", SH.maxExclusive: "< {v}", SH.hasValue: "includes the value {v}",
    SH.node: "conforms to {v}", SH["not"]: "does not conform to {v}", SH.equals: "the same values as {v}",
    SH.disjoint: "no value in common with {v}", SH.lessThan: "less than every value of {v}",
    SH.lessThanOrEquals: "at most every value of {v}",
}
_LISTS: dict[Node, str] = {SH["or"]: "either", SH["and"]: "all of:", SH.xone: "exactly one of", SH["in"]: "one of",
          SH.languageIn: "in language"}
#: said elsewhere on the page, not as a constraint of the node
_NOT_CONSTRAINTS = {
    SH.path, SH.minCount, SH.maxCount, SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
    SH.property, SH.sparql, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf,
    SH.message, SH.name, SH.description, SH.severity, SH.order, SH.group, SH.deactivated, SH.ignoredProperties,
    SH.flags, RDF.type, RDFS.label, RDFS.comment,
}


def _constraints(w: Words, node: Node) -> list[str]:
    """Each constraint of a shape node (named or not), in words."""
    g, out = w.d.shapes, []
    for p, o in sorted(g.predicate_objects(node), key=lambda po: (str(po[0]), str(po[1]))):
        nested = w.link(o) if isinstance(o, URIRef) else f"[{_shape_words(w, o)}]"
        if p == SH.nodeKind:
            out.append(_NODE_KINDS.get(o, w.link(o)))
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


def _values(w: Words, node: Node) -> str:
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


def _nested(w: Words, node: Node) -> str:
    """A member of an sh:or/sh:and/sh:in list: a term, or a shape in brackets when it needs them."""
    if not isinstance(node, BNode):
        return w.link(node)
    words = _shape_words(w, node)
    simple = (node, SH.path, None) not in w.d.shapes and len(_constraints(w, node)) == 1
    return words if simple else f"[{words}]"


def _cardinality(low: Node | None, high: Node | None, noun: str) -> str:
    lo, hi = (int(str(x)) if x is not None else None for x in (low, high))

    def plural(n: int) -> str:
        return noun if n == 1 else noun + "s"

    if lo is not None and lo == hi:
        return f"exactly {lo} {plural(lo)}"
    if lo and hi is not None:
        return f"{lo} to {hi} {noun}s"
    if lo:
        return f"at least {lo} {plural(lo)}"
    if hi is not None:
        return f"at most {hi} {plural(hi)}"
    return f"any number of {noun}s"


def _path(w: Words, path: Node) -> str:
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


def _shape_words(w: Words, node: Node) -> str:
    """A (usually anonymous) shape in one line."""
    g = w.d.shapes
    path = g.value(node, SH.path)
    if path is not None:
        return f"{_path(w, path)}: {_values(w, node)}"
    return "; ".join(_constraints(w, node)) or "anything"


def _property_rows(w: Words, shape: URIRef) -> str:
    g, rows = w.d.shapes, []
    members = list(g.objects(shape, SH.property))
    if (shape, SH.path, None) in g:
        members.insert(0, shape)
    for ps in sorted(members, key=lambda n: w.qname(g.value(n, SH.path) or n)):
        path = g.value(ps, SH.path)
        named = f" <span class=how>(shape {w.link(ps)})</span>" if isinstance(ps, URIRef) and ps != shape else ""
        message = text_of(g, ps, SH.message)
        rows.append(f"<tr><td>{_path(w, path) if path is not None else '—'}{named}</td>"
                    f"<td>{_values(w, ps)}</td>"
                    f"<td>{f'<q>{escape(message)}</q>' if message else ''}</td></tr>")
    if not rows:
        return ""
    return f"<table class=constraints><tr><th>path</th><th>values</th><th>message</th></tr>{''.join(rows)}</table>"


def _shape_section(w: Words, shape: URIRef) -> str:
    g = w.d.shapes
    targets = ([f"every instance of {w.link(c)}" for c in sorted_terms(g.objects(shape, SH.targetClass))]
               + [f"every subject of {w.link(p)}" for p in sorted_terms(g.objects(shape, SH.targetSubjectsOf))]
               + [f"every object of {w.link(p)}" for p in sorted_terms(g.objects(shape, SH.targetObjectsOf))]
               + [f"the node {w.link(n)}" for n in sorted_terms(g.objects(shape, SH.targetNode))])
    users = sorted({a for s in g.subjects(None, shape) for a in named_ancestors(g, s)} - {shape})
    kind = "property shape" if (shape, RDF.type, SH.PropertyShape) in g else "node shape"
    sparql = "".join(
        f"<li><q>{escape(text_of(g, c, SH.message) or 'SPARQL constraint')}</q><details><summary>SPARQL</summary>"
        f"<pre>{escape(str(g.value(c, SH.select) or g.value(c, SH.ask) or ''))}</pre></details></li>"
        for c in g.objects(shape, SH.sparql)
    )
    node_words = _constraints(w, shape) if (shape, SH.path, None) not in g else []
    message = text_of(g, shape, SH.message)
    rows = [("file", f"<code>shapes/{escape(w.d.shape_files.get(shape, '?'))}</code>"),
            ("targets", "; ".join(targets)), ("focus nodes must be", "; ".join(node_words)),
            ("message", f"<q>{escape(message)}</q>" if message else ""),
            ("severity", w.link(severity) if (severity := g.value(shape, SH.severity)) is not None else ""),
            ("used by", w.links(users))]
    comment = text_of(g, shape, RDFS.comment)
    return (f"<section class=shape id='{escape(w.shape_anchor[shape])}'><h3>{escape(w.label(shape) or w.qname(shape))} "
            f"<code>{escape(w.qname(shape))}</code> <span class=kind>{kind}</span></h3>"
            + (f"<p>{escape(comment)}</p>" if comment else "") + dl(rows) + _property_rows(w, shape)
            + (f"<h4>SPARQL constraints</h4><ul>{sparql}</ul>" if sparql else "") + "</section>")


def shapes_docs(d: Docs) -> str:
    """The shapes as an HTML page."""
    w = Words(d, "shapes")
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
