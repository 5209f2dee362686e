"""The W3C SHACL test suite (core and SPARQL), driven by its manifests, through ``kg validate``.

Each ``sht:Validate`` test names a data graph and a shapes graph (files, often the test's own
file) and either the expected ``sh:ValidationReport`` or ``sht:Failure``. Every test runs
``kg validate DATA --shapes SHAPES --format turtle`` and is judged by the suite's rules:

- ``sht:Failure``: the validator must refuse the input: exit 2, a message, no report;
- otherwise ``sh:conforms`` must match, and the results graph (each result's triples, with
  ``sh:resultMessage``, ``sh:message`` and the nested ``sh:detail`` results left out, and
  ``sh:resultPath`` with the path's own structure) must be isomorphic to the expected one.
  Blank nodes that stand for data or shapes (focus nodes, values, source shapes) are compared
  as blank nodes, the way graph isomorphism compares them;
- the exit code must follow: 1 when an expected result is a violation, else 0.

:data:`ALLOWED_FAILURES` lists the tests expected to fail, each with its reason; a test on
that list that passes fails too, so the list cannot go stale. Most tests run in-process
(click's runner); a few also run the installed ``kg`` command in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from click.testing import CliRunner
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.term import Node

from kg.cli import main
from kg.namespaces import RDF, SH

SUITE = (Path(__file__).resolve().parents[2] / "shared" / "testsuites" / "shacl").resolve()  # the manifests name files by their real path
if not (SUITE / "manifest.ttl").is_file():
    pytest.skip(f"W3C SHACL test suite not found at {SUITE}", allow_module_level=True)

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")

#: test id → why it is expected to fail today (none: all 120 pass)
ALLOWED_FAILURES: dict[str, str] = {}

#: predicates left out of the compared results graph, per the suite's rules
IGNORED = {SH.resultMessage, SH.message, SH.detail}

#: tests that also run as a subprocess of the installed ``kg`` command
SUBPROCESS = {"core/node/datatype-001", "core/path/path-complex-002", "sparql/pre-binding/unsupported-sparql-001"}


@dataclass(frozen=True)
class Case:
    """One ``sht:Validate`` test."""

    id: str
    label: str
    data: Path
    shapes: Path
    #: None when the test expects a failure (``sht:Failure``)
    expected: Graph | None
    conforms: bool | None
    fails: bool


def _file(iri: Node) -> Path:
    return Path(url2pathname(urlparse(str(iri)).path))


def _manifest(path: Path) -> Graph:
    return Graph().parse(path, format="turtle", publicID=path.resolve().as_uri())


def _plain(node: Node) -> Node:
    """RDF 1.1 makes a simple literal and an ``xsd:string`` literal one term; rdflib keeps two."""
    if isinstance(node, Literal) and node.datatype == XSD_STRING:
        return Literal(str(node))
    return node


def _copy_path(graph: Graph, node: Node, out: Graph) -> Node:
    """Copy a path's structure (blank nodes and lists) into ``out`` with fresh blank nodes, so
    two results on the same path are compared by the path's shape, not by sharing its nodes."""
    if not isinstance(node, BNode):
        return node
    copy = BNode()
    for p, o in graph.predicate_objects(node):
        out.add((copy, p, _copy_path(graph, o, out)))
    return copy


def results_graph(graph: Graph, report: Node) -> Graph:
    """The comparable part of a report: its type, conformance and the top-level results."""
    out = Graph()
    out.add((report, RDF.type, SH.ValidationReport))
    out.add((report, SH.conforms, graph.value(report, SH.conforms)))
    for result in graph.objects(report, SH.result):
        out.add((report, SH.result, result))
        for p, o in graph.predicate_objects(result):
            if p in IGNORED:
                continue
            out.add((result, p, _copy_path(graph, o, out) if p == SH.resultPath else _plain(o)))
    return out


def _severe(graph: Graph, report: Node) -> bool:
    return any(
        graph.value(r, SH.resultSeverity) not in (SH.Warning, SH.Info) for r in graph.objects(report, SH.result)
    )


def _cases() -> Iterator[Case]:
    def walk(manifest: Path) -> Iterator[Path]:
        graph = _manifest(manifest)
        for node in graph.subjects(RDF.type, MF.Manifest):
            for included in sorted(graph.objects(node, MF.include)):
                yield from walk(_file(included))
            if (node, MF.entries, None) in graph:
                yield manifest

    for test_file in walk(SUITE / "manifest.ttl"):
        graph = _manifest(test_file)
        entries = [t for head in graph.objects(None, MF.entries) for t in Collection(graph, head)]
        for test in entries:
            if (test, RDF.type, SHT.Validate) not in graph:
                continue
            action = graph.value(test, MF.action)
            result = graph.value(test, MF.result)
            test_id = test_file.relative_to(SUITE).with_suffix("").as_posix()
            name = str(test).rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            if name != test_id.rsplit("/", 1)[-1]:
                test_id += f"#{name}"
            expected = None if result == SHT.Failure else results_graph(graph, result)
            yield Case(
                id=test_id,
                label=str(graph.value(test, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))),
                data=_file(graph.value(action, SHT.dataGraph)),
                shapes=_file(graph.value(action, SHT.shapesGraph)),
                expected=expected,
                conforms=None if expected is None else graph.value(result, SH.conforms).toPython(),
                fails=expected is not None and _severe(graph, result),
            )


CASES = sorted(_cases(), key=lambda c: c.id)


def _params() -> list[object]:
    out = []
    for case in CASES:
        marks = [pytest.mark.xfail(reason=ALLOWED_FAILURES[case.id], strict=True)] if case.id in ALLOWED_FAILURES else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def test_the_suite_is_all_here() -> None:
    """98 core and 22 SPARQL tests, each named once; the allowed failures name real tests."""
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert sum(1 for i in ids if i.startswith("core/")) == 98
    assert sum(1 for i in ids if i.startswith("sparql/")) == 22
    assert set(ALLOWED_FAILURES) <= set(ids)


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    output: str


def _run_in_process(case: Case) -> Outcome:
    result = CliRunner().invoke(main, ["validate", str(case.data), "--shapes", str(case.shapes), "--format", "turtle"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return Outcome(result.exit_code, result.stdout, result.output)


def _run_subprocess(case: Case) -> Outcome:
    kg = Path(sys.executable).with_name("kg")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    done = subprocess.run(
        [str(kg), "validate", str(case.data), "--shapes", str(case.shapes), "--format", "turtle"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return Outcome(done.returncode, done.stdout, done.stdout + done.stderr)


def _judge(case: Case, outcome: Outcome) -> None:
    assert "Traceback" not in outcome.output
    if case.expected is None:
        assert outcome.exit_code == 2, f"expected the input to be refused (exit 2):\n{outcome.output}"
        assert outcome.output.strip(), "a refusal says why"
        assert "sh:ValidationReport" not in outcome.stdout
        return
    assert outcome.exit_code in (0, 1), outcome.output
    report_graph = Graph().parse(data=outcome.stdout, format="turtle")
    report = report_graph.value(predicate=RDF.type, object=SH.ValidationReport)
    assert report is not None, outcome.stdout
    assert report_graph.value(report, SH.conforms) == Literal(case.conforms)
    actual = results_graph(report_graph, report)
    if not isomorphic(actual, case.expected):
        _, missing, extra = graph_diff(to_isomorphic(case.expected), to_isomorphic(actual))
        pytest.fail(
            f"{case.id}: the results differ\nexpected, not found:\n{missing.serialize(format='nt')}\n"
            f"found, not expected:\n{extra.serialize(format='nt')}"
        )
    assert outcome.exit_code == (1 if case.fails else 0)


@pytest.mark.parametrize("case", _params())
def test_w3c_shacl(case: Case, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("KG_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    _judge(case, _run_in_process(case))


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES if c.id in SUBPROCESS])
def test_w3c_shacl_by_subprocess(case: Case, tmp_path: Path) -> None:
    assert len([c for c in CASES if c.id in SUBPROCESS]) == len(SUBPROCESS)
    _judge(case, _run_subprocess(case))
