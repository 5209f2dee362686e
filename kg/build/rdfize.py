"""Annotations → RDF: one named graph per document, plus the entities and the ontology.

Every claim becomes an ``nkg:Claim`` with its quote, a W3C Web Annotation whose
target carries a ``TextQuoteSelector`` and a ``TextPositionSelector``, and one
``rdf:Statement`` per fact it asserts, carrying what the sentence puts on the fact (time
status, hedge words, conditions, time words, dates). The fact itself goes into the
document's graph only when the sentence states it as holding when written and without a
condition, so a plain query never returns a former, announced, hypothetical or
conditional fact as current. The output depends only on the input, so two builds are
isomorphic.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from kg.build.model import Annotations, Assertion, Claim, DocumentAnnotations, DraftInfo, Entity
from kg.build.vocabulary import CLAIM_KINDS, ENTITY_TYPES, PREDICATES, TIME_STATUSES
from kg.iris import Kind, claim_part, graph_iri, mint, wikidata
from kg.namespaces import DCTERMS, NKG, OA, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, XSD, bind_prefixes

__all__ = [
    "ONTOLOGY_GRAPH",
    "ENTITIES_GRAPH",
    "document_graph_iri",
    "entity_iri",
    "typed_date",
    "build_graphs",
    "document_graph",
    "ontology_graph",
]

ONTOLOGY_GRAPH = graph_iri("ontology")
ENTITIES_GRAPH = graph_iri("entities")
#: characters of context kept in ``oa:prefix`` / ``oa:suffix``
CONTEXT_CHARS = 32
_LABEL_CHARS = 90


def document_graph_iri(doc_id: str) -> URIRef:
    """The named graph that holds what one document says."""
    return graph_iri(f"document-{doc_id}")


def entity_iri(entity: Entity) -> URIRef:
    """The IRI of an annotated entity."""
    return mint(entity.kind, entity.id)


def typed_date(value: str) -> Literal:
    """``YYYY-MM-DD`` → xsd:date, ``YYYY-MM`` → xsd:gYearMonth, ``YYYY`` → xsd:gYear."""
    datatype = {10: XSD.date, 7: XSD.gYearMonth, 4: XSD.gYear}[len(value)]
    return Literal(value, datatype=datatype)


def _en(text: str) -> Literal:
    return Literal(text, lang="en")


def _number(value: int | float) -> Literal:
    return Literal(value, datatype=XSD.integer if isinstance(value, int) else XSD.decimal)


def ontology_graph(path: Path) -> Graph:
    """The ontology file as a graph."""
    graph = Graph()
    graph.parse(path, format="turtle")
    return graph


def _entities_graph(annotations: Annotations) -> Graph:
    g = Graph()
    for entity in sorted(annotations.entities.values(), key=lambda e: (e.kind.value, e.id)):
        node = entity_iri(entity)
        for cls in ENTITY_TYPES[entity.type][1]:
            g.add((node, RDF.type, cls))
        g.add((node, RDFS.label, _en(entity.label)))
        for alt in entity.alt:
            g.add((node, SKOS.altLabel, _en(alt)))
        if entity.note:
            g.add((node, SKOS.note, _en(entity.note)))
        if entity.wikidata:
            g.add((node, OWL.sameAs, wikidata(entity.wikidata)))
    return g


def _claim_label(claim: Claim, claimant: Entity, author: Entity | None) -> str:
    """The claim's label: whose claim it is, and the document's words in quotation marks.

    The words are always the document's; for a quoted or paraphrased statement the label
    says who wrote them, so that a paraphrase never reads as the actor's own words.
    """
    words = " ".join(claim.quote.split())
    short = words if len(words) <= _LABEL_CHARS else words[: _LABEL_CHARS - 1].rstrip() + "…"
    reporter = f"by {author.label}" if author is not None else "in the document"
    if claim.kind == "paraphrased":
        return f"{claimant.label}, paraphrased {reporter}: “{short}”"
    if claim.kind == "quoted":
        return f"{claimant.label}, quoted {reporter}: “{short}”"
    return f"{claimant.label}: “{short}”"


class _DocumentWriter:
    """Writes the graph of one document."""

    def __init__(self, annotations: Annotations, doc: DocumentAnnotations) -> None:
        self.entities = annotations.entities
        self.doc = doc
        self.document = mint(Kind.DOCUMENT, doc.document.id)
        self.graph = Graph()
        self.mentioned: set[str] = set(doc.mentions)

    def iri(self, ident: str) -> URIRef:
        self.mentioned.add(ident)
        return entity_iri(self.entities[ident])

    def write(self) -> Graph:
        for claim in self.doc.claims:
            self._claim(claim)
        self._document()
        return self.graph

    def _document(self) -> None:
        g, d, doc = self.graph, self.document, self.doc.document
        g.add((d, RDF.type, NKG.Document))
        g.add((d, RDFS.label, _en(doc.title)))
        g.add((d, DCTERMS.title, _en(doc.title)))
        g.add((d, SCHEMA.text, Literal(doc.text)))
        g.add((d, SCHEMA.inLanguage, Literal(doc.language)))
        g.add((d, NKG.sha256, Literal(doc.sha256)))
        if doc.author:
            g.add((d, SCHEMA.author, self.iri(doc.author)))
        if doc.date_published:
            g.add((d, SCHEMA.datePublished, typed_date(doc.date_published)))
        for ident in sorted(self.mentioned):
            g.add((d, SCHEMA.mentions, entity_iri(self.entities[ident])))
        g.add((document_graph_iri(doc.id), PROV.wasDerivedFrom, d))
        if self.doc.draft is not None:
            self._drafting(document_graph_iri(doc.id), self.doc.draft)

    def _drafting(self, graph: URIRef, draft: DraftInfo) -> None:
        """The graph's provenance when a program drafted its annotations: generated by an
        ``nkg:Drafting`` that names the program, its version and its method."""
        g = self.graph
        activity, agent = claim_part(graph, "drafting"), claim_part(graph, "drafter")
        g.add((graph, PROV.wasGeneratedBy, activity))
        g.add((activity, RDF.type, NKG.Drafting))
        g.add((activity, RDF.type, PROV.Activity))
        g.add((activity, RDFS.label, _en(f"Annotations drafted by {draft.tool} {draft.version} ({draft.method})")))
        g.add((activity, NKG.draftMethod, Literal(draft.method)))
        g.add((activity, PROV.wasAssociatedWith, agent))
        if draft.created:  # checked when read (kg.build.drafted)
            g.add((activity, PROV.startedAtTime, Literal(draft.created, datatype=XSD.dateTime)))
        g.add((agent, RDF.type, PROV.SoftwareAgent))
        g.add((agent, RDF.type, PROV.Agent))
        g.add((agent, RDFS.label, _en(draft.tool)))
        g.add((agent, SCHEMA.softwareVersion, Literal(draft.version)))

    def _claim(self, claim: Claim) -> None:
        g = self.graph
        node = mint(Kind.CLAIM, claim.id)
        claimant = self.entities[claim.claimant]
        g.add((node, RDF.type, NKG.Claim))
        g.add((node, RDF.type, CLAIM_KINDS[claim.kind]))
        author = self.doc.document.author
        g.add((node, RDFS.label, _en(_claim_label(claim, claimant, self.entities.get(author) if author else None))))
        g.add((node, NKG.claimant, self.iri(claim.claimant)))
        g.add((node, NKG.statedIn, self.document))
        g.add((node, NKG.quote, Literal(claim.quote)))
        for hedge in claim.hedges:
            g.add((node, NKG.hedge, Literal(hedge)))
        if claim.cameo:
            g.add((node, NKG.cameoCode, Literal(claim.cameo)))
        for target in claim.about:
            g.add((node, NKG.about, self.iri(target)))
        for other in claim.corroborates:
            g.add((node, NKG.corroborates, mint(Kind.CLAIM, other)))
        for other in claim.contradicts:
            g.add((node, NKG.contradicts, mint(Kind.CLAIM, other)))
        self._evidence(claim, node)
        for number, assertion in enumerate(claim.asserts, start=1):
            pred = PREDICATES[assertion.predicate]
            subject = self.iri(assertion.subject)
            if not assertion.literal:
                obj: URIRef | Literal = self.iri(assertion.object)
            elif pred.obj == "date":
                obj = typed_date(assertion.object)
            else:
                obj = _en(assertion.object)
            statement = claim_part(node, f"statement-{number}")
            g.add((node, NKG.asserts, statement))
            g.add((statement, RDF.type, RDF.Statement))
            g.add((statement, RDF.subject, subject))
            g.add((statement, RDF.predicate, pred.iri))
            g.add((statement, RDF.object, obj))
            self._qualifiers(statement, assertion)
            if assertion.plain:
                g.add((subject, pred.iri, obj))
        if claim.estimate is not None:
            self._estimate(claim, node)

    def _qualifiers(self, statement: URIRef, assertion: Assertion) -> None:
        """What the sentence puts on the fact, on its statement: the time status always (so a
        query never has to guess what a missing one means), the rest where the text gives it."""
        g = self.graph
        g.add((statement, NKG.timeStatus, TIME_STATUSES[assertion.time]))
        for hedge in assertion.hedges:
            g.add((statement, NKG.hedgeWords, Literal(hedge)))
        for condition in assertion.conditions:
            g.add((statement, NKG.condition, Literal(condition)))
        if assertion.time_words:
            g.add((statement, NKG.timeWords, Literal(assertion.time_words)))
        for prop, value in ((NKG.pointInTime, assertion.date), (SCHEMA.startDate, assertion.start),
                            (SCHEMA.endDate, assertion.end)):
            if value:
                g.add((statement, prop, typed_date(value)))

    def _evidence(self, claim: Claim, node: URIRef) -> None:
        g, text = self.graph, self.doc.document.text
        annotation = claim_part(node, "evidence")
        target = claim_part(node, "target")
        quote_selector = claim_part(node, "quote-selector")
        position_selector = claim_part(node, "position-selector")
        g.add((node, NKG.evidence, annotation))
        g.add((annotation, RDF.type, OA.Annotation))
        g.add((annotation, OA.motivatedBy, OA.describing))
        g.add((annotation, OA.hasBody, node))
        g.add((annotation, OA.hasTarget, target))
        g.add((target, RDF.type, OA.SpecificResource))
        g.add((target, OA.hasSource, self.document))
        g.add((target, OA.hasSelector, quote_selector))
        g.add((target, OA.hasSelector, position_selector))
        g.add((quote_selector, RDF.type, OA.TextQuoteSelector))
        g.add((quote_selector, OA.exact, Literal(text[claim.start : claim.end])))
        g.add((quote_selector, OA.prefix, Literal(text[max(0, claim.start - CONTEXT_CHARS) : claim.start])))
        g.add((quote_selector, OA.suffix, Literal(text[claim.end : claim.end + CONTEXT_CHARS])))
        g.add((position_selector, RDF.type, OA.TextPositionSelector))
        # xsd:integer, not xsd:nonNegativeInteger: pyoxigraph stores every integer subtype as
        # xsd:integer, and the data must read back as it was written. The shapes keep it >= 0.
        g.add((position_selector, OA.start, Literal(claim.start, datatype=XSD.integer)))
        g.add((position_selector, OA.end, Literal(claim.end, datatype=XSD.integer)))

    def _estimate(self, claim: Claim, node: URIRef) -> None:
        g, est = self.graph, claim.estimate
        assert est is not None
        estimate = claim_part(node, "estimate")
        g.add((node, NKG.estimate, estimate))
        g.add((estimate, RDF.type, NKG.Estimate))
        g.add((estimate, NKG.measure, Literal(est.measure)))
        g.add((estimate, SCHEMA.unitText, Literal(est.unit)))
        for prop, value in ((SCHEMA.value, est.value), (SCHEMA.minValue, est.min), (SCHEMA.maxValue, est.max)):
            if value is not None:
                g.add((estimate, prop, _number(value)))
        if est.date:
            g.add((estimate, NKG.referenceDate, typed_date(est.date)))
        if est.date_words:
            g.add((estimate, NKG.dateWords, Literal(est.date_words)))
        for source in est.sources:
            g.add((estimate, NKG.estimateSource, self.iri(source)))


def document_graph(annotations: Annotations, doc_id: str, *, describe: Iterable[str] = ()) -> Graph:
    """The named graph of one document, as :func:`build_graphs` writes it.

    ``describe`` names entities whose description (types, labels, Wikidata link) goes
    into this graph too: those a document added on its own declares and no other
    graph describes, so that replacing or dropping the document takes them along.
    """
    graph = _DocumentWriter(annotations, annotations.documents[doc_id]).write()
    wanted = set(describe)
    if wanted:
        graph += _entities_graph(Annotations(entities={i: e for i, e in annotations.entities.items() if i in wanted}))
    bind_prefixes(graph)
    return graph


def build_graphs(annotations: Annotations, *, ontology: Path) -> dict[URIRef, Graph]:
    """Every named graph of the dataset, keyed by graph IRI, in a stable order."""
    graphs: dict[URIRef, Graph] = {ONTOLOGY_GRAPH: ontology_graph(ontology)}
    graphs[ENTITIES_GRAPH] = _entities_graph(annotations)
    for doc_id in sorted(annotations.documents):
        graphs[document_graph_iri(doc_id)] = _DocumentWriter(annotations, annotations.documents[doc_id]).write()
    for graph in graphs.values():
        bind_prefixes(graph)
    return graphs

