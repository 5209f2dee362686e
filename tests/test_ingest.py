"""``kg ingest``: exit codes 0/1/2, the store unchanged on refusal, RDF/XML entities refused,
and a writer killed with SIGKILL at each stage of a large ingest losing nothing committed and
leaving nothing half-written."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from kg.rdfio import quads_to_graph
from kg.store import EmbeddedStore
from kg.store.base import SOURCES_GRAPH, STAGING_PREFIX

EX = "http://example.org/"
KG = [str(Path(sys.executable).with_name("kg"))]


def kg(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KG, "--store", str(store), *args], check=False, capture_output=True, text=True, timeout=600)


def snapshot(path: Path) -> dict[str, Graph]:
    """Named graphs (N-Quads dump) and the union, read with the store opened writable (which is
    also what drops the staging graphs a killed writer left)."""
    store = EmbeddedStore(path)
    try:
        raw = [g.value for g in store.oxigraph.named_graphs()]
        assert not any(g.startswith(STAGING_PREFIX) and g != SOURCES_GRAPH for g in raw), raw
        out = io.BytesIO()
        store.dump(out, format_name="nquads")
        ds = Dataset()
        ds.parse(data=out.getvalue().decode("utf-8"), format="nquads")
        graphs = {str(g.identifier): Graph() + g for g in ds.graphs() if len(g)}
        union = store.union_graph()
        # both read through the same term conversion, so plain literals compare alike
        assert isomorphic(union, quads_to_graph(store.named_quads())), "the default graph is not the union"
        graphs["(union)"] = union
        # which files each graph was read from: unchanged too when a write is refused
        graphs["(records)"] = quads_to_graph(store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(SOURCES_GRAPH)))
        return graphs
    finally:
        store.close()


def same(a: dict[str, Graph], b: dict[str, Graph]) -> bool:
    return sorted(a) == sorted(b) and all(isomorphic(a[k], b[k]) for k in a)


@pytest.fixture()
def store_with_data(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    small = tmp_path / "small.ttl"
    small.write_text(f"@prefix ex: <{EX}> .\nex:a ex:p 1 ; ex:q ex:b .\n", encoding="utf-8")
    result = kg(path, "ingest", str(small), "--graph", EX + "g1", "--agent", "tester")
    assert result.returncode == 0, result.stderr
    return path


def test_ingest_prints_a_receipt(store_with_data: Path, tmp_path: Path) -> None:
    more = tmp_path / "more.nt"
    more.write_text(f'<{EX}c> <{EX}p> "x" .\n', encoding="utf-8")
    result = kg(store_with_data, "ingest", str(more), "--graph", EX + "g1", "--add")
    assert result.returncode == 0, result.stderr
    receipt = json.loads(result.stdout)
    assert (receipt["added"], receipt["removed"], receipt["source"]) == (1, 0, str(more))
    assert receipt["agent"].startswith("cli:") and receipt["validation"]["conforms"] is True
    import hashlib

    assert receipt["sha256"] == hashlib.sha256(more.read_bytes()).hexdigest()


def test_unreadable_files_exit_2_with_line_and_column(store_with_data: Path, tmp_path: Path) -> None:
    before = snapshot(store_with_data)
    bad = tmp_path / "bad.ttl"
    bad.write_text(f"@prefix ex: <{EX}> .\nex:a ex:p 1 .\nex:b ex:p .\n", encoding="utf-8")
    result = kg(store_with_data, "ingest", str(bad), "--graph", EX + "g1")
    assert result.returncode == 2 and f"{bad}:3:" in result.stderr, result.stderr
    unknown = tmp_path / "data.csv"
    unknown.write_text("a,b\n", encoding="utf-8")
    assert kg(store_with_data, "ingest", str(unknown), "--graph", EX + "g1").returncode == 2
    assert kg(store_with_data, "ingest", str(tmp_path / "missing.ttl"), "--graph", EX + "g1").returncode == 2
    assert same(before, snapshot(store_with_data))


def test_a_first_load_and_its_union_copy_load_side_by_side(tmp_path: Path) -> None:
    """Into a store holding only receipts, a file without blank nodes is loaded into its graph
    and into the union in two threads: both must end up holding it, and a file that breaks
    half-way must leave neither (the copy beside it is undone too)."""
    path = tmp_path / "fresh"
    lines = [f'<{EX}s{i}> <{EX}p> "v{i}" .\n' for i in range(2000)]
    broken = tmp_path / "broken.nt"
    broken.write_text("".join(lines) + f"<{EX}s> <{EX}p> .\n", encoding="utf-8")
    result = kg(path, "ingest", str(broken), "--graph", EX + "g")
    assert result.returncode == 2 and f"{broken}:2001:" in result.stderr, result.stderr
    after = snapshot(path)
    assert EX + "g" not in after and len(after["(union)"]) == 0, sorted(after)
    good = tmp_path / "good.nt"
    good.write_text("".join(lines), encoding="utf-8")
    assert kg(path, "ingest", str(good), "--graph", EX + "g").returncode == 0
    loaded = snapshot(path)  # asserts the union is the named graphs' union
    assert len(loaded[EX + "g"]) == 2000 and len(loaded["(union)"]) >= 2000


def test_violations_exit_1_with_the_report(store_with_data: Path, tmp_path: Path) -> None:
    before = snapshot(store_with_data)
    claim = tmp_path / "claim.ttl"
    claim.write_text(f"<{EX}claim> a <https://w3id.org/negotiation-kg/ontology#Claim> .\n", encoding="utf-8")
    result = kg(store_with_data, "ingest", str(claim), "--graph", EX + "g2", "--report", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["conforms"] is False and {r["focus_node"] for r in report["results"]} == {EX + "claim"}
    assert same(before, snapshot(store_with_data))


ENTITY_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n <!ENTITY a "aaaaaaaaaa">\n'
    ' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n]>\n'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">\n'
    '<rdf:Description rdf:about="http://example.org/s"><ex:p>&c;</ex:p></rdf:Description>\n</rdf:RDF>\n'
)


def test_pyoxigraph_expands_nested_xml_entities() -> None:
    """Why RDF/XML entity declarations are refused: the parser expands them, nested, without limit
    (three levels of ten here give 1,000 characters; ten levels would give ten billion)."""
    (quad,) = list(ox.parse(ENTITY_BOMB.encode(), format=ox.RdfFormat.RDF_XML))
    assert quad.object.value == "a" * 1000  # type: ignore[union-attr]


def test_rdf_xml_entities_are_refused(store_with_data: Path, tmp_path: Path) -> None:
    before = snapshot(store_with_data)
    bomb = tmp_path / "bomb.rdf"
    bomb.write_text(ENTITY_BOMB, encoding="utf-8")
    result = kg(store_with_data, "ingest", str(bomb), "--graph", EX + "g1")
    # the line of the first entity declaration (the whole file is searched, not only its DOCTYPE's start)
    assert result.returncode == 2 and "entity" in result.stderr and f"{bomb}:3" in result.stderr, result.stderr
    assert same(before, snapshot(store_with_data))


def _big_file(path: Path, triples: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(triples // 4):
            s = f"<{EX}item/{i}>"
            out.write(f'{s} <{EX}label> "item number {i} with some padding text" .\n'
                      f"{s} <{EX}next> <{EX}item/{i + 1}> .\n"
                      f'{s} <{EX}rank> "{i}"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
                      f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}Item> .\n")
    return path


#: what the ingest says as it enters each stage (KG_PROGRESS=lines: one line per stage, not a terminal bar)
LINES = {**os.environ, "KG_PROGRESS": "lines"}


@pytest.mark.parametrize("stage,triples", [("Ingesting: staging…", 400_000), ("Ingesting: validating…", 100_000),
                                          ("Ingesting: committing…", 60_000)])
def test_sigkill_at_any_stage_leaves_the_committed_state(store_with_data: Path, tmp_path: Path, stage: str,
                                                        triples: int) -> None:
    """A subprocess ingests a large file and is killed with SIGKILL when it reports ``stage``:
    the store then holds exactly what was committed before (or, killed while committing, exactly
    what the finished ingest would hold); no staging graph is left and the union is consistent."""
    before = snapshot(store_with_data)
    big = _big_file(tmp_path / "big.nt", triples)
    process = subprocess.Popen([*KG, "--store", str(store_with_data), "ingest", str(big), "--graph", EX + "big"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=LINES)
    seen = []
    assert process.stderr is not None
    for line in process.stderr:
        seen.append(line)
        if stage in line:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=600)
    assert process.returncode == -signal.SIGKILL, seen
    after = snapshot(store_with_data)
    if same(before, after):
        return
    # only a kill during the commit may leave the ingest done — and then wholly done
    assert stage == "Ingesting: committing…", sorted(after)
    assert len(after[EX + "big"]) == triples
    assert {k for k in after} == set(before) | {EX + "big"}
    assert all(isomorphic(before[k], after[k]) for k in before if k not in ("(union)", "(records)", _provenance()))
    assert set(before["(records)"]) < set(after["(records)"])  # the new graph's record joins the others


def _provenance() -> str:
    from kg.iris import PROVENANCE_GRAPH

    return str(PROVENANCE_GRAPH)


def test_after_a_kill_the_next_ingest_works(store_with_data: Path, tmp_path: Path) -> None:
    big = _big_file(tmp_path / "big.nt", 200_000)
    process = subprocess.Popen([*KG, "--store", str(store_with_data), "ingest", str(big), "--graph", EX + "big"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=LINES)
    assert process.stderr is not None
    for line in process.stderr:
        if "Ingesting: staging…" in line:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=600)
    small = _big_file(tmp_path / "small.nt", 400)
    result = kg(store_with_data, "ingest", str(small), "--graph", EX + "big")
    assert result.returncode == 0, result.stderr
    assert len(snapshot(store_with_data)[EX + "big"]) == 400
