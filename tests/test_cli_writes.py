"""Command-line writes: ``kg update``; ``kg ingest`` of every RDF format, of stdin, into the graphs
a dataset names; ``kg add-document`` listing every problem; and every write while a ``kg serve``
holds the store — made by that server — or while another process holds it (exit 4, named)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from live import LiveServer

from kg.cli import main
from kg.store import EmbeddedStore

EX = "https://example.org/"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
NKG = "https://w3id.org/negotiation-kg/ontology#"


@pytest.fixture()
def store(store_path: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the built store."""
    target = tmp_path / "store"
    shutil.copytree(store_path, target)
    return target


def kg(store: Path, *args: str, stdin: bytes | None = None) -> Result:
    result = CliRunner().invoke(main, [*args, "--store", str(store)], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    return result


def ask(store: Path, sparql: str) -> bool:
    opened = EmbeddedStore(store, read_only=True)
    try:
        return bool(opened.query(sparql).result)
    finally:
        opened.close()


# --- kg update ---------------------------------------------------------------------------------


def test_update_commits_through_the_gate_with_a_receipt(store: Path) -> None:
    done = kg(store, "update", f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}a> <{RDFS_COMMENT}> "noted" }} }}')
    assert done.exit_code == 0, done.output
    receipt = json.loads(done.stdout)
    assert receipt["graphs"] == [{"graph": f"{EX}g", "mode": "create", "added": 1, "removed": 0}]
    assert receipt["agent"].startswith("cli:") and receipt["source"] == "kg update"
    assert ask(store, f'ASK {{ <{EX}a> <{RDFS_COMMENT}> "noted" }}')


def test_update_from_a_file_and_from_stdin(store: Path, tmp_path: Path) -> None:
    text = f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}b> <{RDFS_COMMENT}> "from a file" }} }}'
    (tmp_path / "change.ru").write_text(text, encoding="utf-8")
    done = kg(store, "update", f"@{tmp_path / 'change.ru'}", "--agent", "archivist")
    assert done.exit_code == 0 and json.loads(done.stdout)["agent"] == "archivist"
    piped = kg(store, "update", "@-", stdin=f'DELETE DATA {{ GRAPH <{EX}g> {{ <{EX}b> <{RDFS_COMMENT}> "from a file" }} }}'.encode())
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout)["removed"] == 1


def test_update_refused_by_the_shapes_exits_1_with_the_report(store: Path) -> None:
    done = kg(store, "update", f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}claim> a <{NKG}Claim> }} }}", "--report", "json")
    assert done.exit_code == 1
    report = json.loads(done.stdout)
    assert report["conforms"] is False and {r["focus_node"] for r in report["results"]} == {f"{EX}claim"}
    assert not ask(store, f"ASK {{ <{EX}claim> ?p ?o }}")


def test_update_errors_exit_2_in_our_words(store: Path) -> None:
    bad = kg(store, "update", f"INSERT DATA {{ GRAPH <{EX}g> {{ ex:a ex:b ex:c }} }}")
    assert bad.exit_code == 2
    assert "prefix `ex:` is not declared (line 1, column" in bad.output
    load = kg(store, "update", "LOAD <http://169.254.169.254/latest/meta-data> INTO GRAPH <https://example.org/g>")
    assert load.exit_code == 2 and "LOAD to http://169.254.169.254/latest/meta-data is not allowed" in load.output
    empty = kg(store, "update", "  ")
    assert empty.exit_code == 2 and "the update is empty" in empty.output


# --- kg ingest ---------------------------------------------------------------------------------


def test_ingest_a_dataset_into_the_graphs_it_names(store: Path, tmp_path: Path) -> None:
    trig = tmp_path / "two.trig"
    trig.write_text(f'<{EX}g1> {{ <{EX}a> <{RDFS_COMMENT}> "one" }}\n<{EX}g2> {{ <{EX}b> <{RDFS_COMMENT}> "two" }}\n',
                    encoding="utf-8")
    done = kg(store, "ingest", str(trig))
    assert done.exit_code == 0, done.output
    assert {g["graph"] for g in json.loads(done.stdout)["graphs"]} == {f"{EX}g1", f"{EX}g2"}
    assert ask(store, f"ASK {{ GRAPH <{EX}g2> {{ <{EX}b> ?p ?o }} }}")


def test_ingest_a_dataset_into_one_graph(store: Path, tmp_path: Path) -> None:
    nquads = tmp_path / "data.nq"
    nquads.write_text(f'<{EX}a> <{RDFS_COMMENT}> "one" <{EX}x> .\n<{EX}b> <{RDFS_COMMENT}> "two" .\n', encoding="utf-8")
    done = kg(store, "ingest", str(nquads), "--graph", f"{EX}all")
    assert done.exit_code == 0, done.output
    receipt = json.loads(done.stdout)
    assert receipt["graphs"][0]["graph"] == f"{EX}all" and receipt["added"] == 2
    import hashlib

    assert receipt["sha256"] == hashlib.sha256(nquads.read_bytes()).hexdigest()
    assert not ask(store, f"ASK {{ GRAPH <{EX}x> {{ ?s ?p ?o }} }}")


def test_a_jsonld_document_of_one_graph(store: Path, tmp_path: Path) -> None:
    doc = tmp_path / "note.jsonld"
    doc.write_text(json.dumps({"@id": f"{EX}n", RDFS_COMMENT: "from JSON-LD"}), encoding="utf-8")
    done = kg(store, "ingest", str(doc), "--graph", f"{EX}notes")
    assert done.exit_code == 0, done.output
    assert ask(store, f'ASK {{ GRAPH <{EX}notes> {{ <{EX}n> <{RDFS_COMMENT}> "from JSON-LD" }} }}')


def test_ingest_from_stdin_needs_a_format(store: Path) -> None:
    data = f'<{EX}s> <{RDFS_COMMENT}> "piped" .\n'.encode()
    missing = kg(store, "ingest", "-", "--graph", f"{EX}piped", stdin=data)
    assert missing.exit_code == 2 and "reading stdin (-) needs --format" in missing.output
    done = kg(store, "ingest", "-", "--format", "ntriples", "--graph", f"{EX}piped", stdin=data)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["source"] == "stdin"
    broken = kg(store, "ingest", "-", "--format", "turtle", "--graph", f"{EX}piped", stdin=b"<a> <b> .\n")
    assert broken.exit_code == 2 and "stdin:1:" in broken.output


def test_ingest_says_where_triples_without_a_graph_go(store: Path, tmp_path: Path) -> None:
    turtle = tmp_path / "plain.ttl"
    turtle.write_text(f'<{EX}a> <{RDFS_COMMENT}> "x" .\n', encoding="utf-8")
    one = kg(store, "ingest", str(turtle))
    assert one.exit_code == 2 and "say which graph they go into with --graph IRI" in one.output
    loose = tmp_path / "loose.trig"
    loose.write_text(f'<{EX}a> <{RDFS_COMMENT}> "x" .\n<{EX}g> {{ <{EX}b> <{RDFS_COMMENT}> "y" }}\n', encoding="utf-8")
    done = kg(store, "ingest", str(loose))
    assert done.exit_code == 2 and "1 triples are in no named graph" in done.output and str(loose) in done.output


# --- kg add-document -----------------------------------------------------------------------------

TEXT = "A short note\n\nUkraine asked for a ceasefire. Russia said no.\n"


def _document(folder: Path, claims: str) -> tuple[Path, Path]:
    text = folder / "note.txt"
    text.write_text(TEXT, encoding="utf-8")
    (folder / "note.yaml").write_text('id: 004_short-note\ntitle: "A short note"\n', encoding="utf-8")
    annotations = folder / "note.annotations.yaml"
    annotations.write_text(f"document: 004_short-note\nclaims:\n{claims}", encoding="utf-8")
    return text, annotations


def test_add_document_without_a_sha256_and_its_first_add_creates(store: Path, tmp_path: Path) -> None:
    text, annotations = _document(tmp_path, '  - id: sn-ukraine-asks\n    kind: paraphrased\n    claimant: ukraine\n'
                                            '    quote: "Ukraine asked for a ceasefire"\n')
    first = kg(store, "add-document", str(text), "--annotations", str(annotations))
    assert first.exit_code == 0, first.output
    assert [g["mode"] for g in json.loads(first.stdout)["graphs"]] == ["create"]
    again = kg(store, "add-document", str(text), "--annotations", str(annotations))
    assert [g["mode"] for g in json.loads(again.stdout)["graphs"]] == ["replace"]


def test_add_document_lists_every_problem(store: Path, tmp_path: Path) -> None:
    claims = ('  - id: sn-one\n    kind: paraphrased\n    claimant: ukraine\n    quote: "not in the text"\n'
              '  - id: sn-two\n    kind: paraphrased\n    claimant: nobody-known\n    quote: "Russia said no"\n'
              '  - id: sn-three\n    kind: paraphrased\n    claimant: russia\n    quote: "Russia said no"\n')
    text, annotations = _document(tmp_path, claims)
    done = kg(store, "add-document", str(text), "--annotations", str(annotations))
    assert done.exit_code == 1
    assert "2 problems in the annotations" in done.output
    assert f"{annotations}:3:" in done.output and "'sn-one'" in done.output
    assert f"{annotations}:7:" in done.output and "'nobody-known'" in done.output


# --- writes beside a running server ----------------------------------------------------------------


@pytest.fixture()
def server(store: Path, tmp_path: Path) -> LiveServer:
    running = LiveServer(store, tmp_path / "serve.log", read_only=False)
    running.start()
    yield running  # type: ignore[misc]
    running.stop()


def _sparql(server: LiveServer, query: str) -> dict[str, object]:
    import urllib.parse
    import urllib.request

    url = server.url + "/sparql?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"})) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def test_writes_while_kg_serve_runs_go_through_it(server: LiveServer, store: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.ttl"
    note.write_text(f'<{EX}live> <{RDFS_COMMENT}> "through the server" .\n', encoding="utf-8")
    done = kg(store, "ingest", str(note), "--graph", f"{EX}live")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["graphs"][0]["graph"] == f"{EX}live"
    assert f"by kg serve at {server.url}" in done.stderr
    # the server's readers see the write at once
    assert _sparql(server, f"ASK {{ <{EX}live> ?p ?o }}")["boolean"] is True
    updated = kg(store, "update", f"DELETE WHERE {{ GRAPH <{EX}live> {{ <{EX}live> ?p ?o }} }}")
    assert updated.exit_code == 0, updated.output
    assert _sparql(server, f"ASK {{ <{EX}live> ?p ?o }}")["boolean"] is False
    refused = kg(store, "update", f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}claim> a <{NKG}Claim> }} }}", "--report", "json")
    assert refused.exit_code == 1 and json.loads(refused.stdout)["conforms"] is False
    bad = kg(store, "update", "INSERT DATA { nope }")
    assert bad.exit_code == 2 and "SPARQL Update syntax error" in bad.output


def test_a_second_server_is_told_who_holds_the_store(server: LiveServer, store: Path) -> None:
    second = subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", "serve", "--store", str(store),
                             "--port", "1"], capture_output=True, text=True, timeout=120)
    assert second.returncode == 4, second.stderr
    assert f"held by kg serve at {server.url} (pid " in second.stderr
    assert "--read-only" in second.stderr and "Traceback" not in second.stderr
    assert second.stderr.count("\n") == 1


def test_a_store_held_by_another_command_is_exit_4(store: Path, tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", f"import pyoxigraph, time; s = pyoxigraph.Store({str(store)!r}); "
                               "print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        note = tmp_path / "note.ttl"
        note.write_text(f'<{EX}x> <{RDFS_COMMENT}> "x" .\n', encoding="utf-8")
        started = time.monotonic()
        done = kg(store, "ingest", str(note), "--graph", f"{EX}x")
        assert done.exit_code == 4
        assert f"is held for writing by process {holder.pid}" in done.output
        assert "run this again when it has finished" in done.output
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()


def test_restore_while_kg_serve_runs_names_the_server(server: LiveServer, store: Path, tmp_path: Path) -> None:
    saved = kg(store, "backup", str(tmp_path / "saved"))
    assert saved.exit_code == 0 and f"checkpoint by the server at {server.url}" in saved.stderr
    done = kg(store, "restore", str(tmp_path / "saved"), "--force")
    assert done.exit_code == 4
    assert f"held by kg serve at {server.url} (pid " in done.output and "stop that server first" in done.output
