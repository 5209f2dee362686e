"""SHACL pre-binding of ``$this`` by rewriting the query, so nested groups see it too.

SHACL pre-binds ``$this`` everywhere in a SPARQL constraint's query, nested groups
included (SHACL 5.2.1). A binding handed to the engine from outside (rdflib's initial
bindings, pyoxigraph's substitutions) does not reach a ``FILTER`` inside a nested group.
Here every group starts by binding the variable to the value of a function of the query
(a function, so blank focus nodes work too, which a query cannot name); the syntax rules
that :mod:`kg.validation.shapes_check` enforces (no MINUS, VALUES, SERVICE, no re-binding,
subqueries that return ``$this``) make that the same as substituting the value.
"""

from __future__ import annotations

import pyoxigraph as ox

from kg.sparql.lexer import code_tokens

__all__ = ["FUNCTION", "functions", "pre_bind"]

#: the IRI prefix of the functions that return pre-bound values
FUNCTION = "urn:x-negotiation-kg:pre-bound#"


def pre_bind(query: str, variables: list[str]) -> str:
    """``query`` with every group starting with ``BIND(fn() AS ?var)`` for each pre-bound
    variable (not the brace of a subquery, whose own WHERE group gets them)."""
    binds = " ".join(f"BIND(<{FUNCTION}{v}>() AS ?{v})" for v in variables)
    code = code_tokens(query)
    out, last = [], 0
    for token, after in zip(code, [*code[1:], None]):
        if not token.is_punct("{"):
            continue
        out.append(query[last : token.end])
        last = token.end
        if after is None or not after.is_word("SELECT"):
            out.append(f" {binds} ")
    out.append(query[last:])
    return "".join(out)


def functions(values: dict[str, object]) -> dict[ox.NamedNode, object]:
    """The ``custom_functions`` argument of a pyoxigraph query that answers :func:`pre_bind`."""
    return {ox.NamedNode(FUNCTION + name): (lambda term=term: term) for name, term in values.items()}
