"""The W3C SHACL test suite's manifests, read into test cases (shared by the tests that use it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection

SUITE = (Path(__file__).resolve().parents[1].parent / "shared" / "testsuites" / "shacl").resolve()
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")


@dataclass(frozen=True)
class SuiteCase:
    """One test: its name, the data and shapes files, and the expected outcome node."""

    name: str
    data: Path
    shapes: Path
    expects_failure: bool


def _manifest(path: Path, out: list[SuiteCase]) -> None:
    g = Graph().parse(path, format="turtle")
    for include in g.objects(None, MF.include):
        _manifest(Path(str(include).removeprefix("file://")), out)
    for entries in g.objects(None, MF.entries):
        for entry in Collection(g, entries):
            action = g.value(entry, MF.action)
            if action is None:
                continue
            data, shapes = g.value(action, SHT.dataGraph), g.value(action, SHT.shapesGraph)
            result = g.value(entry, MF.result)
            name = str(path.parent.relative_to(SUITE) / str(entry).rsplit("/", 1)[-1])
            out.append(
                SuiteCase(
                    name,
                    Path(str(data).removeprefix("file://")),
                    Path(str(shapes).removeprefix("file://")),
                    isinstance(result, URIRef) and result == SHT.Failure,
                )
            )


def suite_cases() -> list[SuiteCase]:
    """Every test of the core and SPARQL manifests (empty when the suite is not beside the repo)."""
    out: list[SuiteCase] = []
    for part in ("core", "sparql"):
        manifest = SUITE / part / "manifest.ttl"
        if manifest.is_file():
            _manifest(manifest, out)
    return out
