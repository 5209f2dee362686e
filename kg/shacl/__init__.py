"""SHACL validation on pyoxigraph: SHACL Core compiled to SPARQL, pyshacl for the rest.

:func:`validate_oxigraph` is the entry point; :mod:`kg.validation.check` wraps it for files and
stores and turns its W3C report graph into a :class:`kg.validation.check.ValidationReport`.
"""

from kg.shacl.compiler import Unsupported
from kg.shacl.engine import (
    ENGINE_PYSHACL,
    ENGINE_SPARQL,
    EngineReport,
    StoreLayout,
    native_predicates,
    validate_oxigraph,
)

__all__ = ["ENGINE_PYSHACL", "ENGINE_SPARQL", "EngineReport", "StoreLayout", "Unsupported", "native_predicates", "validate_oxigraph"]
