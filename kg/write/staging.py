"""The first step of a write: a change staged in graphs nobody sees, and the plan of its commit.

Each variant of :mod:`kg.write.change` becomes staged triples (``Store.stage``) or streamed
files (``Store.stage_file``, hashed as they pass) and one :class:`~kg.store.base.GraphWrite`
per graph it touches. A new graph that a writer holding the store alone loads from files
goes in place, under the store's journal, when the store can do that
(:meth:`~kg.store.base.Store.in_place_loader`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, cast

import pyoxigraph as ox

from kg.errors import InputError, Location, StoreError
from kg.formats import RdfFormatInfo
from kg.iris import DEFAULT_GRAPH
from kg.rdfguard import TRIPLE_TERMS, refuse_triple_terms, screen_rdf
from kg.store.base import Differ, GraphWrite, Store, WriteMode, iri_ref
from kg.write.change import (
    AddTriples,
    Change,
    DatasetChange,
    DropGraph,
    FilesChange,
    ReplaceGraph,
    SourceFile,
    SparqlUpdate,
    graph_name,
)
from kg.write.filediff import diff_files
from kg.write.records import TriplesBeside, files_record, files_sha256, may_hold_blank_nodes, recognise
from kg.write.update import plan_update

__all__ = ["Staged", "as_difference", "canonical_sha256", "stage_change", "syntax_error"]

_DEFAULT = ox.DefaultGraph()


@dataclass
class Staged:
    """What staging left in the store, so that a write that does not commit can undo it."""

    #: the staging graphs (dropped after the commit, or when the write fails)
    graphs: list[str] = field(default_factory=list)
    #: graphs being loaded in place under the journal (abandoned when the write fails)
    loading: list[str] = field(default_factory=list)
    #: the sha256 of the bytes of the files streamed in, when the change was files
    digest: str | None = None
    #: each file's sha256 (hex), in order, when the change was files
    file_digests: list[str] = field(default_factory=list)
    #: the sha256 of the files' triples (:func:`kg.write.records.triples_sha256`), when known
    triples: str | None = None

    def files_read(self, digests: Sequence[hashlib._Hash]) -> None:
        """Record the sha256 of each file read (in order), and of them all (:attr:`digest`)."""
        self.digest = files_sha256(digests)
        self.file_digests = [d.hexdigest() for d in digests]


def stage_change(store: Store, change: Change, staged: Staged,
                 progress: Callable[[int], None] | None = None, *,
                 alongside: Callable[[], None] | None = None, screened: bool = False) -> list[GraphWrite]:
    """Stage ``change`` (recording what was staged in ``staged`` as it goes, so a failure
    half-way can be undone) and return what the commit would do, graph by graph.

    ``alongside``: work to run in a thread of its own while files load in place, once they
    have been screened (the union copy of a first load: see :func:`kg.write.apply.apply_write`).
    ``screened``: the files were screened already and may hold no triple term (a first load
    validated from its files, :mod:`kg.write.firstload`): not read again for that.

    Nothing the store cannot hold gets staged: triple terms (RDF 1.2) are refused here, for
    every kind of change, and files are screened (:func:`kg.rdfguard.screen_rdf`) before
    their parser reads them."""
    where = "the update" if isinstance(change, SparqlUpdate) else "the change"

    def stage(triples: Iterable[ox.Triple]) -> tuple[str, ...]:
        batch = triples if isinstance(triples, (list, tuple)) else list(triples)
        refuse_triple_terms(batch, where)
        name = store.stage(batch)
        staged.graphs.append(name)
        return (name,)

    def write(graph: str, mode: WriteMode, sources: tuple[str, ...]) -> GraphWrite:
        return as_difference(store, GraphWrite(graph, mode, sources), staged)

    match change:
        case ReplaceGraph(graph, triples):
            return [write(graph, WriteMode.REPLACE, stage(triples))]
        case AddTriples(graph, triples):
            return [write(graph, WriteMode.ADD, stage(triples))]
        case DropGraph(graph):
            return [GraphWrite(graph, WriteMode.DROP)]
        case FilesChange():
            loader = store.in_place_loader() if change.in_place else None
            if loader is not None and not store.has_graph(change.graph):
                loader.begin_load(change.graph)
                staged.loading.append(change.graph)
                with TriplesBeside(change) as beside:  # forked before the load starts its threads
                    _stage_files(store, change, progress, staged, into=change.graph,
                                 alongside=alongside, screened=screened)
                    staged.triples = beside.result()
                return [GraphWrite(change.graph, WriteMode.LOADED, (change.graph,), record=_record(change, staged))]
            differ = store.differ()
            if differ is not None and not store.has_graph(change.graph):
                differ = None  # a new graph: nothing to compare the files with
            if differ is not None and change.replace_graph:
                found = recognise(differ, change)
                if found.unchanged is not None:
                    staged.files_read(found.digests)
                    return [found.unchanged]
                staged.triples = found.triples
            if differ is not None and not may_hold_blank_nodes(change):
                with TriplesBeside(change, wanted=staged.triples is None) as beside:
                    compared = _compare_files(store, differ, change, progress, staged)
                    staged.triples = staged.triples or beside.result()
                return [dataclasses.replace(compared, record=_record(change, staged))]
            _stage_files(store, change, progress, staged)
            mode = WriteMode.REPLACE if change.replace_graph else WriteMode.ADD
            return [dataclasses.replace(write(change.graph, mode, tuple(staged.graphs)), record=_record(change, staged))]
        case DatasetChange(quads, replace_graphs):
            by_graph: dict[str, list[ox.Triple]] = {}
            for q in quads:
                name = str(DEFAULT_GRAPH) if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
                by_graph.setdefault(graph_name(name), []).append(ox.Triple(q.subject, q.predicate, q.object))
            mode = WriteMode.REPLACE if replace_graphs else WriteMode.ADD
            return [write(g, mode, stage(ts)) for g, ts in sorted(by_graph.items())]
        case SparqlUpdate():
            planned = plan_update(store, change, stage)
            return [w if w.diff else write(w.graph, w.mode, w.staged) if w.mode is not WriteMode.DROP else w
                    for w in planned]
    raise TypeError(f"not a change: {change!r}")


def as_difference(store: Store, write: GraphWrite, staged: Staged) -> GraphWrite:
    """``write`` (a replace or an addition, its new content staged) as the difference it makes
    to its graph, when the store can tell (:meth:`~kg.store.base.Store.differ`): the staged
    content is compared with the graph in the store, and only what the graph gains and loses
    stays staged. So a replace by the same content stages nothing and commits nothing but its
    receipt, and the gate checks only the nodes the difference touches. A graph that does
    not exist yet gains its whole staged content as it is."""
    differ = store.differ()
    if differ is None or write.mode not in (WriteMode.REPLACE, WriteMode.ADD) or write.diff:
        return write
    if not store.has_graph(write.graph) and len(write.staged) <= 1:
        return dataclasses.replace(write, diff=True)
    added, lost = differ.diff_staged(write.graph, write.staged, replace=write.mode is WriteMode.REPLACE)
    staged.graphs.extend(x for x in (added, lost) if x is not None)
    store.drop_staging(write.staged)
    staged.graphs[:] = [g for g in staged.graphs if g not in write.staged]
    return dataclasses.replace(write, staged=(added,), removed=(lost,) if lost is not None else (), diff=True)


class _HashingReader:
    """A binary reader that hashes what passes through and reports progress."""

    def __init__(self, raw: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.raw, self.progress, self.digest = raw, progress, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        if self.progress is not None and data:
            self.progress(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


_POSITION = re.compile(r"(\d+):(\d+)")


def _compare_files(store: Store, differ: Differ, change: FilesChange, progress: Callable[[int], None] | None,
                   staged: Staged) -> GraphWrite:
    """Files into an existing graph, read and compared with it as they stream
    (:func:`kg.write.filediff.diff_files`): only the difference is staged."""
    readers: list[_HashingReader] = []

    def reader(handle: IO[bytes]) -> IO[bytes]:
        readers.append(_HashingReader(handle, progress))
        return cast(IO[bytes], readers[-1])

    def stage(triples: Iterator[ox.Triple]) -> str:
        name = store.stage(triples)
        staged.graphs.append(name)
        return name

    current: list[SourceFile] = []
    try:
        write = diff_files(store, differ, change, reader, stage, current)
    except SyntaxError as exc:
        raise syntax_error(current[-1].label, current[-1].format, exc) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{current[-1].format.name}: {exc}", location=Location(current[-1].label)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(current[-1].label)) from None
    staged.files_read([r.digest for r in readers])
    return write


def _stage_files(store: Store, change: FilesChange, progress: Callable[[int], None] | None,
                 staged: Staged, *, into: str | None = None, alongside: Callable[[], None] | None = None,
                 screened: bool = False) -> None:
    """Stream every file into its own staging graph (or all into ``into``), recording their
    sha256 in ``staged``. ``alongside`` runs in a thread while they load, once every file is
    screened (no parser reads a file before its screen): pyoxigraph's loader releases the GIL,
    so a second load uses the second core. ``screened``: see :func:`stage_change`."""
    flags = [False] * len(change.files) if screened else None
    if alongside is None:
        _load_files(store, change, progress, staged, into=into, screened=flags)
        return
    if flags is None:
        flags = [screen_rdf(s.path, s.format, s.label, max_nesting=change.max_nesting) for s in change.files]
    helper = _Alongside(alongside)
    try:
        _load_files(store, change, progress, staged, into=into, screened=flags)
    finally:
        helper.join()  # nothing may undo a load while the other one still writes
    helper.raise_error()


class _Alongside(threading.Thread):
    """Work run beside a load; its error is raised once the load is through."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__(name="kg-load-alongside", daemon=True)
        self.work = work
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.work()
        except BaseException as exc:  # handed to the writer's thread
            self.error = exc

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


def _load_files(store: Store, change: FilesChange, progress: Callable[[int], None] | None, staged: Staged,
                *, into: str | None, screened: list[bool] | None) -> None:
    digests = []
    for number, source in enumerate(change.files):
        path, fmt, label = source.path, source.format, source.label
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", location=Location(label)) from None
        with handle:
            if screened is None:  # by path: a file without openers is cleared at memchr speed
                may_hold_triple_terms = screen_rdf(path, fmt, label, max_nesting=change.max_nesting)
            else:
                may_hold_triple_terms = screened[number]
            reader = _HashingReader(handle, progress)
            name = into or store.new_staging_graph()
            if into is None:
                staged.graphs.append(name)
            try:
                # cast: the stores hand ``source`` to pyoxigraph, which reads any object with read();
                # its stub, and so Store.stage_file, say IO[bytes]
                store.stage_file(cast(IO[bytes], reader), fmt=fmt,
                                 base_iri=change.base_for(source), into=name)
            except SyntaxError as exc:
                raise syntax_error(label, fmt, exc) from None
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputError(f"{fmt.name}: {exc}", location=Location(label)) from None
            except OSError as exc:
                raise StoreError(f"staging {label} in the store failed: {exc}") from None
            if may_hold_triple_terms:
                _refuse_staged_triple_terms(store, name, label)
        digests.append(reader.digest)
    staged.files_read(digests)


def _record(change: FilesChange, staged: Staged) -> str | None:
    """The record of a write that leaves its graph holding exactly the files' triples (a load
    or a replace); None for an addition, after which the graph holds more."""
    if not change.replace_graph or len(staged.file_digests) != len(change.files):
        return None
    return files_record(change, staged.file_digests, staged.triples)


#: a staged triple whose subject or object is a triple term (none of IRI, blank node, literal)
_TRIPLE_TERM = ("SELECT (COUNT(*) AS ?n) WHERE {{ {{ SELECT ?o WHERE {{ GRAPH {graph} {{ ?s ?p ?o "
                "FILTER ((!isIRI(?o) && !isBLANK(?o) && !isLITERAL(?o)) || (!isIRI(?s) && !isBLANK(?s))) }} }} "
                "LIMIT 1 }} }}")


def _refuse_staged_triple_terms(store: Store, graph: str, label: str) -> None:
    """A file is parsed by the store as it streams in (bulk loading), so its triple terms are
    looked for once staged — when the screen saw syntax that may make one: the query reads the
    whole staged graph (a fifth of the time the load took). :data:`kg.rdfguard.TRIPLE_TERMS`
    when there is one. (Written in SPARQL 1.1, so that a remote store answers it too.)"""
    if store.count(_TRIPLE_TERM.format(graph=iri_ref(graph))):
        raise InputError(TRIPLE_TERMS, location=Location(label))


def syntax_error(where: str, fmt: RdfFormatInfo, exc: SyntaxError) -> InputError:
    """A parser error with the file (or request) and the line and column it names."""
    message = str(exc)
    match = _POSITION.search(message)
    if match:
        loc = Location(where, int(match.group(1)), int(match.group(2)))
    elif exc.lineno:
        loc = Location(where, exc.lineno, exc.offset)
    else:
        loc = Location(where)
    return InputError(f"{fmt.name} syntax error: {message}", location=loc)


def canonical_sha256(triples: Iterable[ox.Triple | ox.Quad]) -> str:
    """sha256 of the canonical N-Quads of ``triples`` (blank nodes canonicalised, lines sorted)."""
    dataset = ox.Dataset(
        t if isinstance(t, ox.Quad) else ox.Quad(t.subject, t.predicate, t.object, _DEFAULT) for t in triples
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    lines = sorted(str(q) + " .\n" for q in dataset)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
