"""How the annotation format's words map onto the ontology.

The annotation files say ``type: State`` or ``[meeting, participant, actor]``; this
table is the one place that says which class or property each word means and which
kinds of resource it may join.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from kg.iris import Kind
from kg.namespaces import NKG, SCHEMA

__all__ = [
    "ENTITY_TYPES",
    "DEFAULT_TYPE",
    "Predicate",
    "PREDICATES",
    "CLAIM_KINDS",
    "STANCE_PREDICATES",
    "TIME_STATUSES",
    "PLAIN_TIME",
]

#: entity ``type`` → (kind of IRI, its class followed by every nkg: superclass).
#: The superclasses are written into the data too, so ``?x a nkg:Actor`` or
#: ``?m a nkg:Meeting`` finds every actor or meeting without a reasoner.
ENTITY_TYPES: dict[str, tuple[Kind, tuple[URIRef, ...]]] = {
    "Person": (Kind.ACTOR, (NKG.Person, NKG.Actor)),
    "OfficeHolder": (Kind.ACTOR, (NKG.OfficeHolder, NKG.Person, NKG.Actor)),
    "Organization": (Kind.ACTOR, (NKG.Organization, NKG.Actor)),
    "NewsOutlet": (Kind.ACTOR, (NKG.NewsOutlet, NKG.Organization, NKG.Actor)),
    "Coalition": (Kind.ACTOR, (NKG.Coalition, NKG.Organization, NKG.Actor)),
    "State": (Kind.ACTOR, (NKG.State, NKG.Organization, NKG.Actor)),
    "Delegation": (Kind.ACTOR, (NKG.Delegation, NKG.Organization, NKG.Actor)),
    "Place": (Kind.PLACE, (NKG.Place,)),
    "Meeting": (Kind.MEETING, (NKG.Meeting,)),
    "Negotiation": (Kind.MEETING, (NKG.Negotiation, NKG.Meeting)),
    "PhoneCall": (Kind.MEETING, (NKG.PhoneCall, NKG.Meeting)),
    "Visit": (Kind.MEETING, (NKG.Visit, NKG.Meeting)),
    "Proposal": (Kind.PROPOSAL, (NKG.Proposal,)),
}

#: the type an entity has when its section implies it and ``type`` is omitted
DEFAULT_TYPE: dict[Kind, str] = {Kind.PLACE: "Place", Kind.MEETING: "Meeting", Kind.PROPOSAL: "Proposal"}


@dataclass(frozen=True)
class Predicate:
    """One word usable in ``asserts``: its IRI and what it may join.

    ``obj`` is a kind of entity, or ``"date"``/``"string"`` for a literal object.
    ``subject_types``/``object_types`` narrow the kinds to entity types where the
    contract is stricter (a delegation represents a state).
    """

    iri: URIRef
    subject: Kind
    obj: Kind | str
    subject_types: frozenset[str] = frozenset()
    object_types: frozenset[str] = frozenset()


_PERSONS = frozenset({"Person", "OfficeHolder"})
_ORGS = frozenset({"Organization", "NewsOutlet", "Coalition", "State", "Delegation"})

PREDICATES: dict[str, Predicate] = {
    "participant": Predicate(NKG.participant, Kind.MEETING, Kind.ACTOR),
    "hostedBy": Predicate(NKG.hostedBy, Kind.MEETING, Kind.ACTOR),
    "location": Predicate(SCHEMA.location, Kind.MEETING, Kind.PLACE),
    "startDate": Predicate(SCHEMA.startDate, Kind.MEETING, "date"),
    "endDate": Predicate(SCHEMA.endDate, Kind.MEETING, "date"),
    "scheduledDate": Predicate(NKG.scheduledDate, Kind.MEETING, "date"),
    "proposedBy": Predicate(NKG.proposedBy, Kind.PROPOSAL, Kind.ACTOR),
    "supportedBy": Predicate(NKG.supportedBy, Kind.PROPOSAL, Kind.ACTOR),
    "opposedBy": Predicate(NKG.opposedBy, Kind.PROPOSAL, Kind.ACTOR),
    "discussedAt": Predicate(NKG.discussedAt, Kind.PROPOSAL, Kind.MEETING),
    "represents": Predicate(
        NKG.represents, Kind.ACTOR, Kind.ACTOR, frozenset({"Delegation"}), frozenset({"State"})
    ),
    "affiliation": Predicate(SCHEMA.affiliation, Kind.ACTOR, Kind.ACTOR, _PERSONS, _ORGS),
    "jobTitle": Predicate(SCHEMA.jobTitle, Kind.ACTOR, "string", _PERSONS),
    "containedInPlace": Predicate(SCHEMA.containedInPlace, Kind.PLACE, Kind.PLACE),
}

#: the predicates whose every triple must be asserted by a claim (DESIGN.md's provenance rule)
STANCE_PREDICATES: tuple[URIRef, ...] = (
    NKG.participant,
    NKG.hostedBy,
    NKG.proposedBy,
    NKG.supportedBy,
    NKG.opposedBy,
    NKG.discussedAt,
    NKG.represents,
)

#: claim ``kind`` → class
CLAIM_KINDS: dict[str, URIRef] = {
    "takeaway": NKG.KeyTakeaway,
    "analysis": NKG.AnalyticalClaim,
    "quoted": NKG.QuotedStatement,
    "paraphrased": NKG.ParaphrasedStatement,
}

#: an assertion's ``time`` → the nkg:TimeStatus individual. Only ``PLAIN_TIME`` (without a
#: condition) is also published as a plain triple: the graph's plain view must never present a
#: former, announced or hypothetical fact as holding when the document was written.
TIME_STATUSES: dict[str, URIRef] = {
    "current": NKG.Current,
    "former": NKG.Former,
    "announced": NKG.Announced,
    "hypothetical": NKG.Hypothetical,
}
PLAIN_TIME = "current"
