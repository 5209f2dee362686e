"""SHACL validation on pyoxigraph: SHACL Core compiled to SPARQL, pyshacl for the rest.

:func:`validate_oxigraph` is the entry point; :mod:`kg.validation.check` wraps it for files and
stores and turns its W3C report graph into a :class:`kg.validation.model.ValidationReport`.

The engine in three steps, a module each: :mod:`~kg.shacl.plan` compiles the shapes into
jobs (with :mod:`~kg.shacl.model`, :mod:`~kg.shacl.compiler` and the SPARQL it writes in,
:mod:`~kg.shacl.patterns`, :mod:`~kg.shacl.literals` and :mod:`~kg.shacl.prebinding`), :mod:`~kg.shacl.run` runs them on a store, and
:mod:`~kg.shacl.results` turns their solutions into the report (:mod:`~kg.shacl.messages`
writes the default messages). :mod:`~kg.shacl.incremental` bounds how far a shape reads from
its focus node, for the write gate; :mod:`kg.shacl.scale` holds the strategies for large data.
"""

from kg.shacl.patterns import Unsupported
from kg.shacl.plan import native_predicates
from kg.shacl.results import ENGINE_PYSHACL, ENGINE_SPARQL, EngineReport
from kg.shacl.run import StoreLayout, validate_oxigraph

__all__ = ["ENGINE_PYSHACL", "ENGINE_SPARQL", "EngineReport", "StoreLayout", "Unsupported", "native_predicates", "validate_oxigraph"]
