"""``kg draft``: every drafted quote is verbatim, ``kg add-document`` publishes a raw draft and its
graph says it was drafted, bad input gets a clear error and no file, the chat-endpoint backend
keeps only verbatim quotes, and the drafter meets its quality targets on the seed articles."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Dataset, Literal, URIRef

from kg.build.annotations import load_gazetteer
from kg.cli import main
from kg.draft.backends.openai import ChatBackend
from kg.draft.drafter import draft_document
from kg.draft.gazetteer import Gazetteer
from kg.draft.score import score_draft
from kg.namespaces import NKG, PROV, RDF
from kg.resources import default_corpus_dir

CORPUS = default_corpus_dir()
ENTITIES = CORPUS / "annotations" / "entities.yaml"
SEEDS = ["000_08f43cbfc8a050d9", "002_1ed21c23b6fc676c"]

NOTE = (
    "Ceasefire talk resumes\n\n"
    "By Jane Archivist • May 23, 2025\n\n"
    "Ukraine again called for a 30-day ceasefire on Friday, while Russia rejected any temporary ceasefire "
    "before a settlement. Foreign Minister Andrii Sybiha said Kyiv would accept a short-term pause in fighting "
    "if the Russian president is present. Türkiye reportedly offered to host another round in Istanbul. "
    "Will Moscow accept a 30-day ceasefire?\n"
)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """The gazetteer of entity labels and aliases only (never a curated claim)."""
    return Gazetteer(load_gazetteer(ENTITIES))


@pytest.fixture(scope="module")
def seed_drafts(gazetteer: Gazetteer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("drafts")
    out = {}
    for doc in SEEDS:
        result = draft_document(CORPUS / "documents" / f"{doc}.txt", gazetteer)
        out[doc] = folder / f"{doc}.yaml"
        out[doc].write_text(result.yaml, encoding="utf-8")
    return out


def _claims(path: Path) -> list[dict[str, Any]]:
    import yaml

    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["claims"])


def test_every_drafted_quote_is_verbatim_at_its_offsets(seed_drafts: dict[str, Path]) -> None:
    for doc, path in seed_drafts.items():
        text = (CORPUS / "documents" / f"{doc}.txt").read_text(encoding="utf-8")
        claims = _claims(path)
        assert claims
        for claim in claims:
            assert claim["quote"] in text
            if text.count(claim["quote"]) > 1:
                assert claim["occurrence"] >= 1
            for hedge in claim.get("hedge", []):
                assert hedge in claim["quote"]


def test_quality_targets_on_the_seed_articles(seed_drafts: dict[str, Path]) -> None:
    """The issue's targets, measured by kg score against the curated annotations."""
    for doc, path in seed_drafts.items():
        measures = score_draft(path, CORPUS / "annotations" / f"{doc}.yaml", corpus=CORPUS).measures()
        assert measures["quotes.rate"] == 1.0, doc  # no quote that is not verbatim
        assert measures["claims.recall"] >= 0.9, (doc, measures["claims.recall"])
        assert measures["claimants.rate"] >= 0.8, (doc, measures["claimants.rate"])
        assert measures["stances.f1"] >= 0.4, (doc, measures["stances.f1"])


@pytest.fixture()
def note(tmp_path: Path) -> Path:
    path = tmp_path / "note.txt"
    path.write_text(NOTE, encoding="utf-8")
    return path


def test_the_rules_keep_claimants_stances_hedges_and_conditions(note: Path, gazetteer: Gazetteer) -> None:
    claims = {c.quote: c for c in draft_document(note, gazetteer).draft.claims}
    russia = claims["while Russia rejected any temporary ceasefire before a settlement."]
    assert (russia.claimant, [(f.subject, f.predicate, f.object) for f in russia.asserts]) == \
        ("russia", [("thirty-day-ceasefire", "opposedBy", "russia")])
    minister = next(c for q, c in claims.items() if q.startswith("Foreign Minister"))
    assert minister.claimant == "andrii-sybiha"
    pause = next(f for f in minister.asserts if f.predicate == "supportedBy")
    assert (pause.subject, pause.object, pause.time) == ("short-term-pause", "ukraine", "hypothetical")
    assert pause.conditions == ["if the Russian president is present"]
    assert claims["Türkiye reportedly offered to host another round in Istanbul."].hedges == ["reportedly"]
    assert claims["Will Moscow accept a 30-day ceasefire?"].asserts == []  # a question is not a stance


def test_add_document_publishes_the_raw_draft_and_says_it_is_drafted(note: Path, store_path: Path,
                                                                      tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(store_path, store)
    runner = CliRunner()
    draft = tmp_path / "note.draft.yaml"
    done = runner.invoke(main, ["draft", str(note), "-o", str(draft), "--store", str(store)])
    assert done.exit_code == 0, done.output
    added = runner.invoke(main, ["add-document", str(note), "--annotations", str(draft), "--store", str(store)])
    assert added.exit_code == 0, added.output
    dumped = runner.invoke(main, ["dump", "--format", "nquads", "--store", str(store)])
    data = Dataset()
    data.parse(data=dumped.stdout, format="nquads")
    graph_iri = URIRef("https://w3id.org/negotiation-kg/id/graph/document-note")
    graph = data.graph(graph_iri)
    activity = graph.value(graph_iri, PROV.wasGeneratedBy)
    assert activity is not None and (activity, RDF.type, NKG.Drafting) in graph
    assert graph.value(activity, NKG.draftMethod) == Literal("rules")
    document = URIRef("https://w3id.org/negotiation-kg/id/document/note")
    from kg.namespaces import SCHEMA

    assert graph.value(document, SCHEMA.author) == URIRef("https://w3id.org/negotiation-kg/id/actor/jane-archivist")
    assert str(graph.value(document, SCHEMA.datePublished)) == "2025-05-23"
    seed = data.graph(URIRef(f"https://w3id.org/negotiation-kg/id/graph/document-{SEEDS[1]}"))
    assert seed.value(None, PROV.wasGeneratedBy) is None  # curated graphs are not drafted


@pytest.mark.parametrize(("content", "words"), [
    (b"", "empty"),
    (b"\x00\x01\x02binary\x00", "binary"),
    (b"\xff\xfe not utf-8", "UTF-8"),
    (b"Die Verhandlungen in Istanbul sind gescheitert, sagte der Minister am Freitag in Ankara.\n", "English"),
    (b"KEY POINTS\n\nIstanbul\n", "no sentences"),
    (None, "no such document file"),
])
def test_bad_input_is_refused_and_writes_nothing(tmp_path: Path, content: bytes | None, words: str) -> None:
    """What is wrong, and where: the message names the text (``None``: there is no such file)."""
    text = tmp_path / "bad.txt"
    if content is not None:
        text.write_bytes(content)
    out = tmp_path / "bad.draft.yaml"
    done = CliRunner().invoke(main, ["draft", str(text), "-o", str(out), "--entities", str(ENTITIES)])
    assert done.exit_code == 2 and words in done.output and str(text) in done.output
    assert not out.exists() and not list(tmp_path.glob(".bad.draft.yaml.*"))


def test_a_byline_without_a_date_says_so(tmp_path: Path, gazetteer: Gazetteer) -> None:
    text = tmp_path / "undated.txt"
    text.write_text(NOTE.replace(" • May 23, 2025", ""), encoding="utf-8")
    result = draft_document(text, gazetteer)
    assert result.draft.date is None
    assert any("date" in line for line in result.draft.not_found) and "not-found" in result.yaml


class _Chat(BaseHTTPRequestHandler):
    """A chat-completions endpoint with a canned answer: one verbatim quote, one that is not."""

    answer: dict[str, Any] = {"claims": [
        {"quote": "Russia rejected any temporary ceasefire before a settlement", "claimant": "Russia",
         "kind": "paraphrased", "stances": [{"proposal": "temporary ceasefire", "stance": "oppose", "actor": "Russia"}]},
        {"quote": "Russia rejected every ceasefire", "claimant": "Russia", "kind": "paraphrased"},
    ]}

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert body["messages"][-1]["content"].startswith("Ceasefire talk resumes")
        reply = {"choices": [{"message": {"role": "assistant", "content": json.dumps(self.answer)}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def chat_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Chat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_the_chat_backend_keeps_only_verbatim_quotes(note: Path, gazetteer: Gazetteer, chat_url: str,
                                                     tmp_path: Path) -> None:
    result = draft_document(note, gazetteer, backend=ChatBackend(chat_url, model="fake"))
    assert [c.quote for c in result.draft.claims] == ["Russia rejected any temporary ceasefire before a settlement"]
    claim = result.draft.claims[0]
    assert (claim.claimant, [(f.subject, f.predicate, f.object) for f in claim.asserts]) == \
        ("russia", [("thirty-day-ceasefire", "opposedBy", "russia")])
    assert any("Russia rejected every ceasefire" in d for d in result.draft.dropped)
    assert "Russia rejected every ceasefire" not in result.yaml.split("claims:")[1]
    out = tmp_path / "chat.yaml"
    done = CliRunner().invoke(main, ["draft", str(note), "-o", str(out), "--entities", str(ENTITIES),
                                     "--backend", "openai", "--endpoint", chat_url, "--model", "fake"])
    assert done.exit_code == 0, done.output
    assert "method: openai:fake" in out.read_text(encoding="utf-8")


def test_according_to_names_the_claimant(tmp_path: Path, gazetteer: Gazetteer) -> None:
    text = tmp_path / "according.txt"
    text.write_text(NOTE.replace("Türkiye reportedly offered", "According to Ankara, Türkiye offered"), encoding="utf-8")
    claims = {c.quote: c for c in draft_document(text, gazetteer).draft.claims}
    assert claims["According to Ankara, Türkiye offered to host another round in Istanbul."].claimant == "turkiye"


def test_the_spacy_backend_needs_an_installed_pipeline(note: Path, tmp_path: Path) -> None:
    """spaCy is never required: asking for a pipeline that is not installed is a clear error, no file."""
    out = tmp_path / "spacy.yaml"
    done = CliRunner().invoke(main, ["draft", str(note), "-o", str(out), "--entities", str(ENTITIES),
                                     "--backend", "spacy", "--model", "no_such_pipeline_xx"])
    assert done.exit_code == 2 and "spaCy" in done.output and not out.exists()
