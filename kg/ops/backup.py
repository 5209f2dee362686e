"""``kg backup`` / ``kg restore``: consistent copies of the embedded store, swapped in atomically.

A backup is a pyoxigraph checkpoint (``Store.backup``: hard links to the immutable
files where it can) made through a handle open for *writing*, the only kind that sees
every committed write and is safe beside other handles. Whoever holds that handle
makes it:

1. nobody (no writable server): ``kg backup`` opens the store itself;
2. a running ``kg serve``: it is asked over its local control channel
   (:mod:`kg.ops.control`) and checkpoints between two writes;
3. another writer with no control channel (a ``kg ingest`` in progress): a *logical*
   copy of the newest committed view, the checkpoint that writer published after its
   last commit (:mod:`kg.store.views`), held while it is read so the writer cannot
   remove it. A store without views (no writer of this version has opened it) is read
   through a read-only handle on its live files instead, retried from a new handle when
   the writer removes files under it.

Whatever a writer had staged or was loading under its journal at that instant is in a
checkpoint of types 1 and 2 too, uncommitted (a view has none of it); the copy is then
opened once for writing, which undoes it as after a crash of the writer
(:class:`kg.store.EmbeddedStore` recovers on open). A backup therefore holds exactly the
writes committed when it was taken.

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
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.config import Settings
from kg.errors import ConfigError, InputError, StoreBusyError, StoreError
from kg.ops.control import Control, busy, find_control, post
from kg.store import EmbeddedStore
from kg.store.embedded import lock_holder
from kg.store.views import fsync_dir, held_view

__all__ = ["Snapshot", "backup_store", "restore_store"]

#: how many times a read-only copy is tried when the writer removes files under the reader
_ATTEMPTS = 5
#: the longest a server may take to write a checkpoint, in seconds
_SERVER_SECONDS = 3600.0


@dataclass(frozen=True)
class Snapshot:
    """What was copied: where to, how many quads its named graphs hold, how many graphs, and how."""

    path: Path
    quads: int
    graphs: int
    method: str


def _embedded_path(settings: Settings) -> Path:
    if settings.store_is_remote:
        raise ConfigError(f"--store {settings.store}: backup and restore work on an embedded store directory")
    return Path(settings.store)


def _require_store(path: Path, what: str) -> None:
    if not (path / "CURRENT").is_file():
        raise InputError(f"{path}: not a store directory ({what})")


# -- the three ways to a checkpoint -----------------------------------------------------------


def _checkpoint_here(source: Path, staging: Path) -> bool:
    """Checkpoint through our own writable handle; False when another process holds the store."""
    try:
        store = ox.Store(str(source))
    except OSError:
        return False
    try:
        store.backup(str(staging))
    except OSError as exc:
        raise StoreError(f"the checkpoint of {source} failed: {exc}") from None
    finally:
        del store
    return True


def _checkpoint_by_server(control: Control, staging: Path) -> bool:
    """Ask the server holding the store for a checkpoint; False when it cannot be reached."""
    answer = post(control, "/admin/backup", {"directory": str(staging.resolve())}, timeout=_SERVER_SECONDS)
    if answer is None:
        return False
    status, body = answer
    if status >= 400:
        message = body.get("message", status)
        raise StoreError(f"the server at {control.url} could not back up the store: {message}")
    return True


def _copy_once(source: Path, target: Path) -> None:
    """Copy every quad of one read-only view of ``source`` into a new store at ``target``."""
    counted = 0

    def tally(quads: Iterator[ox.Quad]) -> Iterator[ox.Quad]:
        nonlocal counted
        for quad in quads:
            counted += 1
            yield quad

    reader = ox.Store.read_only(str(source))
    writer = ox.Store(str(target))
    writer.bulk_extend(tally(reader.quads_for_pattern(None, None, None, None)))
    writer.flush()
    written = len(writer)
    del writer, reader  # closes both before the copy is reopened and renamed
    if written != counted:
        raise StoreError(f"copying {source} gave {written} quads instead of {counted}")


def _copy(source: Path, target: Path, what: str) -> None:
    """:func:`_copy_once`, retried from a fresh view when a writer changed files under the reader
    (pyoxigraph reports that as an I/O error or as "Corruption: … No such file")."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            _copy_once(source, target)
            return
        except (OSError, RuntimeError) as exc:
            shutil.rmtree(target, ignore_errors=True)
            if attempt == _ATTEMPTS:
                raise StoreError(f"cannot copy {what} at {source} ({_ATTEMPTS} attempts): {exc}") from None
            time.sleep(0.2 * attempt)


def _copy_committed(source: Path, target: Path) -> None:
    """:func:`_copy` of the newest committed view of ``source``, held meanwhile (or of its live
    files, when it has no view)."""
    try:
        with held_view(source) as view:
            _copy(view or source, target, "the store")
    except OSError as exc:
        raise StoreError(f"cannot read the committed state of {source}: {exc}") from None


def _finish(staging: Path, method: str) -> Snapshot:
    """Open the copy for writing once (undoing what was not committed) and count it."""
    store = EmbeddedStore(staging)
    try:
        return Snapshot(staging, len(store), len(store.named_graphs()), method)
    finally:
        store.close()


# -- placing the result ---------------------------------------------------------------------


def _staging_dir(final: Path) -> Path:
    """A new hidden directory beside ``final`` (same file system, so a rename is atomic)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent)) / "store"


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and next(path.iterdir(), None) is None


def backup_store(settings: Settings, target: Path) -> Snapshot:
    """Write a consistent copy of the store to the new directory ``target``.

    Works while a server holds the store. ``target`` must not exist (or be an empty
    directory); the copy is itself a store (``kg --store TARGET query …`` reads it).
    """
    source = _embedded_path(settings)
    _require_store(source, "the store")
    if target.exists() and not _is_empty_dir(target):
        raise InputError(f"{target}: the backup directory exists and is not empty; choose a new one")
    if target.resolve() == source.resolve():
        raise InputError(f"{target}: that is the store itself")
    staging = _staging_dir(target)
    try:
        if _checkpoint_here(source, staging):
            method = "checkpoint"
        else:
            control = find_control(settings)
            if control is not None and _checkpoint_by_server(control, staging):
                method = f"checkpoint by the server at {control.url}"
            else:
                _copy_committed(source, staging)
                method = "copy of a read-only view of the committed state (another process holds the store)"
        snapshot = _finish(staging, method)
        if target.exists():
            target.rmdir()
        os.rename(staging, target)
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    return Snapshot(target, snapshot.quads, snapshot.graphs, method)


def restore_store(settings: Settings, source: Path, *, force: bool = False) -> Snapshot:
    """Make the store a copy of the backup ``source``, atomically.

    Refuses to replace a store that holds data unless ``force``, a directory that is not
    a store, and a store another process holds open for writing (:class:`~kg.errors.StoreBusyError`,
    naming it: stop the server first).
    The backup itself is only read.
    """
    target = _embedded_path(settings)
    _require_store(source, "the backup")
    if source.resolve() == target.resolve():
        raise InputError(f"{source}: that is the store itself")
    replacing = target.exists() and not _is_empty_dir(target)
    if replacing:
        _check_replaceable(settings, target, force=force)
    staging = _staging_dir(target)
    try:
        _copy(source, staging, "the backup")
        snapshot = _finish(staging, "copy")
        if not replacing:
            if target.exists():
                target.rmdir()
            os.rename(staging, target)
        else:
            _swap(staging, target)
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    return Snapshot(target, snapshot.quads, snapshot.graphs, snapshot.method)


def _check_replaceable(settings: Settings, target: Path, *, force: bool) -> None:
    if not (target / "CURRENT").is_file():
        raise InputError(f"{target}: exists and is not a store; refusing to replace it")
    try:
        store = ox.Store(str(target))
    except OSError:
        # who holds it (a kg serve with its URL, or another process) and what to do: exit 4
        raise busy(settings, StoreBusyError("in use", holder=lock_holder(target)), doing="kg restore") from None
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
