"""``kg ingest``: RDF files into the store, through the gate, all or nothing.

Every RDF format ``kg validate`` reads is accepted (:data:`kg.formats.RDF_FORMATS`), by
extension or as told (``--format``, which standard input needs):

* with a graph (``--graph IRI``), every triple of every file goes into that graph: files of
  one graph (Turtle, N-Triples, RDF/XML, N3) are streamed into a staging graph with
  pyoxigraph's ``bulk_load``, never held in memory; dataset files (TriG, N-Quads, JSON-LD)
  are first streamed into a temporary N-Triples file, their graph names dropped, and go the
  same way (a JSON-LD document of one graph is the common case);
* without a graph, dataset files go into the graphs they name, each replaced (or, with
  ``add``, added to); their quads are held in memory. A triple outside any named graph has
  nowhere to go and is refused, saying so.

Either way the write passes the SHACL gate and is committed in one transaction with a receipt
(:func:`kg.write.apply.apply_write`); the receipt's sha256 is that of the bytes read. A
process killed at any point leaves the store as it was before the ingest or, once the commit
is through, as after it.
Files of one graph for a graph that does not exist yet load in place under the store's journal
(:mod:`kg.store.journal`); readers in other processes see the state before until the commit
(:mod:`kg.store.views`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from kg.config import Settings
from kg.errors import InputError, Location
from kg.formats import RDF_FORMATS, RdfFormatInfo, rdf_extensions, rdf_format_by_name, rdf_format_for_path
from kg.iris import check_iri
from kg.rdfguard import screen_rdf
from kg.store import Store
from kg.write.apply import apply_write
from kg.write.change import Change
from kg.write.provenance import Receipt, SourceInfo
from kg.write.records import file_sha256, files_sha256
from kg.write.staging import syntax_error

__all__ = ["STDIN", "IngestFile", "ingest_files", "ingest_formats", "local_agent", "spool"]

#: the name standard input goes by on the command line
STDIN = "-"


def local_agent() -> str:
    """The agent recorded for a write made at the command line: ``cli:<user name>``."""
    try:
        return f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
    except KeyError:
        return f"cli:uid-{os.getuid()}"


def ingest_formats() -> list[RdfFormatInfo]:
    """Formats ``kg ingest`` reads: every RDF format (the same as ``kg validate``)."""
    return list(RDF_FORMATS)


class IngestFile:
    """One input: where its bytes are, its format, and what messages call it."""

    def __init__(self, path: Path, fmt: RdfFormatInfo, label: str | None = None) -> None:
        self.path, self.format, self.label = path, fmt, label or str(path)

    @classmethod
    def of(cls, path: Path, fmt_name: str | None = None, *, label: str | None = None) -> IngestFile:
        """``path`` in the named format, else the one its extension says; :class:`InputError` when
        neither says, or the file is not there."""
        where = Location(label or str(path))
        if not path.is_file():
            raise InputError("no such file", location=where)
        fmt = rdf_format_by_name(fmt_name) if fmt_name else rdf_format_for_path(path)
        if fmt is None:
            raise InputError(f"unknown RDF format; use one of {rdf_extensions()}, or say which with --format",
                             location=where)
        return cls(path, fmt, label)


def spool(stream: IO[bytes], *, directory: Path | None = None) -> Path:
    """Copy ``stream`` (standard input) to a new owner-only temporary file and return its path:
    the bytes can then be hashed, parsed with line numbers, or handed to a server that reads
    files. The caller deletes it."""
    fd, name = tempfile.mkstemp(prefix="kg-stdin-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            shutil.copyfileobj(stream, handle, 1 << 20)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _sha256(files: Sequence[IngestFile]) -> str:
    """The digest a receipt records: a file's sha256, or for several the sha256 of their digests
    in order (as :mod:`kg.write.staging` hashes files it streams)."""
    return files_sha256([file_sha256(f.path, f.label) for f in files])


class _Counting:
    """A binary reader that reports how many bytes passed (for the progress bar)."""

    def __init__(self, raw: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.raw, self.progress = raw, progress

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        if self.progress is not None and data:
            self.progress(len(data))
        return data


def _quads(f: IngestFile, progress: Callable[[int], None] | None, max_nesting: int) -> Iterator[ox.Quad]:
    """The quads of one file, one at a time, once the file passed the screen (nesting deeper
    than ``max_nesting``, entity declarations: refused before the parser sees them); errors
    name the file, line and column."""
    with f.path.open("rb") as handle:
        screen_rdf(f.path, f.format, f.label, max_nesting=max_nesting)  # by path: see kg.rdfguard
        try:
            # cast: pyoxigraph reads any object with read(); its stub asks for IO[bytes]
            yield from ox.parse(cast(IO[bytes], _Counting(handle, progress)), format=f.format.oxigraph,
                                base_iri=f.path.resolve().as_uri())
        except SyntaxError as exc:
            raise syntax_error(f.label, f.format, exc) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{f.format.name}: {exc}", location=Location(f.label)) from None


@contextmanager
def _as_triples(files: Sequence[IngestFile], progress: Callable[[int], None] | None,
                max_nesting: int) -> Iterator[list[IngestFile]]:
    """``files`` with each dataset file streamed into a temporary N-Triples file (graph names
    dropped), removed afterwards; files of one graph pass as they are."""
    nt = rdf_format_by_name("ntriples")
    with ExitStack() as cleanup:
        out: list[IngestFile] = []
        for f in files:
            if not f.format.datasets:
                out.append(f)
                continue
            folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="kg-ingest-")))
            flat = folder / "triples.nt"
            with flat.open("wb") as handle:
                triples = (ox.Triple(q.subject, q.predicate, q.object) for q in _quads(f, progress, max_nesting))
                ox.serialize(triples, handle, format=nt.oxigraph)
            out.append(IngestFile(flat, nt, f.label))
        yield out


def _dataset_change(files: Sequence[IngestFile], *, add: bool,
                    progress: Callable[[int], None] | None, max_nesting: int) -> Change:
    """The quads of dataset files, each into the graph it names."""
    quads: list[ox.Quad] = []
    for f in files:
        if not f.format.datasets:
            raise InputError(f"a {f.format.name} file holds triples of one graph without a name; "
                             "say which graph they go into with --graph IRI", location=Location(f.label))
        loose = 0
        for q in _quads(f, progress, max_nesting):
            if isinstance(q.graph_name, ox.DefaultGraph):
                loose += 1
            quads.append(q)
        if loose:
            raise InputError(f"{loose} triples are in no named graph; name their graph in the file, or put "
                             "everything in one graph with --graph IRI", location=Location(f.label))
    return Change.dataset(quads, replace=not add)


def ingest_files(
    store: Store,
    files: Sequence[Path | IngestFile],
    graph: str | None,
    *,
    add: bool = False,
    agent: str | None = None,
    progress: Callable[[int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    in_place: bool = True,
    shared: bool = False,
    max_nesting: int = Settings.max_nesting,
) -> Receipt:
    """Put the triples of ``files`` into ``graph`` (replacing it, or with ``add`` adding to it);
    without a graph, the quads of dataset files into the graphs they name.

    ``in_place``: a new graph may be loaded where it will live, hidden until the commit;
    ``shared``: readers share the store handle (a server), so its union copy waits for the
    commit (:meth:`kg.write.change.Change.from_files`).

    Raises :class:`~kg.errors.InputError` (exit 2) for a file that cannot be read or
    parsed, with file:line:column; :class:`~kg.errors.ValidationFailed` (exit 1) when
    the result would break the shapes. The store is then unchanged. ``max_nesting``: the
    deepest nesting a file may have (setting ``max_nesting``), refused before it is parsed.

    >>> import tempfile; from kg.store import EmbeddedStore
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.trig").write_text('<https://example.org/g> { <https://example.org/a> '
    ...     '<http://www.w3.org/2000/01/rdf-schema#comment> "a note" }')
    >>> store = EmbeddedStore(folder / "store")
    >>> [(g.graph, g.added) for g in ingest_files(store, [folder / "notes.trig"], None, agent="doc").graphs]
    [('https://example.org/g', 1)]
    """
    if not files:
        raise InputError("no files to ingest")
    if graph is not None:
        check_iri(graph, what="--graph")
    typed = [f if isinstance(f, IngestFile) else IngestFile.of(Path(f)) for f in files]
    datasets = any(f.format.datasets for f in typed)
    # files streamed as they are are hashed while staged; others are hashed here, as read
    source = SourceInfo(", ".join(f.label for f in typed), _sha256(typed) if datasets else None)
    if graph is None:
        change: Change = _dataset_change(typed, add=add, progress=progress, max_nesting=max_nesting)
        return apply_write(store, change, agent=agent or local_agent(), source=source, on_stage=on_stage)
    with _as_triples(typed, progress, max_nesting) as flat:
        change = Change.from_files(graph, [(f.path, f.format) for f in flat], add=add,
                                   labels=[f.label for f in flat], in_place=in_place, shared=shared,
                                   max_nesting=max_nesting)
        # bytes already counted while flattening are not counted twice
        return apply_write(store, change, agent=agent or local_agent(), source=source,
                           progress=None if datasets else progress, on_stage=on_stage)
