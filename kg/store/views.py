"""Committed views: the only part of an embedded store a reader ever opens.

A reader must see committed writes and nothing else, and opening pyoxigraph's live
directory read-only gives neither guarantee. It shows whatever the writer has put on
disk: a graph ``kg ingest`` is loading in place, and the union copy of it, before the
SHACL gate has decided (and, after the writer is killed, until the next writable open
undoes it). And it can fail outright: pyoxigraph calls a read-only handle beside a writer
undefined behaviour, and it is — the writer's compactions delete files a reader has just
read the names of (``Corruption: … .sst: No such file … MANIFEST``), which is how the
query workers of a ``kg serve`` starting after a crash could fail to open.

So the writer *publishes* what readers open. Every time the store is opened for writing
(after the leftovers of a killed writer are undone) and after every commit, it writes a
view: a pyoxigraph checkpoint of the store (hard links to its immutable files, a few
milliseconds), which holds exactly the committed state because it is taken between two
writes. Nobody writes to a view, so opening one cannot race with anything. Readers open
the newest view and hold a shared ``flock`` on it while it is open; the writer removes
older views that nobody holds (the kernel drops a killed reader's lock)::

    <store>/kg-views/v000000000007/       a checkpoint, complete before it gets its name
    <store>/kg-views/v000000000007.lock   held shared by each reader of that view
    <store>/kg-views/.partial-…           a checkpoint being written (a killed writer's: removed)
    <store>/kg-views/.removed-…           a view no reader holds, renamed away, being deleted

A view is renamed away before its files are deleted, so a reader finds a view whole or
not at all; the deleting (a millisecond a file on some file systems) is done by a
background thread, off the write path, which closing the store waits for (and which a
later writer finishes if this one is killed).

A view keeps the files it links alive, so an old view still held by a long-running
reader (a ``kg serve --read-only`` started long ago) costs the disk space of what has been
compacted away since.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

__all__ = ["VIEWS_DIR", "ViewLease", "finish_removals", "fsync_dir", "held_view", "newest_view", "open_view", "publish_view"]

#: the directory of views, inside the store directory (pyoxigraph ignores what it does not name)
VIEWS_DIR = "kg-views"
_PREFIX = "v"
_PARTIAL = ".partial-"
_REMOVED = ".removed-"
_LOCK = ".lock"
#: how many times a reader looks again when the view it chose was removed before it locked it
_ATTEMPTS = 20


@dataclass
class ViewLease:
    """A reader's hold on one view: the shared lock that keeps the writer from removing it."""

    path: Path
    fd: int

    def release(self) -> None:
        """Let the writer remove the view (closing the file drops the lock)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _views(store: Path) -> Path:
    return store / VIEWS_DIR


def _sequence(name: str) -> int | None:
    digits = name[len(_PREFIX):]
    return int(digits) if name.startswith(_PREFIX) and digits.isdigit() else None


def _published(store: Path) -> list[Path]:
    """The published views of ``store``, oldest first."""
    try:
        entries = list(os.scandir(_views(store)))
    except FileNotFoundError:
        return []
    found = [(seq, Path(e.path)) for e in entries if e.is_dir() and (seq := _sequence(e.name)) is not None]
    return [path for _, path in sorted(found)]


def newest_view(store: Path) -> Path | None:
    """The newest view of ``store``, or None when no writer of this version has opened it."""
    views = _published(store)
    return views[-1] if views else None


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in the directory ``path`` durable (fsync of the directory)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_view(store: ox.Store, path: Path) -> Path:
    """Checkpoint ``store`` (open for writing at ``path``, between two writes) as its newest
    view, then remove the older views no reader holds. Raises ``OSError``."""
    views = _views(path)
    views.mkdir(exist_ok=True)
    newest = newest_view(path)
    sequence = (_sequence(newest.name) or 0) + 1 if newest is not None else 1
    partial = views / f"{_PARTIAL}{uuid.uuid4().hex}"
    store.backup(str(partial))
    final = views / f"{_PREFIX}{sequence:012d}"
    # the lock file exists before the view has its name: a reader never has to create it
    Path(f"{final}{_LOCK}").touch()
    os.rename(partial, final)
    fsync_dir(views)
    _prune(views, keep=final)
    return final


def _prune(views: Path, *, keep: Path) -> None:
    """Remove the views older than ``keep`` that no reader holds, and partial checkpoints.

    Only the writer prunes, and pyoxigraph lets one process at a time open a store for
    writing, so a partial checkpoint here is a killed writer's."""
    newest = _sequence(keep.name) or 0
    doomed: list[Path] = []
    for entry in os.scandir(views):
        path = Path(entry.path)
        sequence = _sequence(entry.name)
        if entry.name.startswith((_PARTIAL, _REMOVED)):
            doomed.append(path)
        elif entry.is_dir() and sequence is not None and sequence < newest:
            retired = _retire_if_free(path)
            if retired is not None:
                doomed.append(retired)
        elif entry.name.endswith(_LOCK) and not Path(entry.path[: -len(_LOCK)]).exists():
            Path(entry.path).unlink(missing_ok=True)  # its view was removed by hand
    if doomed:
        remover = threading.Thread(target=_delete, args=(doomed,), name="kg-view-removal", daemon=True)
        with _REMOVERS_GUARD:
            _REMOVERS.setdefault(views.parent.resolve(), []).append(remover)
        remover.start()


_REMOVERS: dict[Path, list[threading.Thread]] = {}
_REMOVERS_GUARD = threading.Lock()


def _delete(paths: list[Path]) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def finish_removals(store: Path) -> None:
    """Wait until the views this process is removing from ``store`` are gone (when the writer
    closes the store, so that nothing of it is still being deleted afterwards)."""
    with _REMOVERS_GUARD:
        removers = _REMOVERS.pop(store.resolve(), [])
    for remover in removers:
        remover.join()


def _retire_if_free(view: Path) -> Path | None:
    """Rename ``view`` away if no reader holds it (then drop its lock file); the new name."""
    lock = Path(f"{view}{_LOCK}")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a reader has it open: removed by a later commit
        retired = view.with_name(f"{_REMOVED}{view.name}-{uuid.uuid4().hex[:8]}")
        os.rename(view, retired)
        lock.unlink(missing_ok=True)
        return retired
    finally:
        os.close(fd)


def open_view(path: Path) -> tuple[ox.Store, ViewLease] | None:
    """The newest view of the store at ``path``, opened read-only and held; None when the
    store has no view yet (a store no writer of this version has opened).

    Raises ``OSError`` when pyoxigraph cannot open the view.
    """
    lease = _hold_newest(path)
    if lease is None:
        return None
    try:
        return ox.Store.read_only(str(lease.path)), lease
    except BaseException:
        lease.release()
        raise


@contextmanager
def held_view(path: Path) -> Iterator[Path | None]:
    """The newest view of the store at ``path`` (None when it has none), kept in place until
    the block ends: for copying its files. Raises ``OSError`` as :func:`open_view` does."""
    lease = _hold_newest(path)
    try:
        yield None if lease is None else lease.path
    finally:
        if lease is not None:
            lease.release()


def _hold_newest(path: Path) -> ViewLease | None:
    """A hold on the newest view, or None when there is no view."""
    for _ in range(_ATTEMPTS):
        view = newest_view(path)
        if view is None:
            return None
        lease = _hold(view)
        if lease is not None:
            return lease
        # removed between listing and locking: a newer one was published meanwhile
    raise OSError(f"no view of {path} stayed in place long enough to be opened ({_ATTEMPTS} attempts)")


def _hold(view: Path) -> ViewLease | None:
    """A shared lock on ``view``, or None when the writer removed it first."""
    try:
        fd = os.open(f"{view}{_LOCK}", os.O_RDONLY)
    except FileNotFoundError:
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)
    # the writer unlinks the lock file, holding it exclusively, after renaming the view away
    if os.fstat(fd).st_nlink == 0 or not view.is_dir():
        os.close(fd)
        return None
    return ViewLease(view, fd)
