"""``kg ingest``: RDF files into one named graph, through the gate, all or nothing.

Files are streamed with pyoxigraph's ``bulk_load`` (never held in memory) into a staging
graph or, for a graph that does not exist yet, in place under the store's journal
(:mod:`kg.store.journal`); checked by the SHACL gate, and committed in one transaction with
a receipt (:func:`kg.write.apply.apply_write`). A process killed at any point leaves the
store as it was before the ingest or, once the commit is through, as after it; readers in
other processes see the state before until the commit (:mod:`kg.store.views`).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Sequence
from pathlib import Path

from kg.errors import InputError, Location
from kg.formats import RDF_FORMATS, RdfFormatInfo, rdf_format_for_path
from kg.store import Store
from kg.write.apply import apply_write
from kg.write.change import Change
from kg.write.provenance import Receipt, SourceInfo

__all__ = ["ingest_files", "ingest_formats", "local_agent"]


def local_agent() -> str:
    """The agent recorded for a write made at the command line: ``cli:<user name>``."""
    try:
        return f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
    except KeyError:
        return f"cli:uid-{os.getuid()}"


def ingest_formats() -> list[RdfFormatInfo]:
    """Formats ``kg ingest`` reads: those that carry one graph (a dataset's own graph names
    would bypass the staging graph; send datasets to ``/graph-store`` instead)."""
    return [f for f in RDF_FORMATS if not f.datasets]


def _format(path: Path) -> RdfFormatInfo:
    fmt = rdf_format_for_path(path)
    names = ", ".join(f".{f.extension}" for f in ingest_formats())
    if fmt is None:
        raise InputError(f"unknown RDF format; use one of {names}", location=Location(str(path)))
    if fmt.datasets:
        raise InputError(f"{fmt.name} holds several graphs; ingest files of one graph ({names})",
                         location=Location(str(path)))
    if not path.is_file():
        raise InputError("no such file", location=Location(str(path)))
    return fmt


def ingest_files(
    store: Store,
    files: Sequence[Path],
    graph: str,
    *,
    add: bool = False,
    agent: str | None = None,
    progress: Callable[[int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Receipt:
    """Replace (or, with ``add``, add to) ``graph`` with the triples of ``files``.

    Raises :class:`~kg.errors.InputError` (exit 2) for a file that cannot be read or
    parsed, with file:line:column; :class:`~kg.errors.ValidationFailed` (exit 1) when
    the result would break the shapes. The store is then unchanged.
    """
    if ":" not in graph:
        raise InputError(f"--graph {graph!r} is not an absolute IRI")
    typed = [(Path(f), _format(Path(f))) for f in files]
    source = SourceInfo(", ".join(str(f) for f in files))
    # kg ingest holds an embedded store alone, so a new graph may load in place (a remote one stages)
    change = Change.from_files(graph, typed, add=add, in_place=True)
    return apply_write(store, change, agent=agent or local_agent(),
                       source=source, progress=progress, on_stage=on_stage)
