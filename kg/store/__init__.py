"""The stores, and the function that opens the one the settings name.

``EmbeddedStore`` (pyoxigraph on disk) is the default; ``RemoteStore`` is any SPARQL 1.1
server reached over HTTP. Both implement :class:`kg.store.base.Store`, so either can stand in for the other.
"""

from __future__ import annotations

from pathlib import Path

from kg.config import Settings
from kg.errors import StoreError, StoreUnavailableError
from kg.store.base import STAGING_PREFIX, GraphWrite, InPlaceLoader, PatternReader, QueryOutcome, Store, WriteMode
from kg.store.embedded import EmbeddedStore
from kg.store.remote import RemoteStore

__all__ = [
    "STAGING_PREFIX",
    "EmbeddedStore",
    "GraphWrite",
    "InPlaceLoader",
    "PatternReader",
    "QueryOutcome",
    "RemoteStore",
    "Store",
    "WriteMode",
    "open_store",
]


def open_store(settings: Settings, *, read_only: bool | None = None) -> Store:
    """The store ``settings.store`` names: a directory for the embedded store, an
    ``http(s)`` URL for a remote SPARQL endpoint (checked to answer before it is returned).

    ``read_only`` opens an embedded store another process (a running server) may hold
    open; a remote server arbitrates its own readers and writers.
    """
    if settings.store_is_remote:
        try:
            return RemoteStore(settings)
        except StoreError as exc:  # it does not answer, or not as a SPARQL endpoint: unusable input
            if isinstance(exc, StoreUnavailableError):
                raise
            raise StoreUnavailableError(str(exc)) from None
    return EmbeddedStore(Path(settings.store), read_only=settings.read_only if read_only is None else read_only)
