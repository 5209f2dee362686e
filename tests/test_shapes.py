"""Every SHACL shape in shapes/*.ttl, tested both ways.

Positive: the built corpus conforms, and so does every small slice of it the negative
cases start from. Negative: each case takes one slice (the ontology, one claim with its
evidence, statements and estimate, its document, the facts it asserts and the entities
they name), breaks exactly one thing, and expects a result from the named shape, on the
named path, at the named focus node, from the named constraint component.

``test_every_constraint_has_a_negative_case`` reads the shapes graph and fails when a
constraint has no case here, so a new shape cannot slip in untested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Identifier, Node

from kg.build.dataset import BuildResult
from kg.build.rdfize import ENTITIES_GRAPH, ONTOLOGY_GRAPH
from kg.iris import Kind, parse
from kg.namespaces import DCTERMS, NKG, OA, OWL, RDF, RDFS, SCHEMA, SH, SKOS
from kg.validation.check import load_shapes, validate_graph
from kg.validation.model import ValidationReport, ValidationResult

NKGSH = "https://w3id.org/negotiation-kg/shapes#"
#: a plain Namespace: rdflib's closed XSD namespace warns when pytest probes module globals
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
ENTITY_KINDS = {Kind.ACTOR, Kind.PLACE, Kind.MEETING, Kind.PROPOSAL}
STANCES = (NKG.proposedBy, NKG.supportedBy, NKG.opposedBy)


# --------------------------------------------------------------------------- slices


def _plain(g: Graph, statement: Node) -> bool:
    """Whether an asserted statement is also a plain triple: current and without a condition."""
    return g.value(statement, NKG.timeStatus) == NKG.Current and (statement, NKG.condition, None) not in g


def _is_entity(node: Identifier) -> bool:
    parsed = parse(str(node)) if isinstance(node, URIRef) else None
    return parsed is not None and parsed[0] in ENTITY_KINDS


@dataclass
class Slice:
    """A small conforming piece of the built data, built around one claim."""

    name: str
    claim: URIRef
    graph: Graph
    source: "Slicer"
    report: ValidationReport

    @property
    def document(self) -> URIRef:
        doc = self.graph.value(self.claim, NKG.statedIn)
        assert isinstance(doc, URIRef)
        return doc

    def part(self, name: str) -> URIRef:
        """A node hanging off the claim (``#evidence``, ``#target``, ``#estimate``, …)."""
        node = URIRef(f"{self.claim}#{name}")
        assert (node, None, None) in self.graph, f"{node} is not in slice {self.name}"
        return node

    def fact(self, g: Graph, predicate: URIRef) -> tuple[URIRef, Identifier]:
        """The first plain fact with ``predicate`` that the slice's claim asserts."""
        facts = sorted(
            (g.value(st, RDF.subject), g.value(st, RDF.object))
            for st in g.objects(self.claim, NKG.asserts)
            if g.value(st, RDF.predicate) == predicate and _plain(g, st)
        )
        assert facts, f"claim {self.claim} asserts no {predicate}"
        subject, obj = facts[0]
        assert (subject, predicate, obj) in g
        return subject, obj  # type: ignore[return-value]

    def bring(self, g: Graph, cls: URIRef, *, exclude: set[Identifier] | frozenset[Identifier] = frozenset()) -> URIRef:
        """Add a gazetteer entity of class ``cls`` (not in ``exclude``) to ``g``; return it."""
        return self.source.bring(g, cls, exclude)

    def bring_other_document(self, g: Graph) -> URIRef:
        """Add another document of the corpus (its own triples only) to ``g``; return it."""
        others = sorted(d for d in self.source.union.subjects(RDF.type, NKG.Document) if d != self.document)
        assert others, "the corpus has a single document"
        doc = others[0]
        self.source.describe(g, doc)
        for author in self.source.union.objects(doc, SCHEMA.author):
            self.source.describe(g, author)
        return doc  # type: ignore[return-value]


class Slicer:
    """Cuts slices out of the built dataset (lazily, once per slice name)."""

    def __init__(self, built: BuildResult, union_graph: Graph, shapes: Graph) -> None:
        self.union = union_graph
        self.entities = built.graphs[ENTITIES_GRAPH]
        self.ontology = built.graphs[ONTOLOGY_GRAPH]
        self.shapes = shapes
        self.cache: dict[str, Slice] = {}
        self.claims = sorted(union_graph.subjects(RDF.type, NKG.Claim))

    def describe(self, g: Graph, node: Identifier) -> None:
        source = self.entities if _is_entity(node) else self.union
        for triple in source.triples((node, None, None)):
            g.add(triple)

    def bring(self, g: Graph, cls: URIRef, exclude: set[Identifier] | frozenset[Identifier]) -> URIRef:
        candidates = sorted(e for e in self.entities.subjects(RDF.type, cls) if e not in exclude)
        assert candidates, f"the gazetteer has no {cls} outside {exclude}"
        self.describe(g, candidates[0])
        return candidates[0]  # type: ignore[return-value]

    def _statements(self, claim: Identifier) -> list[Identifier]:
        return sorted(self.union.objects(claim, NKG.asserts))

    def choose(self, name: str) -> URIRef:
        """The claim a slice is built around: the smallest claim that has what ``name`` needs."""
        u = self.union

        def asserts(predicate: URIRef) -> Callable[[Identifier], bool]:
            return lambda c: any(
                u.value(st, RDF.predicate) == predicate and _plain(u, st) for st in u.objects(c, NKG.asserts)
            )

        def statement_has(*props: URIRef, time: URIRef | None = None) -> Callable[[Identifier], bool]:
            return lambda c: any(
                all((st, p, None) in u for p in props) and (time is None or (st, NKG.timeStatus, time) in u)
                for st in u.objects(c, NKG.asserts)
            )

        def open_stance(c: Identifier) -> bool:
            """Asserts a plain stance, and its quote does not end its sentence (the sentence runs on)."""
            quote = str(u.value(c, NKG.quote))
            return (
                any(u.value(st, RDF.predicate) in STANCES and _plain(u, st) for st in u.objects(c, NKG.asserts))
                and not quote.rstrip("”’\"')").endswith((".", "!", "?"))
            )

        def estimate_has(*props: URIRef) -> Callable[[Identifier], bool]:
            return lambda c: any(all((e, p, None) in u for p in props) for e in u.objects(c, NKG.estimate))

        wanted: dict[str, Callable[[Identifier], bool]] = {
            "claim": lambda c: not list(u.objects(c, NKG.asserts)) and (c, NKG.estimate, None) not in u,
            "estimate-value": estimate_has(SCHEMA.value, NKG.estimateSource, NKG.referenceDate),
            "estimate-range": estimate_has(SCHEMA.minValue, SCHEMA.maxValue),
            "former": statement_has(NKG.timeWords, time=NKG.Former),
            "conditional": statement_has(NKG.condition),
            "question": open_stance,
            "quoted": lambda c: (c, RDF.type, NKG.QuotedStatement) in u,
        }
        predicate_slices = {
            "participant": NKG.participant,
            "hostedBy": NKG.hostedBy,
            "location": SCHEMA.location,
            "startDate": SCHEMA.startDate,
            "endDate": SCHEMA.endDate,
            "scheduledDate": NKG.scheduledDate,
            "proposedBy": NKG.proposedBy,
            "supportedBy": NKG.supportedBy,
            "opposedBy": NKG.opposedBy,
            "discussedAt": NKG.discussedAt,
            "represents": NKG.represents,
            "affiliation": SCHEMA.affiliation,
            "jobTitle": SCHEMA.jobTitle,
        }
        test = wanted[name] if name in wanted else asserts(predicate_slices[name])
        candidates = [c for c in self.claims if test(c)]
        assert candidates, f"no claim in the corpus fits slice {name!r}"
        return min(candidates, key=lambda c: (len(self._statements(c)), str(c)))  # type: ignore[return-value]

    def slice(self, name: str) -> Slice:
        if name in self.cache:
            return self.cache[name]
        claim = self.choose(name)
        u = self.union
        g = Graph()
        g += self.ontology
        # the claim and every node hanging off it (#evidence, #target, selectors, #estimate, #statement-n)
        self.describe(g, claim)
        for part in {s for s in u.subjects() if isinstance(s, URIRef) and str(s).startswith(f"{claim}#")}:
            self.describe(g, part)
        # links to other claims lead out of the slice
        for p in (NKG.corroborates, NKG.contradicts):
            g.remove((claim, p, None))
        # the facts the claim asserts as holding when written (the others are statements only)
        for st in self._statements(claim):
            fact = (u.value(st, RDF.subject), u.value(st, RDF.predicate), u.value(st, RDF.object))
            if _plain(u, st):
                assert fact in u, f"{st} asserts a fact the graph does not hold"
                g.add(fact)  # type: ignore[arg-type]
        # its document (schema:mentions stay as links; the mentioned entities are not pulled in)
        self.describe(g, u.value(claim, NKG.statedIn))  # type: ignore[arg-type]
        # every entity the slice names, as the gazetteer describes it
        named = {n for s, p, o in g if p != SCHEMA.mentions for n in (s, o) if _is_entity(n)}
        for entity in named:
            self.describe(g, entity)
        report = validate_graph(g, self.shapes)
        self.cache[name] = Slice(name, claim, g, self, report)
        return self.cache[name]


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def slicer(built: BuildResult, union_graph: Graph, shapes: Graph) -> Slicer:
    return Slicer(built, union_graph, shapes)


# --------------------------------------------------------------------------- mutations
#
# A mutation breaks one thing in a copy of a slice and returns the focus node the
# broken shape must report; or (focus, value) when the value is checked too; or
# (focus, value or None, words) when the SPARQL message must also say those words.

NodeFn = Callable[[Graph, Slice], Identifier]
ValueFn = Union[Identifier, Callable[[Graph, Slice, Identifier], Identifier]]
#: the focus node; or (focus, value); or (focus, value or None, words the message must contain)
Outcome = Union[Identifier, tuple[Identifier, Identifier], tuple[Identifier, Union[Identifier, None], tuple[str, ...]]]
Mutation = Callable[[Graph, Slice], Outcome]


def claim(g: Graph, s: Slice) -> Identifier:
    return s.claim


def document(g: Graph, s: Slice) -> Identifier:
    return s.document


def part(name: str) -> NodeFn:
    return lambda g, s: s.part(name)


def claimant(g: Graph, s: Slice) -> Identifier:
    node = g.value(s.claim, NKG.claimant)
    assert node is not None
    return node


def statement(g: Graph, s: Slice) -> Identifier:
    return sorted(g.objects(s.claim, NKG.asserts))[0]


def subject_of(predicate: URIRef) -> NodeFn:
    return lambda g, s: s.fact(g, predicate)[0]


def object_of(predicate: URIRef) -> NodeFn:
    return lambda g, s: s.fact(g, predicate)[1]


def _value(value: ValueFn, g: Graph, s: Slice, node: Identifier) -> Identifier:
    return value(g, s, node) if callable(value) else value  # type: ignore[operator]


def drop(node: NodeFn, *predicates: URIRef) -> Mutation:
    """Remove every value of each of ``predicates`` from the node."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        n = node(g, s)
        for predicate in predicates:
            assert (n, predicate, None) in g, f"{n} has no {predicate} to remove"
            g.remove((n, predicate, None))
        return n

    return mutate


def unlink(node: NodeFn, predicate: URIRef, value: NodeFn) -> Mutation:
    """Remove one link ``node predicate value`` (the value node itself stays)."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        n, v = node(g, s), value(g, s)
        assert (n, predicate, v) in g
        g.remove((n, predicate, v))
        return n

    return mutate


def two_values(node: NodeFn, predicate: URIRef, first: Identifier, second: Identifier) -> Mutation:
    """Make sure the node has (at least) these two ``predicate`` values."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        n = node(g, s)
        g.add((n, predicate, first))
        g.add((n, predicate, second))
        return n

    return mutate


def add(node: NodeFn, predicate: URIRef, value: ValueFn) -> Mutation:
    """Add one more ``predicate`` value to the node."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        n = node(g, s)
        v = _value(value, g, s, n)
        assert (n, predicate, v) not in g
        g.add((n, predicate, v))
        return n

    return mutate


def replace(node: NodeFn, predicate: URIRef, value: ValueFn) -> Mutation:
    """Replace the node's ``predicate`` values by one new value."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        n = node(g, s)
        v = _value(value, g, s, n)
        g.remove((n, predicate, None))
        g.add((n, predicate, v))
        return n

    return mutate


def untype(node: NodeFn, cls: URIRef) -> Mutation:
    """Remove ``rdf:type cls`` from the node; the focus is whoever links to it."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        n = node(g, s)
        assert (n, RDF.type, cls) in g
        g.remove((n, RDF.type, cls))
        holder = next(g.subjects(None, n))
        return holder

    return mutate


def retarget(predicate: URIRef, value: ValueFn) -> Mutation:
    """Change the object of an asserted fact, in the fact and in every statement of it,
    as the build would write it had the annotation named that object."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        subject, old = s.fact(g, predicate)
        new = _value(value, g, s, old)
        g.remove((subject, predicate, old))
        g.add((subject, predicate, new))
        for st in list(g.subjects(RDF.object, old)):
            if (st, RDF.subject, subject) in g and (st, RDF.predicate, predicate) in g:
                g.set((st, RDF.object, new))
        return subject

    return mutate


def unasserted(predicate: URIRef, cls: URIRef) -> Mutation:
    """Add a second ``predicate`` fact to an asserted one's subject that no claim asserts."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        subject, _ = s.fact(g, predicate)
        new = s.bring(g, cls, exclude=set(g.objects(subject, predicate)) | {subject})
        g.add((subject, predicate, new))
        return subject, new

    return mutate


def copy_node(node: NodeFn, suffix: str, link: URIRef) -> Mutation:
    """Add a copy of the node (same triples, new IRI) under the same holder via ``link``."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        n = node(g, s)
        holder = next(g.subjects(link, n))
        twin = URIRef(f"{n}-{suffix}")
        for _, p, o in list(g.triples((n, None, None))):
            g.add((twin, p, o))
        g.add((holder, link, twin))
        return holder

    return mutate


def bring(cls: URIRef) -> Callable[[Graph, Slice, Identifier], Identifier]:
    """A value: a gazetteer entity of class ``cls``, added to the slice."""
    return lambda g, s, n: s.bring(g, cls, exclude={n})


def other_document(g: Graph, s: Slice, n: Identifier) -> Identifier:
    return s.bring_other_document(g)


def en(text: str) -> Literal:
    return Literal(text, lang="en")


def retyped(predicate: URIRef, *, datatype: URIRef | None = None, lang: str | None = None) -> ValueFn:
    """A value: the node's current ``predicate`` value with another datatype or language."""

    def value(g: Graph, s: Slice, n: Identifier) -> Identifier:
        current = g.value(n, predicate)
        assert isinstance(current, Literal), f"{n} has no literal {predicate}"
        return Literal(str(current), lang=lang) if lang else Literal(str(current), datatype=datatype)

    return value


def other_text(predicate: URIRef, suffix: str = " (again)") -> ValueFn:
    """A value: the node's current ``predicate`` value with words appended (same type)."""

    def value(g: Graph, s: Slice, n: Identifier) -> Identifier:
        current = g.value(n, predicate)
        assert isinstance(current, Literal)
        return Literal(str(current) + suffix, lang=current.language, datatype=current.datatype)

    return value


def offset(predicate: URIRef, delta: int, datatype: URIRef = XSD.integer) -> ValueFn:
    """A value: the node's current integer ``predicate`` value plus ``delta``."""

    def value(g: Graph, s: Slice, n: Identifier) -> Identifier:
        current = g.value(n, predicate)
        assert isinstance(current, Literal)
        return Literal(int(current) + delta, datatype=datatype)

    return value


def shift_offsets(g: Graph, s: Slice) -> Outcome:
    """Both offsets of the position selector moved one character to the right."""
    selector = s.part("position-selector")
    for p in (OA.start, OA.end):
        current = g.value(selector, p)
        g.set((selector, p, Literal(int(current) + 1, datatype=XSD.integer)))  # type: ignore[arg-type]
    return s.document, s.part("target")


def end_at_start(g: Graph, s: Slice) -> Outcome:
    selector = s.part("position-selector")
    start = g.value(selector, OA.start)
    g.set((selector, OA.end, start))  # type: ignore[arg-type]
    return selector, None, (f"end offset {start} ", f"start offset {start}")


def swap_offsets(g: Graph, s: Slice) -> Outcome:
    selector = s.part("position-selector")
    start, end = g.value(selector, OA.start), g.value(selector, OA.end)
    g.set((selector, OA.start, end))  # type: ignore[arg-type]
    g.set((selector, OA.end, start))  # type: ignore[arg-type]
    return selector, None, (f"end offset {start} ", f"start offset {end}")


def exact_not_text(g: Graph, s: Slice) -> Outcome:
    """oa:exact says more than the text at the offsets (the claim's quote is still inside it)."""
    selector = s.part("quote-selector")
    exact = g.value(selector, OA.exact)
    g.set((selector, OA.exact, Literal(f"{exact} and then some")))
    return s.document, s.part("target"), ("and then some",)


def quote_not_in_exact(g: Graph, s: Slice) -> Outcome:
    g.set((s.claim, NKG.quote, Literal("words this document never prints")))
    return s.claim, s.part("evidence")


def evidence_in_other_document(g: Graph, s: Slice) -> Outcome:
    other = s.bring_other_document(g)
    g.set((s.part("target"), OA.hasSource, other))
    return s.claim, other


def claim_without_evidence(g: Graph, s: Slice) -> Outcome:
    """The claim that asserts a participation loses its evidence link."""
    subject, obj = s.fact(g, NKG.participant)
    g.remove((s.claim, NKG.evidence, None))
    return subject, obj


def claim_stops_asserting(g: Graph, s: Slice) -> Outcome:
    subject, obj = s.fact(g, NKG.participant)
    for st in list(g.objects(s.claim, NKG.asserts)):
        if (st, RDF.predicate, NKG.participant) in g and (st, RDF.object, obj) in g:
            g.remove((s.claim, NKG.asserts, st))
    return subject, obj


def statement_says_otherwise(g: Graph, s: Slice) -> Outcome:
    """The fact names another state than the statement of it does."""
    subject, obj = s.fact(g, NKG.represents)
    other = s.bring(g, NKG.State, exclude={obj})
    g.remove((subject, NKG.represents, obj))
    g.add((subject, NKG.represents, other))
    return subject, other


def fact_about_place(predicate: URIRef, cls: URIRef) -> Mutation:
    """Give the place of a meeting a fact whose object is of class ``cls``."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        _, place = s.fact(g, SCHEMA.location)
        g.add((place, predicate, s.bring(g, cls, exclude={place})))
        return place

    return mutate


def label_missing_subclass_typed(g: Graph, s: Slice) -> Outcome:
    """An actor typed only by its most specific class (no materialised nkg:Actor) still needs a
    label: the ontology in the data graph carries rdfs:subClassOf up to the target class."""
    actor = g.value(s.claim, NKG.claimant)
    assert actor is not None and (actor, RDF.type, NKG.Actor) in g
    types = set(g.objects(actor, RDF.type))
    specific = [t for t in types if not any((t2, RDFS.subClassOf, t) in g for t2 in types if t2 != t)]
    assert len(specific) == 1 and specific[0] != NKG.Actor
    for t in types - set(specific):
        g.remove((actor, RDF.type, t))
    g.remove((actor, RDFS.label, None))
    return actor


def first_statement_with(predicate: URIRef) -> NodeFn:
    """The slice claim's first statement that has a ``predicate`` value."""

    def node(g: Graph, s: Slice) -> Identifier:
        found = sorted(st for st in g.objects(s.claim, NKG.asserts) if (st, predicate, None) in g)
        assert found, f"no statement of {s.claim} has {predicate}"
        return found[0]

    return node


def stance_statement(g: Graph, s: Slice) -> Identifier:
    """The slice claim's first statement of a plain stance."""
    found = sorted(
        st for st in g.objects(s.claim, NKG.asserts) if g.value(st, RDF.predicate) in STANCES and _plain(g, st)
    )
    assert found, f"{s.claim} asserts no plain stance"
    return found[0]


def plain_again(g: Graph, s: Slice) -> Outcome:
    """Publish the plain triple of a former or conditional statement, as if it held when written."""
    st = min(st for st in g.objects(s.claim, NKG.asserts) if not _plain(g, st))
    subject, predicate, obj = (g.value(st, p) for p in (RDF.subject, RDF.predicate, RDF.object))
    assert (subject, predicate, obj) not in g
    g.add((subject, predicate, obj))  # type: ignore[arg-type]
    return subject, obj  # type: ignore[return-value]


def no_longer_current(g: Graph, s: Slice) -> Outcome:
    """A plain stance becomes former in its statement while its plain triple stays."""
    st = stance_statement(g, s)
    g.set((st, NKG.timeStatus, NKG.Former))
    return g.value(st, RDF.subject), g.value(st, RDF.object)  # type: ignore[return-value]


def author_takes_a_stance(g: Graph, s: Slice) -> Outcome:
    """The stance of the slice's claim names the author of its document, in the fact and the statement."""
    st = stance_statement(g, s)
    subject, predicate, actor = (g.value(st, p) for p in (RDF.subject, RDF.predicate, RDF.object))
    author = g.value(s.document, SCHEMA.author)
    assert author is not None and author != actor
    g.remove((subject, predicate, actor))
    g.add((subject, predicate, author))  # type: ignore[arg-type]
    g.set((st, RDF.object, author))
    return st, author


def sentence_becomes_question(g: Graph, s: Slice) -> Outcome:
    """The end mark of the sentence the quote runs on into becomes a question mark (the text keeps its
    length, so every offset stays right)."""
    text = str(g.value(s.document, SCHEMA.text))
    end = int(g.value(s.part("position-selector"), OA.end))  # type: ignore[arg-type]
    mark = min(i for i in (text.find(c, end) for c in ".!?") if i != -1)
    assert "\n" not in text[end:mark], "the sentence must end before the paragraph does"
    g.set((s.document, SCHEMA.text, Literal(text[:mark] + "?" + text[mark + 1 :])))
    return s.claim, stance_statement(g, s)


def quote_without_quotation_marks(g: Graph, s: Slice, n: Identifier) -> Identifier:
    """A value: the claim's quote with its quotation marks taken out."""
    quote = str(g.value(n, NKG.quote))
    stripped = "".join(c for c in quote if c not in "“”„«»\"‘")
    assert stripped != quote
    return Literal(stripped)


def drop_time_words(g: Graph, s: Slice) -> Outcome:
    """The statements forget the time words the quote holds ("until quite recently")."""
    removed = [(st, w) for st, w in g.subject_objects(NKG.timeWords) if (s.claim, NKG.asserts, st) in g]
    assert removed
    for st, words in removed:
        g.remove((st, NKG.timeWords, words))
    return s.claim, Literal(str(removed[0][1]).lower())


def estimate_words_elsewhere(g: Graph, s: Slice) -> Outcome:
    """The estimate gets date words its claim's quote does not hold; the claim is the focus."""
    add(ESTIMATE, NKG.dateWords, Literal("late 1999"))(g, s)
    return s.claim, Literal("late 1999")


def hedged_in_its_own_words(g: Graph, s: Slice) -> Outcome:
    """A stance gets hedge words taken from its own quote."""
    st = stance_statement(g, s)
    g.add((st, NKG.hedgeWords, Literal(str(g.value(s.claim, NKG.quote)).split()[0])))
    return st


def no_longer_plain(time: URIRef) -> Mutation:
    """A plain stance becomes ``time`` and its plain triple goes, as the build writes such a stance."""

    def mutate(g: Graph, s: Slice) -> Outcome:
        st = stance_statement(g, s)
        subject, predicate, obj = (g.value(st, p) for p in (RDF.subject, RDF.predicate, RDF.object))
        g.set((st, NKG.timeStatus, time))
        g.remove((subject, predicate, obj))
        return st

    return mutate


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    id: str
    slice: str
    shape: str  # local name in the shapes namespace
    path: URIRef | None
    component: str  # local name, without "ConstraintComponent"
    mutate: Mutation
    #: for qualified value shapes: the sh:class the qualified shape requires
    qualified: URIRef | None = None
    #: for SHACL-SPARQL constraints: words of the constraint's sh:message that identify it
    sparql: str | None = None


ANNOT, TARGET, TQS, TPS, ESTIMATE = (
    part("evidence"),
    part("target"),
    part("quote-selector"),
    part("position-selector"),
    part("estimate"),
)
DATETIME = Literal("2025-05-16T10:00:00", datatype=XSD.dateTime)

CASES: list[Case] = [
    # ---- labels.ttl: one non-empty English label on every published resource
    *(
        Case(f"label-missing-{kind}", sl, "LabelShape", RDFS.label, "MinCount", drop(node, RDFS.label))
        for kind, sl, node in (
            ("actor", "claim", claimant),
            ("place", "location", object_of(SCHEMA.location)),
            ("meeting", "participant", subject_of(NKG.participant)),
            ("proposal", "proposedBy", subject_of(NKG.proposedBy)),
            ("claim", "claim", claim),
            ("document", "claim", document),
        )
    ),
    Case(
        "label-missing-actor-typed-by-subclass-only",
        "claim",
        "LabelShape",
        RDFS.label,
        "MinCount",
        label_missing_subclass_typed,
    ),
    Case(
        "label-second", "claim", "LabelShape", RDFS.label, "MaxCount", add(claimant, RDFS.label, other_text(RDFS.label))
    ),
    Case(
        "label-without-language",
        "claim",
        "LabelShape",
        RDFS.label,
        "Datatype",
        replace(claimant, RDFS.label, retyped(RDFS.label, datatype=XSD.string)),
    ),
    Case(
        "label-not-english",
        "claim",
        "LabelShape",
        RDFS.label,
        "LanguageIn",
        replace(claimant, RDFS.label, retyped(RDFS.label, lang="de")),
    ),
    Case(
        "label-empty",
        "participant",
        "LabelShape",
        RDFS.label,
        "MinLength",
        replace(subject_of(NKG.participant), RDFS.label, en("")),
    ),
    Case(
        "altlabel-without-language",
        "claim",
        "AltLabelShape",
        SKOS.altLabel,
        "Datatype",
        add(claimant, SKOS.altLabel, Literal("an alias")),
    ),
    Case(
        "altlabel-not-english",
        "claim",
        "AltLabelShape",
        SKOS.altLabel,
        "LanguageIn",
        add(claimant, SKOS.altLabel, Literal("псевдоним", lang="ru")),
    ),
    Case(
        "sameas-not-wikidata",
        "claim",
        "SameAsShape",
        OWL.sameAs,
        "Pattern",
        add(claimant, OWL.sameAs, URIRef("http://dbpedia.org/resource/Vladimir_Putin")),
    ),
    Case(
        "sameas-wikidata-page-not-entity",
        "claim",
        "SameAsShape",
        OWL.sameAs,
        "Pattern",
        add(claimant, OWL.sameAs, URIRef("https://www.wikidata.org/wiki/Q7747")),
    ),
    Case(
        "sameas-wikidata-property",
        "claim",
        "SameAsShape",
        OWL.sameAs,
        "Pattern",
        add(claimant, OWL.sameAs, URIRef("http://www.wikidata.org/entity/P31")),
    ),
    Case("sameas-literal", "claim", "SameAsShape", OWL.sameAs, "NodeKind", add(claimant, OWL.sameAs, Literal("Q7747"))),
    # ---- actors.ttl
    Case(
        "delegation-represents-person",
        "represents",
        "DelegationShape",
        NKG.represents,
        "Class",
        retarget(NKG.represents, bring(NKG.Person)),
    ),
    Case(
        "delegation-represents-organization",
        "represents",
        "DelegationShape",
        NKG.represents,
        "Class",
        retarget(NKG.represents, bring(NKG.NewsOutlet)),
    ),
    Case(
        "delegation-represents-literal",
        "represents",
        "DelegationShape",
        NKG.represents,
        "NodeKind",
        retarget(NKG.represents, en("Russia")),
    ),
    Case(
        "affiliation-not-organisation",
        "affiliation",
        "PersonShape",
        SCHEMA.affiliation,
        "Class",
        retarget(SCHEMA.affiliation, bring(NKG.Place)),
    ),
    Case(
        "jobtitle-not-string", "jobTitle", "PersonShape", SCHEMA.jobTitle, "Or", retarget(SCHEMA.jobTitle, Literal(42))
    ),
    Case(
        "jobtitle-iri",
        "jobTitle",
        "PersonShape",
        SCHEMA.jobTitle,
        "Or",
        retarget(SCHEMA.jobTitle, URIRef("http://www.wikidata.org/entity/Q30185")),
    ),
    # ---- claims.ttl: ClaimShape
    Case("claimant-missing", "claim", "ClaimShape", NKG.claimant, "MinCount", drop(claim, NKG.claimant)),
    Case("claimant-two", "claim", "ClaimShape", NKG.claimant, "MaxCount", add(claim, NKG.claimant, bring(NKG.Actor))),
    Case(
        "claimant-not-actor",
        "claim",
        "ClaimShape",
        NKG.claimant,
        "Class",
        replace(claim, NKG.claimant, bring(NKG.Place)),
    ),
    Case("statedin-missing", "claim", "ClaimShape", NKG.statedIn, "MinCount", drop(claim, NKG.statedIn)),
    Case("statedin-two", "claim", "ClaimShape", NKG.statedIn, "MaxCount", add(claim, NKG.statedIn, other_document)),
    Case(
        "statedin-not-document",
        "claim",
        "ClaimShape",
        NKG.statedIn,
        "Class",
        replace(claim, NKG.statedIn, bring(NKG.Place)),
    ),
    Case("quote-missing", "claim", "ClaimShape", NKG.quote, "MinCount", drop(claim, NKG.quote)),
    Case(
        "quote-two",
        "claim",
        "ClaimShape",
        NKG.quote,
        "MaxCount",
        add(claim, NKG.quote, lambda g, s, n: Literal(str(g.value(n, NKG.quote))[:12])),
    ),
    Case(
        "quote-language-tagged",
        "claim",
        "ClaimShape",
        NKG.quote,
        "Datatype",
        replace(claim, NKG.quote, retyped(NKG.quote, lang="en")),
    ),
    Case("quote-empty", "claim", "ClaimShape", NKG.quote, "MinLength", replace(claim, NKG.quote, Literal(""))),
    Case("evidence-missing", "claim", "ClaimShape", NKG.evidence, "MinCount", drop(claim, NKG.evidence)),
    Case("evidence-not-annotation", "claim", "ClaimShape", NKG.evidence, "Class", untype(ANNOT, OA.Annotation)),
    Case("asserts-not-statement", "participant", "ClaimShape", NKG.asserts, "Class", untype(statement, RDF.Statement)),
    Case("about-literal", "claim", "ClaimShape", NKG.about, "NodeKind", add(claim, NKG.about, en("the war"))),
    Case(
        "hedge-language-tagged", "claim", "ClaimShape", NKG.hedge, "Datatype", replace(claim, NKG.hedge, en("likely"))
    ),
    Case(
        "cameo-letters", "claim", "ClaimShape", NKG.cameoCode, "Pattern", replace(claim, NKG.cameoCode, Literal("abc"))
    ),
    Case(
        "cameo-five-digits",
        "claim",
        "ClaimShape",
        NKG.cameoCode,
        "Pattern",
        replace(claim, NKG.cameoCode, Literal("02561")),
    ),
    Case(
        "cameo-one-digit", "claim", "ClaimShape", NKG.cameoCode, "Pattern", replace(claim, NKG.cameoCode, Literal("4"))
    ),
    Case(
        "cameo-integer",
        "claim",
        "ClaimShape",
        NKG.cameoCode,
        "Datatype",
        replace(claim, NKG.cameoCode, Literal("0256", datatype=XSD.integer)),
    ),
    Case(
        "estimate-not-estimate", "estimate-value", "ClaimShape", NKG.estimate, "Class", untype(ESTIMATE, NKG.Estimate)
    ),
    Case(
        "corroborates-not-claim",
        "claim",
        "ClaimShape",
        NKG.corroborates,
        "Class",
        add(claim, NKG.corroborates, lambda g, s, n: s.document),
    ),
    Case(
        "corroborates-deleted-claim",
        "claim",
        "ClaimShape",
        NKG.corroborates,
        "Class",
        add(claim, NKG.corroborates, URIRef("https://w3id.org/negotiation-kg/id/claim/no-such-claim")),
    ),
    Case(
        "contradicts-not-claim",
        "claim",
        "ClaimShape",
        NKG.contradicts,
        "Class",
        add(claim, NKG.contradicts, bring(NKG.Actor)),
    ),
    # ---- claims.ttl: StatementShape (targets the objects of nkg:asserts)
    Case(
        "statement-subject-missing",
        "participant",
        "StatementShape",
        RDF.subject,
        "MinCount",
        drop(statement, RDF.subject),
    ),
    Case(
        "statement-subject-two",
        "participant",
        "StatementShape",
        RDF.subject,
        "MaxCount",
        add(statement, RDF.subject, bring(NKG.Meeting)),
    ),
    Case(
        "statement-subject-literal",
        "participant",
        "StatementShape",
        RDF.subject,
        "NodeKind",
        replace(statement, RDF.subject, en("the talks")),
    ),
    Case(
        "statement-predicate-missing",
        "participant",
        "StatementShape",
        RDF.predicate,
        "MinCount",
        drop(statement, RDF.predicate),
    ),
    Case(
        "statement-predicate-two",
        "participant",
        "StatementShape",
        RDF.predicate,
        "MaxCount",
        add(statement, RDF.predicate, NKG.hostedBy),
    ),
    Case(
        "statement-predicate-literal",
        "participant",
        "StatementShape",
        RDF.predicate,
        "NodeKind",
        replace(statement, RDF.predicate, Literal("participant")),
    ),
    Case(
        "statement-object-missing", "participant", "StatementShape", RDF.object, "MinCount", drop(statement, RDF.object)
    ),
    Case(
        "statement-object-two",
        "participant",
        "StatementShape",
        RDF.object,
        "MaxCount",
        add(statement, RDF.object, bring(NKG.State)),
    ),
    # ---- claims.ttl: EstimateShape
    Case("estimate-no-value-or-range", "estimate-value", "EstimateShape", None, "Or", drop(ESTIMATE, SCHEMA.value)),
    Case(
        "estimate-range-removed",
        "estimate-range",
        "EstimateShape",
        None,
        "Or",
        drop(ESTIMATE, SCHEMA.minValue, SCHEMA.maxValue),
    ),
    Case(
        "estimate-measure-missing",
        "estimate-value",
        "EstimateShape",
        NKG.measure,
        "MinCount",
        drop(ESTIMATE, NKG.measure),
    ),
    Case(
        "estimate-measure-two",
        "estimate-value",
        "EstimateShape",
        NKG.measure,
        "MaxCount",
        add(ESTIMATE, NKG.measure, Literal("russian-casualties")),
    ),
    Case(
        "estimate-measure-language-tagged",
        "estimate-value",
        "EstimateShape",
        NKG.measure,
        "Datatype",
        replace(ESTIMATE, NKG.measure, retyped(NKG.measure, lang="en")),
    ),
    Case(
        "estimate-unit-missing",
        "estimate-value",
        "EstimateShape",
        SCHEMA.unitText,
        "MinCount",
        drop(ESTIMATE, SCHEMA.unitText),
    ),
    Case(
        "estimate-unit-two",
        "estimate-value",
        "EstimateShape",
        SCHEMA.unitText,
        "MaxCount",
        add(ESTIMATE, SCHEMA.unitText, Literal("soldiers")),
    ),
    Case(
        "estimate-unit-language-tagged",
        "estimate-value",
        "EstimateShape",
        SCHEMA.unitText,
        "Datatype",
        replace(ESTIMATE, SCHEMA.unitText, retyped(SCHEMA.unitText, lang="en")),
    ),
    Case(
        "estimate-value-two",
        "estimate-value",
        "EstimateShape",
        SCHEMA.value,
        "MaxCount",
        add(ESTIMATE, SCHEMA.value, offset(SCHEMA.value, 1000)),
    ),
    Case(
        "estimate-value-string",
        "estimate-value",
        "EstimateShape",
        SCHEMA.value,
        "Or",
        replace(ESTIMATE, SCHEMA.value, retyped(SCHEMA.value, datatype=XSD.string)),
    ),
    Case(
        "estimate-min-two",
        "estimate-range",
        "EstimateShape",
        SCHEMA.minValue,
        "MaxCount",
        add(ESTIMATE, SCHEMA.minValue, offset(SCHEMA.minValue, 1000)),
    ),
    Case(
        "estimate-min-string",
        "estimate-range",
        "EstimateShape",
        SCHEMA.minValue,
        "Or",
        replace(ESTIMATE, SCHEMA.minValue, retyped(SCHEMA.minValue, datatype=XSD.string)),
    ),
    Case(
        "estimate-max-two",
        "estimate-range",
        "EstimateShape",
        SCHEMA.maxValue,
        "MaxCount",
        add(ESTIMATE, SCHEMA.maxValue, offset(SCHEMA.maxValue, 1000)),
    ),
    Case(
        "estimate-max-string",
        "estimate-range",
        "EstimateShape",
        SCHEMA.maxValue,
        "Or",
        replace(ESTIMATE, SCHEMA.maxValue, Literal("200,000")),
    ),
    Case(
        "estimate-date-two",
        "estimate-value",
        "EstimateShape",
        NKG.referenceDate,
        "MaxCount",
        add(ESTIMATE, NKG.referenceDate, Literal("1999", datatype=XSD.gYear)),
    ),
    Case(
        "estimate-date-datetime",
        "estimate-value",
        "EstimateShape",
        NKG.referenceDate,
        "Node",
        replace(ESTIMATE, NKG.referenceDate, DATETIME),
    ),
    Case(
        "estimate-source-not-actor",
        "estimate-value",
        "EstimateShape",
        NKG.estimateSource,
        "Class",
        replace(ESTIMATE, NKG.estimateSource, bring(NKG.Place)),
    ),
    # ---- documents.ttl
    Case("document-title-missing", "claim", "DocumentShape", DCTERMS.title, "MinCount", drop(document, DCTERMS.title)),
    Case(
        "document-title-two",
        "claim",
        "DocumentShape",
        DCTERMS.title,
        "MaxCount",
        add(document, DCTERMS.title, other_text(DCTERMS.title, " (updated)")),
    ),
    Case(
        "document-title-empty",
        "claim",
        "DocumentShape",
        DCTERMS.title,
        "MinLength",
        replace(document, DCTERMS.title, en("")),
    ),
    Case("document-text-missing", "claim", "DocumentShape", SCHEMA.text, "MinCount", drop(document, SCHEMA.text)),
    Case(
        "document-text-two",
        "claim",
        "DocumentShape",
        SCHEMA.text,
        "MaxCount",
        add(document, SCHEMA.text, other_text(SCHEMA.text, "\n\nCorrection appended.")),
    ),
    Case(
        "document-text-language-tagged",
        "claim",
        "DocumentShape",
        SCHEMA.text,
        "Datatype",
        replace(document, SCHEMA.text, retyped(SCHEMA.text, lang="en")),
    ),
    Case("document-sha256-missing", "claim", "DocumentShape", NKG.sha256, "MinCount", drop(document, NKG.sha256)),
    Case(
        "document-sha256-two",
        "claim",
        "DocumentShape",
        NKG.sha256,
        "MaxCount",
        add(document, NKG.sha256, Literal("0" * 64)),
    ),
    Case(
        "document-sha256-upper-case",
        "claim",
        "DocumentShape",
        NKG.sha256,
        "Pattern",
        replace(document, NKG.sha256, lambda g, s, n: Literal(str(g.value(n, NKG.sha256)).upper())),
    ),
    Case(
        "document-sha256-short",
        "claim",
        "DocumentShape",
        NKG.sha256,
        "Pattern",
        replace(document, NKG.sha256, lambda g, s, n: Literal(str(g.value(n, NKG.sha256))[:-1])),
    ),
    Case(
        "document-sha256-language-tagged",
        "claim",
        "DocumentShape",
        NKG.sha256,
        "Datatype",
        replace(document, NKG.sha256, retyped(NKG.sha256, lang="en")),
    ),
    Case(
        "document-author-not-actor",
        "claim",
        "DocumentShape",
        SCHEMA.author,
        "Class",
        replace(document, SCHEMA.author, bring(NKG.Place)),
    ),
    Case(
        "document-author-literal",
        "claim",
        "DocumentShape",
        SCHEMA.author,
        "NodeKind",
        replace(document, SCHEMA.author, Literal("Sotiris Mitralexis")),
    ),
    Case(
        "document-published-two",
        "claim",
        "DocumentShape",
        SCHEMA.datePublished,
        "MaxCount",
        two_values(
            document,
            SCHEMA.datePublished,
            Literal("2025-05", datatype=XSD.gYearMonth),
            Literal("2025-05-19", datatype=XSD.date),
        ),
    ),
    Case(
        "document-published-datetime",
        "claim",
        "DocumentShape",
        SCHEMA.datePublished,
        "Node",
        replace(document, SCHEMA.datePublished, DATETIME),
    ),
    # ---- events.ttl: meetings
    *(
        c
        for sl, p in (
            ("startDate", SCHEMA.startDate),
            ("endDate", SCHEMA.endDate),
            ("scheduledDate", NKG.scheduledDate),
        )
        for c in (
            Case(f"meeting-{sl}-datetime", sl, "MeetingShape", p, "Node", retarget(p, DATETIME)),
            Case(f"meeting-{sl}-plain-string", sl, "MeetingShape", p, "Node", retarget(p, Literal("16 May 2025"))),
            Case(
                f"meeting-{sl}-two",
                sl,
                "MeetingShape",
                p,
                "MaxCount",
                add(subject_of(p), p, Literal("1999-01-01", datatype=XSD.date)),
            ),
        )
    ),
    Case(
        "meeting-location-not-place",
        "location",
        "MeetingShape",
        SCHEMA.location,
        "Class",
        retarget(SCHEMA.location, bring(NKG.State)),
    ),
    Case(
        "meeting-location-literal",
        "location",
        "MeetingShape",
        SCHEMA.location,
        "NodeKind",
        retarget(SCHEMA.location, en("Istanbul")),
    ),
    Case(
        "meeting-participant-not-actor",
        "participant",
        "MeetingShape",
        NKG.participant,
        "Class",
        retarget(NKG.participant, bring(NKG.Place)),
    ),
    Case(
        "meeting-participant-literal",
        "participant",
        "MeetingShape",
        NKG.participant,
        "NodeKind",
        retarget(NKG.participant, en("Russia")),
    ),
    Case(
        "meeting-host-not-actor",
        "hostedBy",
        "MeetingShape",
        NKG.hostedBy,
        "Class",
        retarget(NKG.hostedBy, bring(NKG.Place)),
    ),
    Case(
        "meeting-host-literal",
        "hostedBy",
        "MeetingShape",
        NKG.hostedBy,
        "NodeKind",
        retarget(NKG.hostedBy, en("Türkiye")),
    ),
    # ---- events.ttl: proposals and places
    *(
        c
        for sl, p in (
            ("proposedBy", NKG.proposedBy),
            ("supportedBy", NKG.supportedBy),
            ("opposedBy", NKG.opposedBy),
            ("discussedAt", NKG.discussedAt),
        )
        for c in (
            Case(f"proposal-{sl}-wrong-class", sl, "ProposalShape", p, "Class", retarget(p, bring(NKG.Place))),
            Case(f"proposal-{sl}-literal", sl, "ProposalShape", p, "NodeKind", retarget(p, en("Moscow"))),
        )
    ),
    Case(
        "proposal-discussed-at-actor",
        "discussedAt",
        "ProposalShape",
        NKG.discussedAt,
        "Class",
        retarget(NKG.discussedAt, bring(NKG.State)),
    ),
    Case(
        "place-contained-in-actor",
        "location",
        "PlaceShape",
        SCHEMA.containedInPlace,
        "Class",
        fact_about_place(SCHEMA.containedInPlace, NKG.State),
    ),
    # ---- evidence.ttl: annotation and target
    Case("annotation-target-missing", "claim", "AnnotationShape", OA.hasTarget, "MinCount", drop(ANNOT, OA.hasTarget)),
    Case(
        "annotation-target-two",
        "claim",
        "AnnotationShape",
        OA.hasTarget,
        "MaxCount",
        copy_node(TARGET, "copy", OA.hasTarget),
    ),
    Case(
        "annotation-target-not-specific-resource",
        "claim",
        "AnnotationShape",
        OA.hasTarget,
        "Class",
        untype(TARGET, OA.SpecificResource),
    ),
    Case("target-source-missing", "claim", "TargetShape", OA.hasSource, "MinCount", drop(TARGET, OA.hasSource)),
    Case(
        "target-source-two", "claim", "TargetShape", OA.hasSource, "MaxCount", add(TARGET, OA.hasSource, other_document)
    ),
    Case(
        "target-source-not-document",
        "claim",
        "TargetShape",
        OA.hasSource,
        "Class",
        replace(TARGET, OA.hasSource, bring(NKG.Place)),
    ),
    Case(
        "target-quote-selector-missing",
        "claim",
        "TargetShape",
        OA.hasSelector,
        "QualifiedMinCount",
        unlink(TARGET, OA.hasSelector, TQS),
        qualified=OA.TextQuoteSelector,
    ),
    Case(
        "target-quote-selector-two",
        "claim",
        "TargetShape",
        OA.hasSelector,
        "QualifiedMaxCount",
        copy_node(TQS, "copy", OA.hasSelector),
        qualified=OA.TextQuoteSelector,
    ),
    Case(
        "target-position-selector-missing",
        "claim",
        "TargetShape",
        OA.hasSelector,
        "QualifiedMinCount",
        unlink(TARGET, OA.hasSelector, TPS),
        qualified=OA.TextPositionSelector,
    ),
    Case(
        "target-position-selector-two",
        "claim",
        "TargetShape",
        OA.hasSelector,
        "QualifiedMaxCount",
        copy_node(TPS, "copy", OA.hasSelector),
        qualified=OA.TextPositionSelector,
    ),
    # ---- evidence.ttl: selectors
    Case("exact-missing", "claim", "TextQuoteSelectorShape", OA.exact, "MinCount", drop(TQS, OA.exact)),
    Case(
        "exact-two", "claim", "TextQuoteSelectorShape", OA.exact, "MaxCount", add(TQS, OA.exact, other_text(OA.exact))
    ),
    Case(
        "exact-language-tagged",
        "claim",
        "TextQuoteSelectorShape",
        OA.exact,
        "Datatype",
        replace(TQS, OA.exact, retyped(OA.exact, lang="en")),
    ),
    Case("exact-empty", "claim", "TextQuoteSelectorShape", OA.exact, "MinLength", replace(TQS, OA.exact, Literal(""))),
    Case(
        "prefix-two",
        "claim",
        "TextQuoteSelectorShape",
        OA.prefix,
        "MaxCount",
        add(TQS, OA.prefix, other_text(OA.prefix, "x")),
    ),
    Case(
        "prefix-language-tagged",
        "claim",
        "TextQuoteSelectorShape",
        OA.prefix,
        "Datatype",
        replace(TQS, OA.prefix, retyped(OA.prefix, lang="en")),
    ),
    Case(
        "suffix-two",
        "claim",
        "TextQuoteSelectorShape",
        OA.suffix,
        "MaxCount",
        add(TQS, OA.suffix, other_text(OA.suffix, "x")),
    ),
    Case(
        "suffix-language-tagged",
        "claim",
        "TextQuoteSelectorShape",
        OA.suffix,
        "Datatype",
        replace(TQS, OA.suffix, retyped(OA.suffix, lang="en")),
    ),
    *(
        c
        for name, p in (("start", OA.start), ("end", OA.end))
        for c in (
            Case(f"{name}-missing", "claim", "TextPositionSelectorShape", p, "MinCount", drop(TPS, p)),
            Case(f"{name}-two", "claim", "TextPositionSelectorShape", p, "MaxCount", add(TPS, p, offset(p, 1))),
            Case(
                f"{name}-non-negative-integer",
                "claim",
                "TextPositionSelectorShape",
                p,
                "Datatype",
                replace(TPS, p, offset(p, 0, XSD.nonNegativeInteger)),
            ),
            Case(
                f"{name}-string",
                "claim",
                "TextPositionSelectorShape",
                p,
                "Datatype",
                replace(TPS, p, retyped(p, datatype=XSD.string)),
            ),
        )
    ),
    Case(
        "start-negative",
        "claim",
        "TextPositionSelectorShape",
        OA.start,
        "MinInclusive",
        replace(TPS, OA.start, Literal(-1, datatype=XSD.integer)),
    ),
    Case(
        "end-negative",
        "claim",
        "TextPositionSelectorShape",
        OA.end,
        "MinInclusive",
        replace(TPS, OA.end, Literal(-1, datatype=XSD.integer)),
    ),
    Case(
        "end-equals-start",
        "claim",
        "TextPositionSelectorShape",
        None,
        "SPARQL",
        end_at_start,
        sparql="is not after start",
    ),
    Case(
        "end-before-start",
        "claim",
        "TextPositionSelectorShape",
        None,
        "SPARQL",
        swap_offsets,
        sparql="is not after start",
    ),
    # ---- evidence.ttl: SHACL-SPARQL rules
    Case(
        "offsets-shifted-by-one",
        "claim",
        "OffsetsMatchQuoteShape",
        None,
        "SPARQL",
        shift_offsets,
        sparql="the document text at offsets",
    ),
    Case(
        "exact-not-the-text-at-offsets",
        "claim",
        "OffsetsMatchQuoteShape",
        None,
        "SPARQL",
        exact_not_text,
        sparql="the document text at offsets",
    ),
    Case(
        "quote-not-inside-exact",
        "claim",
        "QuoteInEvidenceShape",
        None,
        "SPARQL",
        quote_not_in_exact,
        sparql="not inside the exact text",
    ),
    Case(
        "evidence-in-other-document",
        "claim",
        "QuoteInEvidenceShape",
        None,
        "SPARQL",
        evidence_in_other_document,
        sparql="not the document the claim is stated in",
    ),
    # ---- provenance.ttl: every stance or participation fact is asserted by a claim with evidence
    *(
        Case(
            f"provenance-unasserted-{sl}",
            sl,
            "ProvenanceShape",
            p,
            "SPARQL",
            unasserted(p, cls),
            sparql="is not asserted by any claim",
        )
        for sl, p, cls in (
            ("participant", NKG.participant, NKG.Actor),
            ("hostedBy", NKG.hostedBy, NKG.Actor),
            ("proposedBy", NKG.proposedBy, NKG.Actor),
            ("supportedBy", NKG.supportedBy, NKG.Actor),
            ("opposedBy", NKG.opposedBy, NKG.Actor),
            ("discussedAt", NKG.discussedAt, NKG.Meeting),
            ("represents", NKG.represents, NKG.State),
        )
    ),
    Case(
        "provenance-claim-without-evidence",
        "participant",
        "ProvenanceShape",
        NKG.participant,
        "SPARQL",
        claim_without_evidence,
        sparql="is not asserted by any claim",
    ),
    Case(
        "provenance-claim-no-longer-asserts",
        "participant",
        "ProvenanceShape",
        NKG.participant,
        "SPARQL",
        claim_stops_asserting,
        sparql="is not asserted by any claim",
    ),
    # ---- qualifiers.ttl: the qualifiers of an asserted fact
    Case(
        "time-status-missing",
        "supportedBy",
        "QualifiedStatementShape",
        NKG.timeStatus,
        "MinCount",
        drop(stance_statement, NKG.timeStatus),
    ),
    Case(
        "time-status-two",
        "supportedBy",
        "QualifiedStatementShape",
        NKG.timeStatus,
        "MaxCount",
        add(stance_statement, NKG.timeStatus, NKG.Hypothetical),
    ),
    Case(
        "time-status-not-a-status",
        "supportedBy",
        "QualifiedStatementShape",
        NKG.timeStatus,
        "In",
        replace(stance_statement, NKG.timeStatus, Literal("current")),
    ),
    *(
        c
        for name, p, sl in (
            ("hedge", NKG.hedgeWords, "supportedBy"),
            ("condition", NKG.condition, "conditional"),
            ("time-words", NKG.timeWords, "former"),
        )
        for c in (
            Case(
                f"{name}-language-tagged",
                sl,
                "QualifiedStatementShape",
                p,
                "Datatype",
                add(stance_statement if sl == "supportedBy" else first_statement_with(p), p, en("cautiously")),
            ),
            Case(
                f"{name}-empty",
                sl,
                "QualifiedStatementShape",
                p,
                "MinLength",
                add(stance_statement if sl == "supportedBy" else first_statement_with(p), p, Literal("")),
            ),
        )
    ),
    Case(
        "time-words-two",
        "former",
        "QualifiedStatementShape",
        NKG.timeWords,
        "MaxCount",
        add(first_statement_with(NKG.timeWords), NKG.timeWords, Literal("recently")),
    ),
    *(
        c
        for name, p in (("point-in-time", NKG.pointInTime), ("start", SCHEMA.startDate), ("end", SCHEMA.endDate))
        for c in (
            Case(
                f"statement-{name}-datetime",
                "former",
                "QualifiedStatementShape",
                p,
                "Node",
                add(first_statement_with(NKG.timeWords), p, DATETIME),
            ),
            Case(
                f"statement-{name}-two",
                "former",
                "QualifiedStatementShape",
                p,
                "MaxCount",
                two_values(
                    first_statement_with(NKG.timeWords),
                    p,
                    Literal("2024", datatype=XSD.gYear),
                    Literal("2025-01", datatype=XSD.gYearMonth),
                ),
            ),
        )
    ),
    *(
        Case(
            f"{name}-not-in-the-evidence",
            sl,
            "QualifiedStatementShape",
            p,
            "SPARQL",
            add(node, p, Literal("words this sentence never says")),
            sparql="is not in the evidence of any claim",
        )
        for name, p, sl, node in (
            ("hedge", NKG.hedgeWords, "supportedBy", stance_statement),
            ("condition", NKG.condition, "conditional", first_statement_with(NKG.condition)),
            ("time-words", NKG.timeWords, "supportedBy", stance_statement),
        )
    ),
    Case(
        "current-fact-with-an-end-date",
        "supportedBy",
        "QualifiedStatementShape",
        SCHEMA.endDate,
        "SPARQL",
        add(stance_statement, SCHEMA.endDate, Literal("2025", datatype=XSD.gYear)),
        sparql="has no end date",
    ),
    *(
        Case(
            f"plain-view-{name}",
            sl,
            "PlainViewShape",
            path,
            "SPARQL",
            mutate,
            sparql="is published as a plain fact",
        )
        for name, sl, path, mutate in (
            ("former-stance-published", "former", NKG.supportedBy, plain_again),
            ("conditional-stance-published", "conditional", NKG.opposedBy, plain_again),
            ("stance-turned-former", "supportedBy", NKG.supportedBy, no_longer_current),
        )
    ),
    # ---- curation.ttl: rules learnt from re-reading the corpus
    Case(
        "author-takes-a-stance",
        "supportedBy",
        "AuthorIsNoPartyShape",
        RDF.object,
        "SPARQL",
        author_takes_a_stance,
        sparql="authors analyse",
    ),
    Case(
        "stance-from-a-question",
        "question",
        "QuestionAssertsNoStanceShape",
        NKG.asserts,
        "SPARQL",
        sentence_becomes_question,
        sparql="a question asserts no stance",
    ),
    Case(
        "quoted-statement-without-quotation-marks",
        "quoted",
        "QuotedStatementShape",
        NKG.quote,
        "Pattern",
        replace(claim, NKG.quote, quote_without_quotation_marks),
    ),
    Case(
        "stance-loses-its-time-words",
        "former",
        "QualifiersCarriedShape",
        NKG.quote,
        "SPARQL",
        drop_time_words,
        sparql="no fact the claim asserts carries it",
    ),
    Case(
        "claim-hedge-not-in-quote",
        "claim",
        "ClaimWordsShape",
        NKG.hedge,
        "SPARQL",
        add(claim, NKG.hedge, Literal("words this sentence never says")),
        sparql="hedges are the text's own words",
    ),
    Case(
        "estimate-date-words-not-in-quote",
        "estimate-value",
        "ClaimWordsShape",
        NKG.estimate,
        "SPARQL",
        estimate_words_elsewhere,
        sparql="date words",
    ),
    Case(
        "estimate-date-words-two",
        "estimate-value",
        "EstimateShape",
        NKG.dateWords,
        "MaxCount",
        two_values(ESTIMATE, NKG.dateWords, Literal("in 2024"), Literal("2024")),
    ),
    Case(
        "estimate-date-words-language-tagged",
        "estimate-value",
        "EstimateShape",
        NKG.dateWords,
        "Datatype",
        add(ESTIMATE, NKG.dateWords, en("in 2024")),
    ),
    Case(
        "provenance-statement-says-otherwise",
        "represents",
        "ProvenanceShape",
        NKG.represents,
        "SPARQL",
        statement_says_otherwise,
        sparql="is not asserted by any claim",
    ),
]


# --------------------------------------------------------------------------- helpers


def _term(node: Identifier) -> str:
    """A term as kg.validation.check writes it in a ValidationResult."""
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, Literal):
        return node.n3()
    return f"_:{node}"


def _copy(graph: Graph) -> Graph:
    g = Graph()
    g += graph
    return g


def _show(results: list[ValidationResult]) -> str:
    return (
        "\n".join(
            f"  {r.node_shape.rsplit('#', 1)[-1]} {r.constraint_component.rsplit('#', 1)[-1]} "
            f"focus={r.focus_node} path={r.path} value={(r.value or '')[:80]}"
            for r in results
        )
        or "  (no results)"
    )


def _sparql_constraint(shapes: Graph, shape: str, words: str) -> Identifier:
    """The one sh:sparql constraint of ``shape`` whose message contains ``words``."""
    found = [
        c
        for c in shapes.objects(URIRef(NKGSH + shape), SH.sparql)
        if any(words in str(m) for m in shapes.objects(c, SH.message))
    ]
    assert len(found) == 1, f"{shape} has {len(found)} SPARQL constraints saying {words!r}"
    return found[0]


def _matches(
    case: Case,
    r: ValidationResult,
    focus: Identifier,
    value: Identifier | None,
    report: ValidationReport,
    shapes: Graph,
) -> bool:
    if (
        r.node_shape != NKGSH + case.shape
        or r.path != (f"<{case.path}>" if case.path is not None else None)
        or r.focus_node != _term(focus)
        or r.constraint_component != str(SH[f"{case.component}ConstraintComponent"])
        or r.severity != "Violation"
    ):
        return False
    if value is not None and r.value != _term(value):
        return False
    if case.qualified is not None:
        source = BNode(r.source_shape[2:]) if r.source_shape.startswith("_:") else URIRef(r.source_shape)
        qualified = shapes.value(source, SH.qualifiedValueShape)
        if shapes.value(qualified, SH["class"]) != case.qualified:
            return False
    if case.sparql is not None:
        constraint = _sparql_constraint(shapes, case.shape, case.sparql)
        fired = {
            report.graph.value(res, SH.sourceConstraint)
            for res in report.graph.subjects(SH.focusNode, focus)
            if report.graph.value(res, SH.sourceShape) == URIRef(NKGSH + case.shape)
        }
        if constraint not in fired:
            return False
        # the message names the offending node
        if value is not None and str(value) not in r.message:
            return False
    return True


# --------------------------------------------------------------------------- tests


def test_built_corpus_conforms(built: BuildResult, shapes: Graph) -> None:
    assert built.report.conforms, _show(built.report.results)
    assert built.report.results == []
    # and the report knows every named shape of shapes/*.ttl
    named = {
        str(s) for t in (SH.NodeShape, SH.PropertyShape) for s in shapes.subjects(RDF.type, t) if isinstance(s, URIRef)
    }
    assert named <= set(built.report.shapes)


SLICES = sorted({c.slice for c in CASES})


@pytest.mark.parametrize("name", SLICES)
def test_slice_conforms(slicer: Slicer, name: str) -> None:
    """Every slice a negative case starts from conforms as cut: the break alone makes it fail."""
    s = slicer.slice(name)
    assert s.report.conforms, _show(s.report.results)
    assert (s.claim, RDF.type, NKG.Claim) in s.graph
    assert len(s.graph) < 1500, "slices should stay small"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_shape_fires(slicer: Slicer, shapes: Graph, case: Case) -> None:
    s = slicer.slice(case.slice)
    assert s.report.conforms, f"slice {case.slice} does not conform before the break:\n{_show(s.report.results)}"
    g = _copy(s.graph)
    outcome = case.mutate(g, s)
    parts = outcome if isinstance(outcome, tuple) else (outcome,)
    focus, value, words = parts[0], (parts[1] if len(parts) > 1 else None), (parts[2] if len(parts) > 2 else ())
    assert set(g) != set(s.graph), "the mutation changed nothing"

    report = validate_graph(g, shapes)

    assert not report.conforms
    assert report.failed()
    hits = [
        r
        for r in report.results
        if _matches(case, r, focus, value, report, shapes) and all(w in r.message for w in words)
    ]
    assert hits, (
        f"expected {case.shape} {case.component} on path {case.path} at {focus}"
        + (f" value {value}" if value is not None else "")
        + f"; got:\n{_show(report.results)}"
    )


def test_a_qualifier_counts_only_as_words_of_its_own(slicer: Slicer, shapes: Graph) -> None:
    """QualifiersCarriedShape asks a stance to carry "used to" when the quote says it, not when
    the quote says "refused to" (nor "all but" for "call but"); the same quote with the words of
    their own, and no fact carrying them, is refused."""
    s = slicer.slice("supportedBy")
    assert s.report.conforms
    quote = str(s.graph.value(s.claim, NKG.quote))

    def qualifier_results(words: str) -> list[ValidationResult]:
        g = _copy(s.graph)
        g.set((s.claim, NKG.quote, Literal(f"{quote} They refused to {words}.")))
        return [r for r in validate_graph(g, shapes).results if r.node_shape == NKGSH + "QualifiersCarriedShape"]

    assert qualifier_results("call but once") == []
    fired = qualifier_results("talk, as they used to, all but once")
    assert sorted(str(r.value) for r in fired) == ['"all but"', '"used to"']
    assert {r.focus_node for r in fired} == {str(s.claim)} and {r.path for r in fired} == {f"<{NKG.quote}>"}


def test_results_are_the_reports_top_level_results(slicer: Slicer, shapes: Graph) -> None:
    s = slicer.slice("startDate")
    g = _copy(s.graph)
    meeting = retarget(SCHEMA.startDate, DATETIME)(g, s)
    report = validate_graph(g, shapes)
    top_level = list(report.graph.objects(None, SH.result))
    assert len(top_level) == 1
    assert [(r.node_shape, r.focus_node) for r in report.results] == [(NKGSH + "MeetingShape", str(meeting))]


# --------------------------------------------------------------------------- valid variations


VALID: list[tuple[str, str, Mutation]] = [
    ("start-date-year", "startDate", retarget(SCHEMA.startDate, Literal("2025", datatype=XSD.gYear))),
    ("start-date-year-month", "startDate", retarget(SCHEMA.startDate, Literal("2025-05", datatype=XSD.gYearMonth))),
    ("start-date-day", "startDate", retarget(SCHEMA.startDate, Literal("2025-05-17", datatype=XSD.date))),
    ("place-in-place", "location", fact_about_place(SCHEMA.containedInPlace, NKG.Place)),
    (
        "estimate-decimal-value",
        "estimate-value",
        replace(ESTIMATE, SCHEMA.value, Literal("514000.5", datatype=XSD.decimal)),
    ),
    ("estimate-max-only", "estimate-range", drop(ESTIMATE, SCHEMA.minValue)),
    ("cameo-two-digits", "claim", replace(claim, NKG.cameoCode, Literal("04"))),
    ("job-title-plain-string", "jobTitle", retarget(SCHEMA.jobTitle, Literal("Research Fellow"))),
    ("alias-in-english", "claim", add(claimant, SKOS.altLabel, en("an alias"))),
    ("stance-hedged-in-its-quote-words", "supportedBy", hedged_in_its_own_words),
    ("stance-hypothetical-without-plain-triple", "supportedBy", no_longer_plain(NKG.Hypothetical)),
    ("stance-announced-without-plain-triple", "supportedBy", no_longer_plain(NKG.Announced)),
    (
        "former-stance-with-dates",
        "former",
        lambda g, s: two_values(
            first_statement_with(NKG.timeWords),
            SCHEMA.endDate,
            Literal("2025", datatype=XSD.gYear),
            Literal("2025", datatype=XSD.gYear),
        )(g, s),
    ),
    (
        "wikidata-link",
        "participant",
        replace(subject_of(NKG.participant), OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q123")),
    ),
]


@pytest.mark.parametrize("name,slice_name,mutate", VALID, ids=[v[0] for v in VALID])
def test_valid_variation_conforms(slicer: Slicer, shapes: Graph, name: str, slice_name: str, mutate: Mutation) -> None:
    """What the shapes allow stays allowed: each variation of a slice still conforms."""
    s = slicer.slice(slice_name)
    g = _copy(s.graph)
    mutate(g, s)
    assert set(g) != set(s.graph)
    report = validate_graph(g, shapes)
    assert report.conforms, _show(report.results)


# --------------------------------------------------------------------------- coverage

_PARAMETERS = {
    SH.minCount: "MinCount",
    SH.maxCount: "MaxCount",
    SH["class"]: "Class",
    SH.datatype: "Datatype",
    SH.nodeKind: "NodeKind",
    SH.pattern: "Pattern",
    SH.minLength: "MinLength",
    SH.languageIn: "LanguageIn",
    SH["or"]: "Or",
    SH.node: "Node",
    SH.minInclusive: "MinInclusive",
    SH.qualifiedMinCount: "QualifiedMinCount",
    SH.qualifiedMaxCount: "QualifiedMaxCount",
    SH.sparql: "SPARQL",
    SH["in"]: "In",
}
_NOT_PARAMETERS = {
    RDF.type,
    RDFS.label,
    RDFS.comment,
    SH.path,
    SH.message,
    SH.property,
    SH.qualifiedValueShape,
    SH.name,
    SH.description,
    SH.severity,
    SH.targetClass,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.targetNode,
}
_TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)


def _constraints(shapes: Graph) -> set[tuple[str, str | None, str, str | None]]:
    """(named shape, path, component, qualifier) of every constraint a targeted shape applies.

    The qualifier is the class of a qualified value shape, or the sh:message of a
    SHACL-SPARQL constraint.
    """
    out: set[tuple[str, str | None, str, str | None]] = set()

    def params(node: Identifier, named: str, path: str | None) -> None:
        for p in set(shapes.predicates(node, None)):
            if p in _NOT_PARAMETERS:
                continue
            assert p in _PARAMETERS, f"{named}: constraint parameter {p} has no test mapping here"
            comp = _PARAMETERS[p]
            if comp == "SPARQL":
                for c in shapes.objects(node, SH.sparql):
                    out.add((named, None, comp, str(shapes.value(c, SH.message))))
            elif comp.startswith("Qualified"):
                qualified = shapes.value(shapes.value(node, SH.qualifiedValueShape), SH["class"])
                out.add((named, path, comp, str(qualified)))
            else:
                out.add((named, path, comp, None))

    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        if not any((shape, t, None) in shapes for t in _TARGETS):
            continue  # nkgsh:DateForm: reached through sh:node, tested there
        params(shape, str(shape), None)
        for prop in shapes.objects(shape, SH.property):
            named = str(prop) if isinstance(prop, URIRef) else str(shape)
            path = shapes.value(prop, SH.path)
            assert isinstance(path, URIRef), f"{named}: complex paths need their own rendering in these tests"
            params(prop, named, f"<{path}>")
    return out


def test_every_constraint_has_a_negative_case(shapes: Graph) -> None:
    constraints = _constraints(shapes)
    assert len(constraints) > 100  # the walk found the shapes
    covered = set()
    for case in CASES:
        named = NKGSH + case.shape
        path = f"<{case.path}>" if case.path is not None else None
        if case.component == "SPARQL":
            constraint = _sparql_constraint(shapes, case.shape, case.sparql or "")
            covered.add((named, None, "SPARQL", str(shapes.value(constraint, SH.message))))
        elif case.qualified is not None:
            covered.add((named, path, case.component, str(case.qualified)))
        else:
            covered.add((named, path, case.component, None))
    missing = sorted(constraints - covered, key=str)
    assert not missing, "constraints without a negative case:\n" + "\n".join(map(str, missing))
    unknown = sorted(covered - constraints, key=str)
    assert not unknown, "cases for constraints the shapes do not have:\n" + "\n".join(map(str, unknown))


def test_date_form_is_reached_by_every_date(shapes: Graph) -> None:
    """nkgsh:DateForm has no target of its own; every date property uses it via sh:node."""
    date_form = URIRef(NKGSH + "DateForm")
    users = {shapes.value(p, SH.path) for p in shapes.subjects(SH.node, date_form)}
    assert users == {
        SCHEMA.startDate, SCHEMA.endDate, NKG.scheduledDate, NKG.referenceDate, SCHEMA.datePublished, NKG.pointInTime
    }
    allowed = {shapes.value(m, SH.datatype) for m in Collection(shapes, shapes.value(date_form, SH["or"]))}
    assert allowed == {XSD.date, XSD.gYearMonth, XSD.gYear}
