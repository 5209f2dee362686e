"""``kg add-document``: a new source document through the build's own steps, the gate and a receipt."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import select

from kg.cli import main
from kg.store import EmbeddedStore, GraphWrite, RemoteStore, WriteMode

DOC_ID = "003_archive-note"
GRAPH = f"https://w3id.org/negotiation-kg/id/graph/document-{DOC_ID}"
DOCUMENT = f"https://w3id.org/negotiation-kg/id/document/{DOC_ID}"
CLAIM = "https://w3id.org/negotiation-kg/id/claim/"
EXISTING_CLAIM = "m-takeaway-ukraine-europe-prioritised-ceasefire"

TEXT = (
    "Ceasefire talk resumes\n\n"
    "By Jane Archivist\n\n"
    "Ukraine again called for a 30-day ceasefire on 20 May 2025, while Russia rejected any pause "
    "before a settlement. Türkiye offered to host another round in Istanbul.\n"
)

ANNOTATIONS = f"""\
document: {DOC_ID}
entities:
  - id: jane-archivist
    kind: actor
    type: Person
    label: Jane Archivist
claims:
  - id: ja-ukraine-calls-for-ceasefire
    kind: paraphrased
    claimant: ukraine
    quote: "Ukraine again called for a 30-day ceasefire"
    about: [thirty-day-ceasefire, ukraine]
    asserts:
      - [thirty-day-ceasefire, supportedBy, ukraine]
    corroborates: [{EXISTING_CLAIM}]
  - id: ja-russia-rejects-pause
    kind: paraphrased
    claimant: russia
    quote: "Russia rejected any pause before a settlement"
    about: [thirty-day-ceasefire, russia]
    asserts:
      - [thirty-day-ceasefire, opposedBy, russia]
"""


#: a draft: block whose created: is no date and time
_DRAFT_BLOCK = "draft:\n  tool: kg draft\n  version: '1.0'\n  method: rules\n  created: yesterday\n"


@pytest.fixture()
def store_dir(store_path: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the built store."""
    target = tmp_path / "store"
    shutil.copytree(store_path, target)
    return target


def _write_document(
    folder: Path, *, text: str = TEXT, annotations: str = ANNOTATIONS, sha: str | None = None, title: str = "Ceasefire talk resumes"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    txt = folder / "note.txt"
    txt.write_text(text, encoding="utf-8")
    digest = sha or hashlib.sha256(text.encode("utf-8")).hexdigest()
    (folder / "note.yaml").write_text(
        f'id: {DOC_ID}\ntitle: "{title}"\nauthor: jane-archivist\n'
        f'datePublished: "2025-05-21"\nsha256: {digest}\n',
        encoding="utf-8",
    )
    (folder / "note.annotations.yaml").write_text(annotations, encoding="utf-8")
    return txt


def _add(store_dir: Path | str, txt: Path) -> Result:
    return CliRunner().invoke(
        main,
        ["--store", str(store_dir), "add-document", str(txt), "--annotations", str(txt.with_suffix(".annotations.yaml"))],
    )


def _canonical(store_dir: Path) -> bytes:
    store = EmbeddedStore(store_dir, read_only=True)
    try:
        buffer = io.BytesIO()
        store.dump(buffer, format_name="nquads")
    finally:
        store.close()
    return b"\n".join(sorted(buffer.getvalue().splitlines()))


def _rows(store_dir: Path, sparql: str) -> list[dict[str, str]]:
    store = EmbeddedStore(store_dir, read_only=True)
    try:
        return select(store, sparql)
    finally:
        store.close()


def test_a_new_document_lands_in_its_own_graph_with_a_receipt(store_dir: Path, tmp_path: Path) -> None:
    txt = _write_document(tmp_path / "incoming")
    result = _add(store_dir, txt)
    assert result.exit_code == 0, result.output
    receipt = json.loads(result.stdout)
    assert receipt["sha256"] == hashlib.sha256(TEXT.encode("utf-8")).hexdigest()
    assert receipt["agent"].startswith("cli:") and receipt["validation"]["conforms"] is True
    assert [g["graph"] for g in receipt["graphs"]] == [GRAPH] and receipt["added"] > 20
    assert "2 claims, 1 new entities" in result.stderr

    claims = _rows(store_dir, f"""
        PREFIX nkg: <https://w3id.org/negotiation-kg/ontology#>
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?claim ?quote ?start ?end ?exact WHERE {{ GRAPH <{GRAPH}> {{
            ?claim nkg:statedIn <{DOCUMENT}> ; nkg:quote ?quote ;
                   nkg:evidence/oa:hasTarget/oa:hasSelector ?pos, ?q .
            ?pos oa:start ?start ; oa:end ?end . ?q oa:exact ?exact }} }} ORDER BY ?claim""")
    assert [r["claim"] for r in claims] == [CLAIM + "ja-russia-rejects-pause", CLAIM + "ja-ukraine-calls-for-ceasefire"]
    for row in claims:
        assert TEXT[int(row["start"]) : int(row["end"])] == row["quote"] == row["exact"]

    facts = _rows(store_dir, f"""
        PREFIX nkg: <https://w3id.org/negotiation-kg/ontology#>
        PREFIX schema: <https://schema.org/>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?author ?label ?linked WHERE {{ GRAPH <{GRAPH}> {{
            <{DOCUMENT}> schema:author ?author . ?author rdfs:label ?label .
            <{CLAIM}ja-ukraine-calls-for-ceasefire> nkg:corroborates ?linked }} }}""")
    assert facts == [{
        "author": "https://w3id.org/negotiation-kg/id/actor/jane-archivist",
        "label": "Jane Archivist",
        "linked": CLAIM + EXISTING_CLAIM,
    }]
    provenance = _rows(store_dir, f"""
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?agent WHERE {{ <{receipt["receipt"]}> a prov:Activity ; prov:wasAssociatedWith/rdfs:label ?agent }}""")
    assert provenance == [{"agent": receipt["agent"]}]


def test_adding_the_same_document_again_replaces_its_graph(store_dir: Path, tmp_path: Path) -> None:
    assert _add(store_dir, _write_document(tmp_path / "v1")).exit_code == 0
    fewer = ANNOTATIONS.split("  - id: ja-russia-rejects-pause")[0]
    again = _add(store_dir, _write_document(tmp_path / "v2", annotations=fewer))
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["removed"] > 0
    rows = _rows(store_dir, f"SELECT ?c WHERE {{ GRAPH <{GRAPH}> {{ ?c a <https://w3id.org/negotiation-kg/ontology#Claim> }} }}")
    assert rows == [{"c": CLAIM + "ja-ukraine-calls-for-ceasefire"}]
    # the new entity is described by the document's graph only, and still is after the replace
    author = "https://w3id.org/negotiation-kg/id/actor/jane-archivist"
    types = _rows(store_dir, f"SELECT ?t WHERE {{ GRAPH <{GRAPH}> {{ <{author}> a ?t }} }} ORDER BY ?t")
    assert [r["t"].rsplit("#", 1)[1] for r in types] == ["Actor", "Person"]


@pytest.mark.parametrize(
    "change,message,line",
    [
        (("Ukraine again called", "Ukraine once more called"), "quote not found", 8),
        (("claimant: russia", "claimant: nobody-known"), "unknown entity 'nobody-known'", 16),
        (("- id: ja-russia-rejects-pause", f"- id: {EXISTING_CLAIM}"), "already used by another document", 16),
        ((f"corroborates: [{EXISTING_CLAIM}]", "corroborates: [no-such-claim]"), "unknown claim 'no-such-claim'", 8),
        (("[thirty-day-ceasefire, opposedBy, russia]", "[thirty-day-ceasefire, opposedBy, istanbul]"),
         "'istanbul' is a place, expected actor", 22),
        # a draft: block is checked field by field; a value the graph cannot record is no silent drop
        ((f"document: {DOC_ID}\n", f"document: {DOC_ID}\n{_DRAFT_BLOCK}"), "'created' must be a date and time", 3),
        ((f"document: {DOC_ID}\n", f"document: {DOC_ID}\n" + _DRAFT_BLOCK.replace("yesterday", "2025-13-40T25:00:00Z")),
         "'created' must be a date and time", 3),
        ((f"document: {DOC_ID}\n", f"document: {DOC_ID}\n" + _DRAFT_BLOCK.replace("  tool: kg draft\n", "")),
         "'draft' needs 'tool'", 3),
        ((f"document: {DOC_ID}\n", f"document: {DOC_ID}\n" + _DRAFT_BLOCK.replace("yesterday", "2025-06-02T10:00:00Z")
          + "  not-found: {title: 1}\n"), "'not-found' must be a list of strings", 3),
    ],
)
def test_bad_annotations_name_file_and_line_and_leave_the_store_unchanged(
    store_dir: Path, tmp_path: Path, change: tuple[str, str], message: str, line: int
) -> None:
    before = _canonical(store_dir)
    old, new = change
    assert old in ANNOTATIONS
    txt = _write_document(tmp_path / "incoming", annotations=ANNOTATIONS.replace(old, new))
    result = _add(store_dir, txt)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert f"note.annotations.yaml:{line}" in result.output
    assert _canonical(store_dir) == before


def test_fixity_mismatch_and_missing_files_are_refused(store_dir: Path, tmp_path: Path) -> None:
    before = _canonical(store_dir)
    txt = _write_document(tmp_path / "incoming", sha="0" * 64)
    result = _add(store_dir, txt)
    assert result.exit_code == 1 and "fixity check failed" in result.output and "note.yaml" in result.output
    missing = CliRunner().invoke(
        main, ["--store", str(store_dir), "add-document", str(tmp_path / "nope.txt"), "--annotations", str(txt)]
    )
    assert missing.exit_code == 2 and "nope.txt" in missing.output
    assert _canonical(store_dir) == before


def test_a_document_that_would_break_the_shapes_is_refused_with_the_report(store_dir: Path, tmp_path: Path) -> None:
    before = _canonical(store_dir)
    result = _add(store_dir, _write_document(tmp_path / "incoming", title=""))  # builds, but an empty label
    assert result.exit_code == 1, result.output
    assert "break the shapes" in result.output and "non-empty English rdfs:label" in result.output
    assert DOCUMENT in result.output
    assert _canonical(store_dir) == before


def test_add_document_into_virtuoso_goes_through_the_same_gate(
    remote_store: RemoteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kg --store URL add-document``: the document's graph lands on the remote store with
    its receipt and links to the corpus already there; one that breaks the shapes changes nothing."""
    monkeypatch.setenv("KG_REMOTE_CATALOGUE_GRAPH", remote_store.catalogue)
    monkeypatch.setenv("KG_REMOTE_UNION_GRAPH", remote_store.union)
    before = set(remote_store.named_graphs())
    try:
        refused = _add(remote_store.url, _write_document(tmp_path / "bad", title=""))
        assert refused.exit_code == 1 and "non-empty English rdfs:label" in refused.output
        assert set(remote_store.named_graphs()) == before
        added = _add(remote_store.url, _write_document(tmp_path / "incoming"))
        assert added.exit_code == 0, added.output
        receipt = json.loads(added.stdout)
        assert [g["graph"] for g in receipt["graphs"]] == [GRAPH] and receipt["validation"]["conforms"] is True
        linked = select(remote_store, f"""
            SELECT ?linked WHERE {{ <{CLAIM}ja-ukraine-calls-for-ceasefire>
                <https://w3id.org/negotiation-kg/ontology#corroborates> ?linked }}""")
        assert linked == [{"linked": CLAIM + EXISTING_CLAIM}]
    finally:
        remote_store.commit([GraphWrite(g, WriteMode.DROP) for g in remote_store.named_graphs() if g not in before])


def test_without_metadata_the_error_names_the_annotation_file(store_dir: Path, tmp_path: Path) -> None:
    """No --meta and no <text>.yaml beside the text: the metadata comes from the annotation
    file, so a missing one, or one without a 'metadata:' block, is what the error names."""
    before = _canonical(store_dir)
    text = tmp_path / "note.txt"
    text.write_text("Ukraine again called for a ceasefire.\n", encoding="utf-8")
    missing = CliRunner().invoke(main, ["--store", str(store_dir), "add-document", str(text),
                                        "--annotations", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and f"{tmp_path / 'none.yaml'}: no such annotation file" in missing.output
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["--store", str(store_dir), "add-document", str(text), "--annotations", str(empty)])
    assert result.exit_code == 2 and f"{empty}: no metadata for note.txt" in result.output, result.output
    assert _canonical(store_dir) == before
