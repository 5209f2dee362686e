"""One lexer for every reader of SPARQL text (:mod:`kg.sparql.lexer`), and one hostile input
for all of them: strings, IRIs and comments that hold braces, ``#``, ``USING``, ``SERVICE``,
long strings and escaped quotes. The guard, the update rewriting and the SHACL engine's
rewrites must agree with the lexer (and with pyoxigraph's parser) on what is code."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.shacl.prebinding import FUNCTION, pre_bind
from kg.sparql.guard import remote_targets
from kg.sparql.lexer import Kind, code_tokens, expand, iri_value, mask, prefixes, tokens
from kg.write.update import declares_dataset, with_dataset

#: a valid query whose strings, IRIs and comments hold everything a careless reader would take for code
HOSTILE = r'''PREFIX ex: <http://example.org/ns/#>   # a comment with { and SERVICE <http://evil/>
SELECT ?s WHERE {
  ?s ex:p "a { brace, a # hash, USING and SERVICE <http://evil/>" .
  ?s ex:q 'single \' quote { USING' .
  ?s ex:r """long "string" with
  } a closing brace and # no comment WITH""" .
  ?s ex:t <http://a/\u0041#{fragment}> .
  # SERVICE <http://evil/> { } USING WITH
  FILTER(?s != <http://a/USING>)
}'''

#: an update shaped like :data:`HOSTILE`
HOSTILE_UPDATE = HOSTILE.replace("SELECT ?s WHERE {", "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o .").replace(
    "<http://a/\\u0041#{fragment}>", "<http://a/\\u0041#fragment>")


def test_the_hostile_query_is_valid_sparql() -> None:
    """The inputs below are real SPARQL, so what the readers say about them is checkable."""
    ox.Store().query(HOSTILE.replace("#{fragment}", "#fragment"))
    ox.Store().update(HOSTILE_UPDATE)


def test_strings_iris_and_comments_are_one_token_each() -> None:
    """Every string, IRI and comment of the hostile query is one token; no code token holds
    a word that only occurs inside them."""
    text = HOSTILE.replace("#{fragment}", "#fragment")
    every = list(tokens(text, comments=True))
    kinds = [t.kind for t in every]
    assert kinds.count(Kind.STRING) == 3
    assert kinds.count(Kind.COMMENT) == 2
    assert [t.text for t in every if t.kind is Kind.IRI] == [
        "<http://example.org/ns/#>", r"<http://a/\u0041#fragment>", "<http://a/USING>"]
    code_words = {t.text.upper() for t in code_tokens(text) if t.kind is Kind.WORD}
    assert code_words == {"PREFIX", "SELECT", "WHERE", "FILTER"}
    assert sum(t.is_punct("{") for t in code_tokens(text)) == sum(t.is_punct("}") for t in code_tokens(text)) == 1


def test_tokens_cover_the_text_exactly() -> None:
    """Tokens are where they say, in order, and only whitespace lies between them."""
    every = list(tokens(HOSTILE, comments=True))
    assert all(HOSTILE[t.start:t.end] == t.text for t in every)
    gaps = [HOSTILE[a.end:b.start] for a, b in zip(every, every[1:])]
    assert all(not gap.strip() for gap in gaps)


def test_mask_blanks_strings_iris_and_comments_keeping_positions() -> None:
    masked = mask(HOSTILE)
    assert len(masked) == len(HOSTILE)
    assert masked.count("\n") == HOSTILE.count("\n")
    assert "SERVICE" not in masked and "USING" not in masked and "#" not in masked
    assert masked.count("{") == masked.count("}") == 1


def test_iri_escapes_and_prefixed_names() -> None:
    code = code_tokens(r'PREFIX e\u0078: <http://x/> PREFIX ex: <http://e/\u0041> SELECT * { ex:a\.b ex:c. }')
    declared = prefixes(code)
    assert declared == {"ex": "http://e/A"}
    body = code[next(i for i, t in enumerate(code) if t.is_punct("{")):]
    names = [t for t in body if t.kind is Kind.PNAME]
    # a local name never ends with a dot: "ex:c." is ex:c and the end of a triple
    assert [t.text for t in names] == [r"ex:a\.b", "ex:c"]
    assert [expand(t, declared) for t in names] == ["http://e/Aa.b", "http://e/Ac"]
    assert iri_value(next(t for t in code if t.kind is Kind.IRI and "u0041" in t.text)) == "http://e/A"


def test_unterminated_strings_do_not_break_the_lexer() -> None:
    """Malformed text still lexes (the parser names the error); nothing is lost."""
    every = list(tokens('SELECT * WHERE { ?s ?p "open', comments=True))
    assert every[-1].kind is Kind.WORD and every[-1].text == "open"


# --- the readers ----------------------------------------------------------------------


def test_guard_sees_service_only_in_code() -> None:
    """The SSRF of the hardening issue: an IRI holding ``\\u`` and ``#`` hid the SERVICE after it."""
    assert remote_targets(HOSTILE) == []
    sneaky = r"SELECT * WHERE { BIND(<http://a/\u0041#> AS ?b) SERVICE <http://127.0.0.1:9/x> { ?x ?y ?z } }"
    assert remote_targets(sneaky) == ["http://127.0.0.1:9/x"]
    prefixed = 'PREFIX r: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE SILENT r:x { ?x ?y ?z } }'
    assert remote_targets(prefixed) == ["http://127.0.0.1:9/x"]
    assert remote_targets('LOAD <http://evil/data.ttl> INTO GRAPH <http://g>') == ["http://evil/data.ttl"]


def test_update_dataset_reading_sees_using_only_in_code() -> None:
    assert not declares_dataset(HOSTILE_UPDATE)
    assert declares_dataset("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }")
    rewritten = with_dataset(HOSTILE_UPDATE, ["http://g/1"], ["http://g/2"])
    assert rewritten.count("USING <http://g/1> USING NAMED <http://g/2>") == 1
    # the strings and comments are as written
    kept = [t.text for t in tokens(HOSTILE_UPDATE, comments=True) if t.kind in (Kind.STRING, Kind.COMMENT)]
    assert [t.text for t in tokens(rewritten, comments=True) if t.kind in (Kind.STRING, Kind.COMMENT)] == kept
    ox.Store().update(rewritten)


def test_delete_where_is_rewritten_around_its_real_group() -> None:
    update = 'DELETE WHERE { ?s <http://p> "} WHERE {" } ; INSERT DATA { <http://s> <http://p> "x" }'
    rewritten = with_dataset(update, ["http://g"], [])
    assert rewritten.startswith('DELETE { ?s <http://p> "} WHERE {" } USING <http://g> WHERE { ?s <http://p> "} WHERE {" } ;')
    ox.Store().update(rewritten)


def test_pre_binding_binds_in_real_groups_only() -> None:
    query = HOSTILE.replace("#{fragment}", "#fragment").replace("?s", "$this")
    bound = pre_bind(query, ["this"])
    assert bound.count(f"BIND(<{FUNCTION}this>() AS ?this)") == 1
    nested = 'SELECT $this WHERE { $this <http://p> ?o . FILTER NOT EXISTS { ?o <http://q> "{" } { SELECT $this WHERE { $this ?p ?v } } }'
    # the outer group, the EXISTS group and the subquery's WHERE group; not the subquery's brace
    assert pre_bind(nested, ["this"]).count("BIND(") == 3


@pytest.mark.parametrize("text", [HOSTILE, HOSTILE_UPDATE])
def test_lexer_and_parser_agree_on_the_structure(text: str) -> None:
    """Blanking strings, IRIs and comments changes nothing the parser reads as code: the text
    with them masked has exactly the braces and keywords the lexer reports."""
    masked = mask(text)
    assert masked.count("{") == sum(t.is_punct("{") for t in code_tokens(text))
    assert masked.count("}") == sum(t.is_punct("}") for t in code_tokens(text))


def test_engine_substitution_replaces_variables_only_in_code() -> None:
    """Pre-bound ``$shapesGraph``/``$currentShape`` are replaced where they are code; a string
    or an IRI that spells the variable (single-quoted strings included) is left as written."""
    from kg.shacl.plan import _substitute

    query = "SELECT $this WHERE { GRAPH $shapesGraph { ?s ?p '$shapesGraph' } FILTER(BOUND($shapesGraph)) # $shapesGraph\n}"
    out = _substitute(query, {"shapesGraph": "<urn:g>"})
    assert out == "SELECT $this WHERE { GRAPH <urn:g> { ?s ?p '$shapesGraph' } FILTER((true)) # $shapesGraph\n}"


def test_engine_joinability_sees_braces_only_in_code() -> None:
    """A brace inside a string or a comment opens no group: the query stays joinable; a real
    nested group that is not EXISTS/OPTIONAL makes it not joinable."""
    from kg.shacl.plan import _joinable

    assert _joinable(HOSTILE.replace("#{fragment}", "#fragment").replace("?s", "$this"))
    assert _joinable('SELECT $this WHERE { $this ?p ?o FILTER NOT EXISTS { ?o ?q "{ {" } OPTIONAL # {\n { ?o ?r ?v } }')
    assert not _joinable("SELECT $this WHERE { { SELECT ?x WHERE { ?x ?p ?o } } $this ?p ?x }")
