"""``kg backup`` / ``kg restore``: consistent copies of the embedded store, swapped in atomically.

A running ``kg serve`` holds the store read-write, so a backup cannot open it that way.
pyoxigraph's own ``Store.backup`` on a read-only handle copies only the files already
flushed to disk and misses a committed write still in the write-ahead log. So a
snapshot is a *logical* copy instead: a read-only handle sees every committed
transaction at the moment it is opened (log included) and never moves on, and all its
quads — the named graphs and the materialised union — are written into a fresh store.
A read that fails because the writer compacted files away is retried from a new handle.

Both directions build the new store in a hidden sibling directory and only then rename
it into place, so the target is either the old store or the complete new one — never
half a copy. Restore swaps directories with one ``renameat2(RENAME_EXCHANGE)`` on
Linux; elsewhere two renames, with the old store kept aside until the second is done.

Tokens are not part of a backup: they live beside the store, not in it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .config import Settings
from .errors import ConfigError, InputError, StoreError

__all__ = ["Snapshot", "backup_store", "restore_store"]

#: how many times a snapshot is retried when the writer removes files under a reader
_ATTEMPTS = 3


@dataclass(frozen=True)
class Snapshot:
    """What was copied: where to, how many quads (union included) and named graphs."""

    path: Path
    quads: int
    graphs: int


def _embedded_path(settings: Settings) -> Path:
    if settings.store_is_remote:
        raise ConfigError(f"--store {settings.store}: backup and restore work on an embedded store directory")
    return Path(settings.store)


def _open_read_only(path: Path, what: str) -> ox.Store:
    if not (path / "CURRENT").is_file():
        raise InputError(f"{path}: not a store directory ({what})")
    try:
        return ox.Store.read_only(str(path))
    except OSError as exc:
        raise StoreError(f"cannot open {what} at {path}: {exc}") from None


def _copy_once(source: Path, target: Path, what: str) -> Snapshot:
    """Copy every quad of ``source`` (as one read-only view) into a new store at ``target``."""
    counted = 0
    graphs: set[ox.NamedNode | ox.BlankNode] = set()

    def tally(quads: Iterator[ox.Quad]) -> Iterator[ox.Quad]:
        nonlocal counted
        for quad in quads:
            counted += 1
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                graphs.add(quad.graph_name)
            yield quad

    reader = _open_read_only(source, what)
    writer = ox.Store(str(target))
    writer.bulk_extend(tally(reader.quads_for_pattern(None, None, None, None)))
    writer.flush()
    written = len(writer)
    del writer, reader  # closes both before the directory is renamed
    if written != counted:
        raise StoreError(f"copying {source} gave {written} quads instead of {counted}")
    return Snapshot(target, counted, len(graphs))


def _copy(source: Path, target: Path, what: str) -> Snapshot:
    """:func:`_copy_once`, retried from a fresh view when the source changed under the reader."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return _copy_once(source, target, what)
        except OSError as exc:
            shutil.rmtree(target, ignore_errors=True)
            if attempt == _ATTEMPTS:
                raise StoreError(f"cannot copy {what} at {source} ({_ATTEMPTS} attempts): {exc}") from None
    raise AssertionError("unreachable")


def _staging_dir(final: Path) -> Path:
    """A new hidden directory beside ``final`` (same file system, so a rename is atomic)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent)) / "store"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and next(path.iterdir(), None) is None


def backup_store(settings: Settings, target: Path) -> Snapshot:
    """Write a consistent copy of the store to the new directory ``target``.

    Works while a server holds the store. ``target`` must not exist (or be an empty
    directory); the copy is itself a store (``kg --store TARGET query …`` reads it).
    """
    source = _embedded_path(settings)
    if target.exists() and not _is_empty_dir(target):
        raise InputError(f"{target}: the backup directory exists and is not empty; choose a new one")
    if target.resolve() == source.resolve():
        raise InputError(f"{target}: that is the store itself")
    staging = _staging_dir(target)
    try:
        snapshot = _copy(source, staging, "the store")
        if target.exists():
            target.rmdir()
        os.rename(staging, target)
        _fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    return Snapshot(target, snapshot.quads, snapshot.graphs)


def restore_store(settings: Settings, source: Path, *, force: bool = False) -> Snapshot:
    """Make the store a copy of the backup ``source``, atomically.

    Refuses to replace a store that holds data unless ``force``, a directory that is not
    a store, and a store another process holds open for writing (stop the server first).
    """
    target = _embedded_path(settings)
    if source.resolve() == target.resolve():
        raise InputError(f"{source}: that is the store itself")
    replacing = target.exists() and not _is_empty_dir(target)
    if replacing:
        _check_replaceable(target, force=force)
    staging = _staging_dir(target)
    try:
        snapshot = _copy(source, staging, "the backup")
        if not replacing:
            if target.exists():
                target.rmdir()
            os.rename(staging, target)
        else:
            _swap(staging, target)
        _fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    return Snapshot(target, snapshot.quads, snapshot.graphs)


def _check_replaceable(target: Path, *, force: bool) -> None:
    if not (target / "CURRENT").is_file():
        raise InputError(f"{target}: exists and is not a store; refusing to replace it")
    try:
        store = ox.Store(str(target))
    except OSError as exc:
        raise StoreError(
            f"{target}: the store is in use by another process (a running 'kg serve'?); stop it first ({exc})"
        ) from None
    try:
        holds_data = next(iter(store.quads_for_pattern(None, None, None, None)), None) is not None
    finally:
        del store
    if holds_data and not force:
        raise InputError(f"{target}: the store holds data; use --force to replace it with the backup")


def _swap(new: Path, current: Path) -> None:
    """Put ``new`` at ``current``; the old store ends up at ``new`` (and is deleted with it)."""
    if _exchange(new, current):
        return
    aside = new.with_name("previous")
    os.rename(current, aside)
    os.rename(new, current)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two directories (Linux ``renameat2``); False where unsupported."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name, use_errno=True) if name else None
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system or kernel cannot
        return False
    raise OSError(errno, os.strerror(errno), str(b))
