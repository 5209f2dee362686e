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

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use (PEP 562): ``kg.validation.model`` needs only an engine's name, and every
# ``kg`` command imports it; the planner below it costs ~130 ms (rdflib's SPARQL parser).
_EXPORTS = {
    "ENGINE_PYSHACL": "kg.shacl.results", "ENGINE_SPARQL": "kg.shacl.results", "EngineReport": "kg.shacl.results",
    "StoreLayout": "kg.shacl.run", "validate_oxigraph": "kg.shacl.run",
    "Unsupported": "kg.shacl.patterns", "native_predicates": "kg.shacl.plan",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kg.shacl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
