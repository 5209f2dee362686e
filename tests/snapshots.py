"""Reading a store's whole state from outside, for tests of what readers and restarts see.

``dumped`` reads through the command line (other processes, read-only), ``served`` through a
running server (its query workers and its own handle); both give each named graph and the
union (the default graph queries see) as rdflib graphs, compared with ``assert_same``
(``isomorphic``, with a ``graph_diff`` count on failure).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path

from rdflib import RDF, Dataset, Graph
from rdflib.compare import graph_diff, isomorphic

from kg.iris import PROVENANCE_GRAPH
from kg.namespaces import PROV
from kg.store.base import STAGING_PREFIX

__all__ = ["BIG", "DEADLINE", "EX", "KG", "PAUSING_INGEST", "activities", "assert_same", "big_file", "dumped", "kg",
           "served", "small_store", "start_paused_ingest", "without_receipts"]

EX = "http://example.org/"
#: the graph the pausing writer ingests
BIG = EX + "big"
KG = [sys.executable, "-c", "from kg.cli import main; main()"]
#: the longest any one command, request or start may take
DEADLINE = 120.0


def kg(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KG, "--store", str(store), *args], check=False, capture_output=True, text=True,
                          timeout=DEADLINE)


def dumped(store: Path) -> dict[str, Graph]:
    """What readers in other processes see: each named graph (``kg dump``) and the union
    (``kg query``, the default graph of a CONSTRUCT); no staging graph among the graphs a
    ``GRAPH ?g`` pattern meets."""
    result = kg(store, "dump", "--format", "nquads")
    assert result.returncode == 0, result.stderr
    ds = Dataset()
    ds.parse(data=result.stdout, format="nquads")
    graphs = {str(g.identifier): Graph() + g for g in ds.graphs() if len(g)}
    union = kg(store, "query", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "--format", "ntriples")
    assert union.returncode == 0, union.stderr
    graphs["(union)"] = Graph().parse(data=union.stdout, format="nt")
    listed = kg(store, "query", "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    names = set(listed.stdout.split()[1:])
    assert not any(n.startswith(STAGING_PREFIX) for n in names), f"a reader lists staging graphs: {names}"
    assert names == {k for k in graphs if not k.startswith("(")}, names
    return graphs


def assert_same(a: dict[str, Graph], b: dict[str, Graph]) -> None:
    assert sorted(a) == sorted(b), (sorted(a), sorted(b))
    for name in a:
        if not isomorphic(a[name], b[name]):
            _, left, right = graph_diff(a[name], b[name])
            raise AssertionError(f"{name} differs: {len(left)} triples only before, {len(right)} only after")


def big_file(path: Path, triples: int) -> Path:
    """N-Triples without blank nodes, so that the ingest also bulk-loads its union copy before the commit."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(triples // 2):
            out.write(f'<{EX}item/{i}> <{EX}label> "item {i}" .\n<{EX}item/{i}> <{EX}next> <{EX}item/{i + 1}> .\n')
    return path


def served(url: str) -> dict[str, Graph]:
    """The dataset a running server gives: every named graph (N-Quads), and its union."""
    with urllib.request.urlopen(urllib.request.Request(f"{url}/graph-store", headers={"Accept": "application/n-quads"}),
                                timeout=DEADLINE) as response:
        ds = Dataset()
        ds.parse(data=response.read().decode("utf-8"), format="nquads")
    graphs = {str(g.identifier): Graph() + g for g in ds.graphs() if len(g)}
    query = urllib.parse.urlencode({"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"})
    with urllib.request.urlopen(urllib.request.Request(f"{url}/sparql?{query}", headers={"Accept": "application/n-triples"}),
                                timeout=DEADLINE) as response:
        graphs["(union)"] = Graph().parse(data=response.read().decode("utf-8"), format="nt")
    return graphs


def activities(graphs: dict[str, Graph]) -> int:
    """How many receipts (``prov:Activity``) the provenance graph holds."""
    provenance = graphs.get(str(PROVENANCE_GRAPH), Graph())
    return len(set(provenance.subjects(RDF.type, PROV.Activity)))


def without_receipts(graphs: dict[str, Graph]) -> dict[str, Graph]:
    """The graphs but the provenance graph, and the union without its triples."""
    provenance = graphs.get(str(PROVENANCE_GRAPH), Graph())
    out = {k: v for k, v in graphs.items() if k != str(PROVENANCE_GRAPH)}
    out["(union)"] = graphs["(union)"] - provenance
    return out


def small_store(path: Path) -> Path:
    """A store at ``path`` holding one small graph, written by ``kg ingest``."""
    small = path.parent / "small.ttl"
    small.write_text(f"@prefix ex: <{EX}> .\nex:a ex:p 1 ; ex:q ex:b .\n", encoding="utf-8")
    result = kg(path, "ingest", str(small), "--graph", EX + "g1", "--agent", "tester")
    assert result.returncode == 0, result.stderr
    return path


#: a writer that ingests FILE into GRAPH, says "paused <stage>" when it reaches STAGE, and waits
#: for a line on stdin before going on (or for SIGKILL)
PAUSING_INGEST = textwrap.dedent("""
    import sys
    from pathlib import Path
    from kg.store import EmbeddedStore
    from kg.write.ingest import ingest_files

    store_dir, data, graph, pause_at = sys.argv[1:5]
    store = EmbeddedStore(Path(store_dir))

    def on_stage(stage):
        if stage == pause_at:
            print("paused", stage, flush=True)
            sys.stdin.readline()

    receipt = ingest_files(store, [Path(data)], graph, agent="tester", on_stage=on_stage)
    store.close()
    print("committed", receipt.added, flush=True)
""")


def start_paused_ingest(store: Path, data: Path, stage: str) -> subprocess.Popen[str]:
    """A writer (:data:`PAUSING_INGEST`) of ``data`` into :data:`BIG`, paused at ``stage``."""
    writer = subprocess.Popen([sys.executable, "-c", PAUSING_INGEST, str(store), str(data), BIG, stage],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    line = writer.stdout.readline()
    assert line.strip() == f"paused {stage}", (line, writer.stderr.read() if writer.stderr else "")
    return writer
