"""``kg ontology check``: OWL reasoning with HermiT (through owlready2) and quality checks.

The reasoner says whether ontology + data are consistent; when they are not, the
offending individuals are found by looking for an individual whose asserted and
domain/range-implied classes include two disjoint ones, so the report names them.
The quality checks are SPARQL queries in ``ontology/checks/*-violation.rq`` that must
return no rows.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, Node, URIRef
from rdflib.collection import Collection

from kg.errors import ReasonerError
from kg.namespaces import OWL, RDF, RDFS, XSD
from kg.rdfio import read_graph
from kg.resources import check_queries, ontology_file
from kg.walks import reachable

__all__ = ["ConsistencyResult", "check_ontology", "disjointness_conflicts", "hermit_literals", "run_quality_checks"]

JAVA_HINT = "HermiT needs Java: install a JRE (Debian: 'apt-get install default-jre-headless') and put 'java' on PATH"


@dataclass
class ConsistencyResult:
    """What the reasoner and the quality checks found."""

    consistent: bool
    reasoner_message: str
    offenders: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    check_rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Consistent, and every quality check returned no rows."""
        return self.consistent and not any(self.check_rows.values())

    def render(self) -> str:
        """A human-readable report."""
        lines = [f"Reasoner (HermiT): {'consistent' if self.consistent else 'INCONSISTENT'}"]
        if not self.consistent:
            lines.append(f"  {self.reasoner_message}")
            for individual, pairs in sorted(self.offenders.items()):
                for a, b in pairs:
                    lines.append(f"  offending individual {individual}: both {a} and {b}, which are disjoint")
            if not self.offenders:
                lines.append("  (no single individual typed with two disjoint classes; see the reasoner message)")
        for name, rows in sorted(self.check_rows.items()):
            lines.append(f"Check {name}: {'ok' if not rows else f'{len(rows)} row(s)'}")
            for row in rows[:50]:
                lines.append("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
        return "\n".join(lines) + "\n"


def _disjoint_pairs(graph: Graph) -> set[frozenset[Node]]:
    pairs: set[frozenset[Node]] = set()
    for a, b in graph.subject_objects(OWL.disjointWith):
        pairs.add(frozenset((a, b)))
    for node in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = graph.value(node, OWL.members)
        if members is not None:
            for a, b in combinations(list(Collection(graph, members)), 2):
                pairs.add(frozenset((a, b)))
    return pairs


def disjointness_conflicts(graph: Graph) -> dict[str, list[tuple[str, str]]]:
    """Individuals whose classes (asserted, or implied by property domains and ranges,
    closed under ``rdfs:subClassOf``) include two disjoint classes."""
    pairs = _disjoint_pairs(graph)
    if not pairs:
        return {}
    supers: dict[Node, set[Node]] = defaultdict(set)
    for sub, sup in graph.subject_objects(RDFS.subClassOf):
        supers[sub].add(sup)

    domains = {p: set(graph.objects(p, RDFS.domain)) for p in set(graph.subjects(RDFS.domain, None))}
    ranges = {p: set(graph.objects(p, RDFS.range)) for p in set(graph.subjects(RDFS.range, None))}
    classes: dict[Node, set[Node]] = defaultdict(set)
    for s, p, o in graph:
        if p == RDF.type:
            classes[s].add(o)
        else:
            classes[s] |= domains.get(p, set())
            if isinstance(o, URIRef):
                classes[o] |= ranges.get(p, set())
    out: dict[str, list[tuple[str, str]]] = {}
    for individual, asserted in classes.items():
        if (individual, RDF.type, OWL.Class) in graph or not isinstance(individual, URIRef):
            continue
        every = reachable(asserted, lambda c: supers.get(c, ()))
        clashes = sorted(
            tuple(sorted(str(c) for c in pair)) for pair in pairs if pair <= every
        )
        if clashes:
            out[str(individual)] = clashes  # type: ignore[assignment]
    return out


def run_quality_checks(graph: Graph) -> dict[str, list[dict[str, str]]]:
    """Each ``*-violation.rq`` over ``graph``: check name → offending rows."""
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    out: dict[str, list[dict[str, str]]] = {}
    for path in check_queries():
        solutions = store.query(path.read_text(encoding="utf-8"))
        names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
        out[path.stem] = [
            {n: s[n].value for n in names if s[n] is not None} for s in solutions  # type: ignore[union-attr]
        ]
    return out


#: an xsd:dateTime with more than three fractional digits (valid XSD; HermiT refuses it)
_FINE_DATETIME = re.compile(r"^(.*T\d\d:\d\d:\d\d\.\d{3})\d+(.*)$")


def hermit_literals(graph: Graph) -> Graph:
    """``graph`` with what HermiT cannot read said the way it can: ``xsd:dateTime`` values cut to
    the millisecond (stores written before receipts were, and data from elsewhere). Same
    instants to the millisecond, so the same consistency; the graph itself is not changed."""
    fine = [(s, p, o) for s, p, o in graph.triples((None, None, None))
            if isinstance(o, Literal) and o.datatype == XSD.dateTime and _FINE_DATETIME.match(str(o))]
    if not fine:
        return graph
    out = Graph()
    out += graph
    for s, p, o in fine:
        out.remove((s, p, o))
        # normalize=False: rdflib would otherwise write the value back with its six digits
        out.add((s, p, Literal(_FINE_DATETIME.sub(r"\1\2", str(o)), datatype=XSD.dateTime, normalize=False)))
    return out


def _java_message(exc: Exception) -> str:
    """The line of a Java error that says what went wrong (not its stack)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and not line.strip().startswith("at ")]
    said = next((line for line in lines if "Exception" in line), lines[-1] if lines else type(exc).__name__)
    return said.split(": ", 1)[-1] if "Exception" in said else said


def _reason(graph: Graph) -> tuple[bool, str]:
    if shutil.which("java") is None:
        raise ReasonerError(JAVA_HINT)
    import owlready2  # type: ignore[import-untyped]  # ships no type hints

    with tempfile.TemporaryDirectory(prefix="kg-owl-") as tmp:
        path = Path(tmp) / "closure.nt"
        hermit_literals(graph).serialize(destination=str(path), format="nt", encoding="utf-8")
        world = owlready2.World()
        try:
            onto = world.get_ontology(path.as_uri()).load()
            with onto:
                owlready2.sync_reasoner_hermit(
                    world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True
                )
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            return False, f"HermiT found the ontology and data inconsistent ({type(exc).__name__})"
        except FileNotFoundError as exc:
            raise ReasonerError(f"{JAVA_HINT} ({exc})") from None
        except owlready2.OwlReadyJavaError as exc:
            raise ReasonerError(f"HermiT could not read the ontology and data: {_java_message(exc)}") from None
        finally:
            world.close()
    return True, "consistent"


def check_ontology(data: Graph | None = None, *, ontology: Path | None = None) -> ConsistencyResult:
    """Reason over ontology + ``data`` with HermiT and run the quality checks.

    Raises :class:`ReasonerError` when Java is not available.
    """
    graph = read_graph([ontology or ontology_file()])
    if data is not None:
        graph += data
    consistent, message = _reason(graph)
    result = ConsistencyResult(consistent, message, check_rows=run_quality_checks(graph))
    if not consistent:
        result.offenders = disjointness_conflicts(graph)
    return result
