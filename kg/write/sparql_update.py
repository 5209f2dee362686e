"""``kg update``: a SPARQL 1.1 Update from the command line, through the gate HTTP updates pass.

The same two checks as ``POST /sparql`` with ``update=``, in the same order: first the guard
(:func:`kg.sparql.guard.check_remote_calls`: ``LOAD`` and ``SERVICE`` reach only hosts under
the ``service_allow`` prefixes, because pyoxigraph would fetch any IRI it is given), then the
one write path (:func:`kg.write.apply.apply_write`: the update evaluated on a copy, the state
it would produce checked by the SHACL gate, committed in one transaction with a receipt).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from kg.config import Settings
from kg.errors import InputError
from kg.sparql.guard import check_nesting, check_remote_calls
from kg.store.base import Store
from kg.write.apply import apply_write
from kg.write.change import Change
from kg.write.provenance import Receipt, SourceInfo

__all__ = ["update_store"]


def update_store(
    store: Store,
    update: str,
    *,
    agent: str,
    service_allow: tuple[str, ...] = (),
    source: str = "SPARQL Update",
    base_iri: str | None = None,
    on_stage: Callable[[str], None] | None = None,
    max_nesting: int = Settings.max_nesting,
) -> Receipt:
    """Apply the SPARQL Update ``update`` to ``store`` for ``agent``; the receipt.

    Raises :class:`~kg.errors.QueryError` (exit 2) for an update that does not parse, with
    what and where, or nested deeper than ``max_nesting`` (refused before it is parsed);
    :class:`~kg.errors.NotAllowedError` (exit 2) for ``LOAD``/``SERVICE`` to a
    host ``service_allow`` does not cover; :class:`~kg.errors.ValidationFailed` (exit 1) when
    the result would break the shapes. The store is then unchanged.

    >>> import tempfile; from pathlib import Path; from kg.store import EmbeddedStore
    >>> store = EmbeddedStore(Path(tempfile.mkdtemp()) / "store")
    >>> receipt = update_store(store, 'INSERT DATA { GRAPH <https://example.org/g> { '
    ...     '<https://example.org/a> <http://www.w3.org/2000/01/rdf-schema#comment> "a note" } }', agent="doc")
    >>> receipt.added, receipt.graphs[0].mode
    (1, 'create')
    """
    if not update.strip():
        raise InputError("the update is empty")
    check_nesting(update, limit=max_nesting, what="update")
    check_remote_calls(update, service_allow, base_iri=base_iri)
    digest = hashlib.sha256(update.encode("utf-8")).hexdigest()
    return apply_write(store, Change.sparql_update(update, base_iri=base_iri), agent=agent,
                       source=SourceInfo(source, digest), on_stage=on_stage)
