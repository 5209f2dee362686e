"""The screens in front of every parser: :func:`kg.rdfguard.screen_rdf` (RDF nesting, XML
entities), :func:`kg.sparql.guard.check_nesting` (SPARQL nesting) and :func:`kg.iris.check_iri`.

The RDF screen reads in chunks; a string, an IRI or a comment cut by a chunk boundary must not
make it lose its place, so each case is read again with chunks of every small size.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import kg.rdfguard
from kg.errors import InputError, QueryError
from kg.formats import rdf_format_by_name
from kg.iris import check_iri
from kg.rdfguard import screen_rdf
from kg.sparql.guard import check_nesting, nesting_depth

EX = "http://example.org/"


def _depth_error(data: bytes, name: str, *, limit: int = 10) -> str | None:
    fmt = rdf_format_by_name(name)
    assert fmt is not None
    try:
        screen_rdf(data, fmt, "body", max_nesting=limit)
    except InputError as exc:
        return str(exc)
    return None


def _every_chunking(data: bytes, name: str, monkeypatch: pytest.MonkeyPatch, *, limit: int = 10) -> set[str | None]:
    """What the screen says of ``data`` read whole and in chunks of 1 to 12 bytes."""
    outcomes = {_depth_error(data, name, limit=limit)}
    for size in range(1, 13):
        monkeypatch.setattr(kg.rdfguard, "CHUNK_BYTES", size)
        outcomes.add(_depth_error(data, name, limit=limit))
    monkeypatch.undo()
    return outcomes


#: (format, nested ``levels`` deep) — each counts one level per opener
NESTED = {
    "turtle": lambda n: f"<{EX}s> <{EX}p> " + f"[ <{EX}q> " * n + "1" + " ]" * n + " .\n",
    "turtle lists": lambda n: f"<{EX}s> <{EX}p> " + "( " * n + "1" + " )" * n + " .\n",
    "n3": lambda n: f"<{EX}s> <{EX}p> " + "{ " * n + f"<{EX}a> <{EX}b> <{EX}c>" + " }" * n + " .\n",
    "ntriples": lambda n: f"<{EX}s> <{EX}p> " + f"<< <{EX}s> <{EX}p> " * n + f"<{EX}o>" + " >>" * n + " .\n",
    "jsonld": lambda n: f'{{"@id": "{EX}n", "{EX}p": ' * n + "1" + "}" * n,
    "jsonld arrays": lambda n: f'{{"@id": "{EX}n", "{EX}p": ' + "[" * (n - 1) + "1" + "]" * (n - 1) + "}",
    "rdfxml": lambda n: (f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="{EX}">'
                         + "<e:p>" * (n - 1) + "</e:p>" * (n - 1) + "</rdf:RDF>"),
}


@pytest.mark.parametrize("case", list(NESTED))
def test_nesting_at_the_limit_passes_and_one_more_is_refused(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = case.split()[0]
    assert _every_chunking(NESTED[case](10).encode(), name, monkeypatch) == {None}
    refused = _every_chunking(NESTED[case](11).encode(), name, monkeypatch)
    assert len(refused) == 1, refused
    message = refused.pop()
    assert message is not None and message.startswith(f"body:1: {name}: ") and "more than 10 deep" in message
    assert "max_nesting" in message


#: brackets inside strings, IRIs, comments, CDATA… do not count, wherever a chunk ends
HIDDEN = {
    "turtle": (f'<{EX}s> <{EX}p> "[[[[[[[[[[[[", \'((((((((((((\', """{{{{{{{{{{{{\n[[[[[[[[[[[[""" , '
               f"'''[[[[[[[[[[[[ ''' , \"\", '' , \"\"\"\"\"\" , \"esc \\\" [[[[[[[[[[[[\" , <{EX}[[[[[[[[[[[[> .\n"
               "# [[[[[[[[[[[[ ((((((((((((\n"
               f"<{EX}s> <{EX}p\\#x> [ <{EX}q> ( 1 2 ) ] .\n"),
    "jsonld": f'{{"@id": "{EX}s", "{EX}p": "[[[[[[[[[[[[ {{{{{{{{{{{{ \\" [[[[[[[[[[[[", "{EX}q": [[1], {{}}]}}',
    "rdfxml": ('<?xml version="1.0"?><!-- <a><a><a><a><a><a><a><a><a><a><a><a> -->'
               '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/">'
               "<?pi <a><a><a><a><a><a><a><a><a><a><a><a> ?>"
               '<rdf:Description rdf:about="http://example.org/s" e:a="<>>>"><e:p rdf:parseType="Literal">'
               "<![CDATA[ <a><a><a><a><a><a><a><a><a><a><a><a> ]]><b/><c x='/>'/></e:p><e:q/></rdf:Description>"
               "</rdf:RDF>"),
}


@pytest.mark.parametrize("name", list(HIDDEN))
def test_what_strings_iris_and_comments_hold_does_not_count(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _every_chunking(HIDDEN[name].encode(), name, monkeypatch, limit=4) == {None}


def test_a_long_string_cut_by_a_chunk_does_not_hide_nesting_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (f'<{EX}s> <{EX}p> """x[[[ "" ""\n"""  , "" .\n' + NESTED["turtle"](11)).encode()
    outcomes = _every_chunking(data, "turtle", monkeypatch)
    assert len(outcomes) == 1 and "body:3: turtle" in str(outcomes.pop())


def test_an_entity_declaration_anywhere_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    head = '<?xml version="1.0"?>\n' + "<!-- " + "x" * 100_000 + " -->\n"
    bomb = (head + '<!DOCTYPE r [ <!entity a "aaaa"> ]>\n<r/>').encode()
    for size in (1, 7, 8, 9, 1 << 20):
        monkeypatch.setattr(kg.rdfguard, "CHUNK_BYTES", size)
        with pytest.raises(InputError, match=r"^body:3: RDF/XML with entity declarations"):
            screen_rdf(bomb, rdf_format_by_name("rdfxml"), "body", max_nesting=200)  # type: ignore[arg-type]
    # a DOCTYPE without entities declares nothing that expands
    screen_rdf(b'<!DOCTYPE rdf:RDF>\n<r/>', rdf_format_by_name("rdfxml"), "body", max_nesting=200)  # type: ignore[arg-type]


def test_the_screen_reads_files_and_streams_from_where_they_stand(tmp_path: Path) -> None:
    fmt = rdf_format_by_name("turtle")
    assert fmt is not None
    deep = NESTED["turtle"](11).encode()
    path = tmp_path / "deep.ttl"
    path.write_bytes(deep)
    with pytest.raises(InputError, match=r"deep.ttl:1: turtle"):
        screen_rdf(path, fmt, str(path), max_nesting=10)
    stream = io.BytesIO(b"# a header the caller has read\n" + deep)
    stream.readline()
    with pytest.raises(InputError, match=r"^s:1: "):
        screen_rdf(stream, fmt, "s", max_nesting=10)
    with pytest.raises(InputError, match=r"cannot read"):
        screen_rdf(tmp_path / "missing.ttl", fmt, "missing.ttl", max_nesting=10)


def test_the_line_of_the_limit_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    data = ("\n" * 5 + '"""\n\n"""' + "\n" + NESTED["turtle"](11)).encode()
    outcomes = _every_chunking(data, "turtle", monkeypatch)
    assert len(outcomes) == 1 and str(outcomes.pop()).startswith("body:9: turtle: ")


# --- SPARQL ---------------------------------------------------------------------------------------


def test_sparql_nesting_is_counted_on_tokens() -> None:
    assert nesting_depth('SELECT * { ?s ?p "{{{{" } # {{{{\n')[0] == 1
    assert nesting_depth("SELECT * { ?s ?p <http://a/((((> }")[0] == 1
    assert nesting_depth("SELECT * { ?s ?p << << ?a ?b ?c >> ?q ?r >> }")[0] == 3
    assert nesting_depth("SELECT * { ?s ?p <<( ?a ?b ?c )>> }")[0] == 3
    assert nesting_depth("SELECT * { FILTER(?a < 3 && ?b > 2) }")[0] == 2
    assert nesting_depth("{" * 100_000, stop_above=200)[0] == 201


def test_sparql_nesting_beyond_the_limit_names_line_and_column() -> None:
    check_nesting("ASK " + "{" * 5 + "}" * 5, limit=5)
    with pytest.raises(QueryError, match=r"the update nests .* more than 5 deep \(at line 2, column 6\).*max_nesting"):
        check_nesting("INSERT DATA\n" + "{" * 6, limit=5, what="update")


# --- IRIs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("iri,words", [
    ("http://a/\x01", "character U+0001 at position 10"),
    ("http://a/ b", "character U+0020 at position 10"),
    ("http://a/\x80", "character U+0080 at position 10"),
    ("http://a/\x9f", "character U+009F at position 10"),
    ("http://a/\x7f", "character U+007F at position 10"),
    ("http://a/{x}", "character U+007B at position 10"),
    ("http://a/\\", "character U+005C at position 10"),
    ("no-scheme", "not an absolute IRI"),
    ("", "not an absolute IRI"),
    ("http://[::1", "not an IRI"),
    ("http://a/\ud800", "not an IRI"),
])
def test_check_iri_refuses_what_no_iri_holds(iri: str, words: str) -> None:
    with pytest.raises(InputError, match="^graph ") as caught:
        check_iri(iri, what="graph")
    assert words in str(caught.value) and repr(iri) in str(caught.value)


@pytest.mark.parametrize("iri", ["http://example.org/g", "urn:x-kg:g", "https://例え.jp/グラフ", "http://a/%01?q#f"])
def test_check_iri_keeps_iris(iri: str) -> None:
    assert check_iri(iri) == iri


@pytest.mark.parametrize("name,data,possible", [
    ("turtle", f'<{EX}a> <{EX}b> "<< {{| ~" . # << ~\n<{EX}a> <{EX}b> <{EX}a~b> .', False),
    ("turtle", f"<{EX}a> <{EX}b> <<( <{EX}a> <{EX}b> <{EX}c> )>> .", True),
    ("turtle", f"<{EX}a> <{EX}b> <{EX}c> {{| <{EX}d> <{EX}e> |}} .", True),
    ("turtle", f"<{EX}a> <{EX}b> <{EX}c> ~ <{EX}r> .", True),
    ("ntriples", f'<{EX}a> <{EX}b> "a\\"~<<" .', False),
    ("rdfxml", '<r xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><p rdf:parseType="Literal"/></r>', False),
    ("rdfxml", '<r xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><p rdf:parseType="&#84;riple"/></r>', True),
    ("jsonld", f'{{"@id": "{EX}a"}}', True),
])
def test_the_screen_says_when_triple_terms_are_possible(name: str, data: str, possible: bool) -> None:
    """False is a proof (the store then need not look for them once it has parsed the file)."""
    fmt = rdf_format_by_name(name)
    assert fmt is not None
    assert screen_rdf(data.encode(), fmt, "body", max_nesting=200) is possible


def test_a_file_without_any_opener_is_cleared_without_the_token_scan(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """No byte that starts an opener or a reifier anywhere: nothing can nest, no triple term
    (the common N-Triples file, cleared at memchr speed); one such byte, even in a string,
    and the tokens are read."""
    fmt = rdf_format_by_name("ntriples")
    assert fmt is not None
    plain, bracketed = tmp_path / "plain.nt", tmp_path / "bracketed.nt"
    plain.write_text(f'<{EX}a> <{EX}b> "a > b" .\n<{EX}a> <{EX}b> <{EX}c> .\n', encoding="utf-8")
    bracketed.write_text(f'<{EX}a> <{EX}b> "a (b)" .\n', encoding="utf-8")
    scanned: list[bool] = []
    real = kg.rdfguard._screen

    def spy(*args: Any, **kwargs: Any) -> bool:
        scanned.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(kg.rdfguard, "_screen", spy)
    assert screen_rdf(plain, fmt, "plain.nt", max_nesting=1) is False and scanned == []
    assert screen_rdf(plain.read_bytes(), fmt, "body", max_nesting=1) is False and scanned == []
    assert screen_rdf(bracketed, fmt, "bracketed.nt", max_nesting=1) is False and scanned == [True]
    with plain.open("rb") as stream:  # a stream is read once: token by token
        assert screen_rdf(stream, fmt, "s", max_nesting=1) is False and scanned == [True, True]
