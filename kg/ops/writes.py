"""Command-line writes, made by whoever can write the store: this process, or the running
``kg serve`` that holds it.

pyoxigraph lets one process at a time open an embedded store for writing, and a writable
``kg serve`` is that process for as long as it runs. So ``kg build``, ``kg ingest``,
``kg update`` and ``kg add-document`` describe their write as a request
(:class:`IngestRequest`, :class:`UpdateRequest`, :class:`DocumentRequest`,
:class:`BuildRequest`) and :func:`perform` sends it where it can be done:

* a server published its control channel for this store (:mod:`kg.ops.control`): the request
  goes to its ``POST /admin/write`` with the per-run secret; the server runs :func:`execute`
  between two of its own writes and replaces its query workers afterwards, as after an HTTP
  write, so its readers see the change at once. Files travel by path (the server runs on this
  machine, as this user: only that user can read the control file);
* otherwise this process opens the store and runs :func:`execute` itself.

Either way the same function does the write, so the gate, the receipt and the messages are
the same. When the store is held by a process that is not a server (another ``kg ingest``),
:class:`~kg.errors.StoreBusyError` names it (exit 4).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kg.errors as kg_errors
from kg.config import Settings
from kg.errors import InputError, KGError, StoreBusyError, ValidationFailed
from kg.formats import rdf_format_by_name
from kg.ops.control import Control, busy, find_control, post
from kg.store import Store, open_store
from kg.validation.model import ValidationReport
from kg.validation.render import RENDERERS

__all__ = [
    "BuildRequest",
    "DocumentRequest",
    "IngestRequest",
    "RenderedReport",
    "UpdateRequest",
    "WriteOutcome",
    "WriteRequest",
    "execute",
    "perform",
    "rejection_text",
    "request_from_json",
    "request_to_json",
]

#: the longest a server may take over one write asked by a command, in seconds
_SERVER_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class IngestRequest:
    """``kg ingest``: files (path, format name, label) into ``graph``, or into their own graphs."""

    files: tuple[tuple[str, str, str], ...]
    graph: str | None
    add: bool
    agent: str


@dataclass(frozen=True)
class UpdateRequest:
    """``kg update``: a SPARQL Update, and what the receipt calls its source."""

    update: str
    agent: str
    source: str = "SPARQL Update"


@dataclass(frozen=True)
class DocumentRequest:
    """``kg add-document``: a text, its metadata and its annotations (paths); no metadata:
    ``<text>.yaml`` beside the text, else the annotation file's ``metadata:`` block."""

    text: str
    meta: str | None
    annotations: str
    agent: str


@dataclass(frozen=True)
class BuildRequest:
    """``kg build``: the corpus folder (None: the bundled one)."""

    corpus: str | None


WriteRequest = IngestRequest | UpdateRequest | DocumentRequest | BuildRequest
_KINDS: dict[str, type[WriteRequest]] = {
    "ingest": IngestRequest, "update": UpdateRequest, "add-document": DocumentRequest, "build": BuildRequest,
}


def request_to_json(request: WriteRequest) -> dict[str, Any]:
    """The request as JSON, for the control channel."""
    kind = next(k for k, cls in _KINDS.items() if isinstance(request, cls))
    return {"kind": kind, **dataclasses.asdict(request)}


def request_from_json(data: Any) -> WriteRequest:
    """A request read back from JSON; :class:`InputError` for anything else."""
    if not isinstance(data, dict) or data.get("kind") not in _KINDS:
        raise InputError(f"not a write request; kinds: {', '.join(_KINDS)}")
    cls = _KINDS[data["kind"]]
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in fields}
    if "files" in values:
        values["files"] = tuple(tuple(str(part) for part in f) for f in values["files"])
    try:
        return cls(**values)
    except TypeError as exc:
        raise InputError(f"a {data['kind']} request: {exc}") from None


@dataclass(frozen=True)
class WriteOutcome:
    """What a write did: the receipt as JSON (None for a build, which keeps no receipt), one
    line for the person who asked, and who did it ("" for this process)."""

    receipt: dict[str, Any] | None
    summary: str
    by: str = ""


@dataclass(frozen=True)
class RenderedReport:
    """A SHACL report a server rendered for a rejected write (the client cannot render it again)."""

    format: str
    text: str


def rejection_text(error: ValidationFailed, format_name: str) -> str:
    """The report of a rejected write in ``format_name`` (as the server rendered it, when it did)."""
    report = error.report
    if isinstance(report, RenderedReport):
        return report.text
    if isinstance(report, ValidationReport):
        return RENDERERS[format_name](report)
    return ""


def _counts(receipt: dict[str, Any]) -> str:
    return f"+{receipt['added']} −{receipt['removed']} triples; receipt {receipt['receipt']}"


def execute(store: Store, request: WriteRequest, *, settings: Settings, alone: bool = True,
            progress: Callable[[int], None] | None = None,
            on_stage: Callable[[str], None] | None = None) -> WriteOutcome:
    """Do ``request`` on ``store``. ``alone``: no reader shares this process's handle (a
    command, not a server), so the union copy of a new graph may be loaded in place too.

    Raises what the write raises: :class:`~kg.errors.ValidationFailed` when the shapes
    refuse it (a build included), :class:`~kg.errors.InputError`, :class:`~kg.errors.BuildError`…
    """
    # the write stage (the SHACL gate, pyshacl) loads only when a write is made here, not
    # with every ``kg`` command that merely declares the writes
    from kg.build.add_document import add_document
    from kg.build.dataset import build_into_store
    from kg.write.ingest import IngestFile, ingest_files
    from kg.write.sparql_update import update_store

    match request:
        case IngestRequest(files, graph, add, agent):
            inputs = [IngestFile(Path(p), rdf_format_by_name(f), label) for p, f, label in files]
            receipt = ingest_files(store, inputs, graph, add=add, agent=agent, progress=progress,
                                   on_stage=on_stage, shared=not alone, max_nesting=settings.max_nesting).to_json()
            into = f"<{graph}>" if graph else ", ".join(f"<{g['graph']}>" for g in receipt["graphs"])
            return WriteOutcome(receipt, f"Ingested into {into}: {_counts(receipt)}")
        case UpdateRequest(update, agent, source):
            receipt = update_store(store, update, agent=agent, service_allow=settings.service_allow_list,
                                   source=source, on_stage=on_stage, max_nesting=settings.max_nesting).to_json()
            touched = len(receipt["graphs"])
            return WriteOutcome(receipt, f"Updated {touched} graph{'s' if touched != 1 else ''}: {_counts(receipt)}")
        case DocumentRequest(text, meta, annotations, agent):
            added = add_document(store, Path(text), meta=Path(meta) if meta else None, annotations=Path(annotations), agent=agent)
            receipt = added.receipt.to_json()
            extra = f", {len(added.new_entities)} new entities" if added.new_entities else ""
            return WriteOutcome(receipt, f"Added document {added.document}: {added.claims} claims{extra} "
                                         f"into <{added.graph}>")
        case BuildRequest(corpus):
            if on_stage is not None:
                on_stage("building")
            result = build_into_store(store, Path(corpus) if corpus else None)
            if result.report.failed():
                raise ValidationFailed("the dataset breaks the shapes; the store was not changed", report=result.report)
            return WriteOutcome(None, f"Built {result.documents} documents, {result.claims} claims, "
                                      f"{len(result.graphs)} graphs, {result.triples} triples into {store.location}")
    raise TypeError(f"not a write request: {request!r}")


def _error_from(status: int, body: dict[str, Any], report_format: str) -> KGError:
    """The error a server answered with, as the class it raised (its exit code with it)."""
    message = str(body.get("message", f"the server answered {status}"))
    if status == 422 and "report" in body:
        return ValidationFailed(message, report=RenderedReport(report_format, str(body["report"])))
    cls = getattr(kg_errors, str(body.get("kind", "")), None)
    if isinstance(cls, type) and issubclass(cls, KGError) and cls not in (ValidationFailed, kg_errors.QueryRejected):
        try:
            return cls(message)
        except TypeError:
            pass
    return KGError(message)


def _by_server(control: Control, request: WriteRequest, report_format: str) -> WriteOutcome | None:
    """Ask the server to do ``request``; None when it cannot be reached."""
    answer = post(control, "/admin/write", {"request": request_to_json(request), "report_format": report_format},
                  timeout=_SERVER_SECONDS)
    if answer is None:
        return None
    status, body = answer
    if status != 200:
        raise _error_from(status, body, report_format)
    receipt = body.get("receipt")
    return WriteOutcome(receipt if isinstance(receipt, dict) else None, str(body.get("summary", "")),
                        by=f"kg serve at {control.url} (pid {control.pid})")


def perform(settings: Settings, request: WriteRequest, *, doing: str, report_format: str = "text",
            progress: Callable[[int], None] | None = None, on_stage: Callable[[str], None] | None = None,
            on_server: Callable[[Control], None] | None = None) -> WriteOutcome:
    """Do ``request`` where the store can be written: by the running ``kg serve`` that holds it
    (``on_server`` is told which, before it is asked), else here. ``doing`` names the command
    for messages. A rejected write raises :class:`~kg.errors.ValidationFailed` whose report
    :func:`rejection_text` renders in ``report_format``.
    """
    if not settings.store_is_remote:
        control = find_control(settings)
        if control is not None:
            if on_server is not None:
                on_server(control)
            done = _by_server(control, request, report_format)
            if done is not None:
                return done
    try:
        store = open_store(settings)
    except StoreBusyError as exc:
        raise busy(settings, exc, doing=doing) from None
    try:
        return execute(store, request, settings=settings, progress=progress, on_stage=on_stage)
    finally:
        store.close()
