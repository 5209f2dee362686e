"""The gate every proposed claim passes, whichever backend proposed it.

First claim by claim: the quote must be the text's own characters at its offsets; the claimant
an actor; every subject, object and ``about`` an entity of the right kind; every hedge,
condition and time word the quote's own words. What fails is dropped, and the draft says so.
Then the whole draft as ``kg add-document`` will read it: the annotation reader places every
quote, and the document's graph is validated against the SHACL shapes; a claim the shapes
refuse loses its facts, and then itself if it still breaks them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from rdflib import Graph, Literal

from kg.build.annotations import load_document_annotations
from kg.build.corpus import document_from_metadata
from kg.build.drafted import metadata_block
from kg.build.model import Entity
from kg.build.rdfize import document_graph
from kg.build.vocabulary import ENTITY_TYPES, PREDICATES
from kg.build.yamlfile import load_yaml
from kg.draft.model import DraftClaim
from kg.errors import BuildError, KGError
from kg.iris import Kind, mint
from kg.namespaces import RDF, RDFS
from kg.validation.check import validate_graph
from kg.validation.model import Severity, fails

__all__ = ["check_claim", "check_draft"]


def check_claim(claim: DraftClaim, text: str, kinds: Mapping[str, Kind]) -> str | None:
    """Why the claim cannot be kept (``None`` when it can); facts that fail are removed from it."""
    if not claim.quote.strip() or text[claim.start : claim.end] != claim.quote:
        return f"a quote not verbatim in the text was dropped: {claim.quote[:80]!r}"
    if kinds.get(claim.claimant) is not Kind.ACTOR:
        return f"a claim whose claimant {claim.claimant!r} is not a known actor was dropped: {claim.quote[:60]!r}"
    claim.about = [a for a in claim.about if a in kinds]
    claim.hedges = [h for h in claim.hedges if h and h in claim.quote]
    kept = []
    for fact in claim.asserts:
        pred = PREDICATES.get(fact.predicate)
        words = [*fact.hedges, *fact.conditions, *([fact.time_words] if fact.time_words else [])]
        if pred is None or kinds.get(fact.subject) is not pred.subject or not all(w in claim.quote for w in words):
            continue
        if isinstance(pred.obj, Kind) and kinds.get(fact.object) is not pred.obj:
            continue
        kept.append(fact)
    claim.asserts = kept
    return None


def _offending(report_nodes: set[str]) -> set[str]:
    """The claim ids whose nodes (or the statements they assert) the shapes reported."""
    out = set()
    for node in report_nodes:
        base = node.split("#", 1)[0]
        prefix = str(mint(Kind.CLAIM, "x"))[:-1]
        if base.startswith(prefix):
            out.add(base[len(prefix):])
    return out


def check_draft(yaml_text: str, text_path: Path, known: Mapping[str, Entity], *,
                other_claims: set[str]) -> tuple[set[str], Graph]:
    """Read the draft as ``kg add-document`` will and validate its graph; the claim ids the
    shapes refuse (empty when it conforms), and the graph."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "draft.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        data = load_yaml(path)
        document = document_from_metadata(text_path, metadata_block(path, data), path)
        try:
            built = load_document_annotations(path, document, known, other_claims=other_claims, data=data)
        except BuildError as exc:
            raise KGError(f"the drafter wrote a draft the annotation reader refuses (a bug): {exc}") from None
    new = set(built.entities) - set(known)
    graph = document_graph(built, document.id, describe=new)
    context = Graph()
    context += graph
    for entity in known.values():  # the types of the entities the store knows, for sh:class
        node = mint(entity.kind, entity.id)
        for cls in ENTITY_TYPES[entity.type][1]:
            context.add((node, RDF.type, cls))
        context.add((node, RDFS.label, Literal(entity.label, lang="en")))
    report = validate_graph(context)
    if not report.failed():
        return set(), graph
    nodes = {r.focus_node.strip("<>") for r in report.results if fails(r, Severity.VIOLATION)}
    return _offending(nodes) or {"*"}, graph
