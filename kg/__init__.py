"""negotiation-kg: turn news and analysis articles on diplomatic negotiations into a
SHACL-checked RDF knowledge graph, every fact tied to a verbatim quote in its source,
and publish it through SPARQL.

What a Python user may import from ``kg`` (everything else is internal and may move)::

    from kg import load_settings, open_store, build_into_store, create_app
    settings = load_settings()
    store = open_store(settings)
    build_into_store(store)                    # documents + annotations → store, through SHACL
    report = validate_files([Path("data.ttl")])  # a ValidationReport, never an exception
    app = create_app(settings)                 # the FastAPI app behind ``kg serve``

The package is a pipeline, one subpackage per stage (``documents → annotations → RDF →
SHACL gate → store → HTTP``): :mod:`kg.build`, :mod:`kg.shacl` and :mod:`kg.validation`,
:mod:`kg.write`, :mod:`kg.store`, :mod:`kg.server`, with :mod:`kg.sparql` and :mod:`kg.ops`
beside them. Names are loaded on first use, so ``import kg`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name → the module that defines it
_EXPORTS: dict[str, str] = {
    # settings and stores
    "Settings": "kg.config",
    "load_settings": "kg.config",
    "Store": "kg.store.base",
    "open_store": "kg.store",
    "EmbeddedStore": "kg.store.embedded",
    "RemoteStore": "kg.store.remote",
    # build
    "BuildResult": "kg.build.dataset",
    "build_dataset": "kg.build.dataset",
    "build_into_store": "kg.build.dataset",
    "add_document": "kg.build.add_document",
    # validate
    "Severity": "kg.validation.model",
    "ValidationReport": "kg.validation.model",
    "ValidationResult": "kg.validation.model",
    "validate_files": "kg.validation.check",
    "validate_graph": "kg.validation.check",
    "validate_store": "kg.validation.check",
    "ValidationRequest": "kg.validation.run",
    "run_validation": "kg.validation.run",
    # write
    "Change": "kg.write.change",
    "Receipt": "kg.write.provenance",
    "SourceInfo": "kg.write.provenance",
    "apply_write": "kg.write.apply",
    "ingest_files": "kg.write.ingest",
    "update_store": "kg.write.sparql_update",
    # serve
    "create_app": "kg.server",
    # errors
    "KGError": "kg.errors",
    "AuthError": "kg.errors",
    "BuildError": "kg.errors",
    "ConfigError": "kg.errors",
    "ForbiddenError": "kg.errors",
    "InputError": "kg.errors",
    "NotAcceptableError": "kg.errors",
    "NotAllowedError": "kg.errors",
    "NotFoundError": "kg.errors",
    "ProtectedGraphError": "kg.errors",
    "QueryError": "kg.errors",
    "QueryLimitExceeded": "kg.errors",
    "QueryRejected": "kg.errors",
    "QueryTimeout": "kg.errors",
    "RateLimited": "kg.errors",
    "ReasonerError": "kg.errors",
    "StoreError": "kg.errors",
    "StoreBusyError": "kg.errors",
    "StoreUnavailableError": "kg.errors",
    "TooLargeError": "kg.errors",
    "UnsupportedMediaTypeError": "kg.errors",
    "UriTooLongError": "kg.errors",
    "ValidationFailed": "kg.errors",
}

__all__ = [
    "__version__",
    "AuthError",
    "BuildError",
    "BuildResult",
    "Change",
    "ConfigError",
    "EmbeddedStore",
    "ForbiddenError",
    "InputError",
    "KGError",
    "NotAcceptableError",
    "NotAllowedError",
    "NotFoundError",
    "ProtectedGraphError",
    "QueryError",
    "QueryLimitExceeded",
    "QueryRejected",
    "QueryTimeout",
    "RateLimited",
    "ReasonerError",
    "Receipt",
    "RemoteStore",
    "Settings",
    "Severity",
    "SourceInfo",
    "Store",
    "StoreError",
    "StoreBusyError",
    "StoreUnavailableError",
    "TooLargeError",
    "UnsupportedMediaTypeError",
    "UriTooLongError",
    "ValidationFailed",
    "ValidationReport",
    "ValidationRequest",
    "ValidationResult",
    "add_document",
    "apply_write",
    "build_dataset",
    "build_into_store",
    "create_app",
    "ingest_files",
    "load_settings",
    "open_store",
    "run_validation",
    "validate_files",
    "validate_graph",
    "validate_store",
    "update_store",
]


if TYPE_CHECKING:
    from kg.build.add_document import add_document
    from kg.build.dataset import BuildResult, build_dataset, build_into_store
    from kg.config import Settings, load_settings
    from kg.errors import (
        AuthError,
        BuildError,
        ConfigError,
        ForbiddenError,
        InputError,
        KGError,
        NotAcceptableError,
        NotAllowedError,
        NotFoundError,
        ProtectedGraphError,
        QueryError,
        QueryLimitExceeded,
        QueryRejected,
        QueryTimeout,
        RateLimited,
        ReasonerError,
        StoreBusyError,
        StoreError,
        StoreUnavailableError,
        TooLargeError,
        UnsupportedMediaTypeError,
        UriTooLongError,
        ValidationFailed,
    )
    from kg.server import create_app
    from kg.store import open_store
    from kg.store.base import Store
    from kg.store.embedded import EmbeddedStore
    from kg.store.remote import RemoteStore
    from kg.validation.check import validate_files, validate_graph, validate_store
    from kg.validation.model import Severity, ValidationReport, ValidationResult
    from kg.validation.run import ValidationRequest, run_validation
    from kg.write.apply import apply_write
    from kg.write.change import Change
    from kg.write.ingest import ingest_files
    from kg.write.provenance import Receipt, SourceInfo
    from kg.write.sparql_update import update_store


def __getattr__(name: str) -> Any:
    """Load a public name from its module the first time it is asked for (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kg' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
