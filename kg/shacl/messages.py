"""The words of a validation result: default messages, and ``{?var}`` templates filled in.

A shape's own ``sh:message`` always wins; these defaults say, for each SHACL Core
component, what the value node or focus node failed to do, naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rdflib import Graph, Literal, Node, URIRef

from kg.shacl.model import COMPONENTS, Shape

__all__ = ["default_message", "fill_template"]

_TEMPLATES: dict[str, str] = {
    "Class": "value is not an instance of {}",
    "Datatype": "value is not a literal of datatype {}, or not a well-formed one",
    "NodeKind": "value is not of node kind {}",
    "MinCount": "fewer than {} values",
    "MaxCount": "more than {} values",
    "MinExclusive": "value is not greater than {}",
    "MinInclusive": "value is not greater than or equal to {}",
    "MaxExclusive": "value is not less than {}",
    "MaxInclusive": "value is not less than or equal to {}",
    "MinLength": "value is shorter than {} characters",
    "MaxLength": "value is longer than {} characters",
    "Pattern": "value does not match the pattern {}",
    "LanguageIn": "language tag is not one of {}",
    "UniqueLang": "more than one value shares a language tag",
    "Equals": "values differ from those of {}",
    "Disjoint": "value is also a value of {}",
    "LessThan": "value is not less than the values of {}",
    "LessThanOrEquals": "value is not less than or equal to the values of {}",
    "Not": "value conforms to {}, which it must not",
    "And": "value does not conform to every shape of {}",
    "Or": "value conforms to none of the shapes of {}",
    "Xone": "value does not conform to exactly one of the shapes of {}",
    "Node": "value does not conform to shape {}",
    "QualifiedMinCount": "fewer than {} values conform to the qualified value shape",
    "QualifiedMaxCount": "more than {} values conform to the qualified value shape",
    "Closed": "predicate is not allowed by the closed shape",
    "HasValue": "missing the required value {}",
    "In": "value is not one of the allowed values",
    "SPARQL": "the SPARQL constraint found a violation",
}


def _show(term: Node | None) -> str:
    if term is None:
        return "?"
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return str(term)
    return "a blank node"


def default_message(component: URIRef, shape: Shape, graph: Graph) -> str:
    """The message of a result whose shape has no ``sh:message``."""
    name = str(component).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    template = _TEMPLATES.get(name, "constraint {} not satisfied")
    parameter = COMPONENTS.get(component, (None, ()))[0]
    value = graph.value(shape.node, parameter) if parameter is not None else None
    return template.format(_show(value)) if "{}" in template else template


def _fill(term: Node | None) -> str:
    """A term as a message template shows it: an IRI or a literal's text as is, a blank node as ``_:id``."""
    if term is None:
        return ""
    if isinstance(term, (URIRef, Literal)):
        return str(term)
    return f"_:{term}"


_PLACEHOLDER = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def fill_template(template: Literal, terms: Mapping[str, Node]) -> Literal:
    """``{?var}`` and ``{$var}`` replaced by the bound values, keeping the language tag."""
    text = _PLACEHOLDER.sub(lambda m: _fill(terms.get(m.group(1))), str(template))
    return Literal(text, lang=template.language) if template.language else Literal(text)


