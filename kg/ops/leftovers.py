"""What a killed server leaves behind, removed when the next one starts.

A server stopped normally removes its control file (:mod:`kg.ops.control`), the request
bodies it spooled to disk and its cached dumps. One killed with SIGKILL (or by the
out-of-memory killer, or a power cut) cannot: its control file names a process that is
gone, and its temporary files stay in the temporary directory, each as large as the
request or the dataset it held. So every temporary file a server writes carries its
process id in its name (:func:`scratch_prefix`), and a starting server removes the files of
processes that no longer run, and the control file of a server that no longer runs
(:func:`remove_leftovers`). Another server's files are left alone while it runs, whatever
store it serves.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from kg.config import Settings
from kg.ops.control import control_path, find_control, process_runs

__all__ = ["SCRATCH_KINDS", "remove_leftovers", "scratch_prefix"]

#: what a server spools to the temporary directory: request bodies, and dumps of the dataset
SCRATCH_KINDS = ("body", "dumps")
_SCRATCH = re.compile(r"kg-(?:" + "|".join(SCRATCH_KINDS) + r")-(\d+)-")


def scratch_prefix(kind: str) -> str:
    """The name prefix of this process's temporary files of ``kind`` (``kg-body-<pid>-``)."""
    if kind not in SCRATCH_KINDS:
        raise ValueError(f"unknown kind of temporary file: {kind!r}")
    return f"kg-{kind}-{os.getpid()}-"


def remove_leftovers(settings: Settings, *, directory: Path | None = None) -> list[Path]:
    """Remove the temporary files of servers that no longer run (in ``directory``, by default
    the temporary directory) and this store's control file if its server no longer runs.
    Returns what was removed; what cannot be removed (another account's) is left."""
    removed: list[Path] = []
    folder = directory or Path(tempfile.gettempdir())
    try:
        entries = list(os.scandir(folder))
    except OSError:
        entries = []
    for entry in entries:
        match = _SCRATCH.match(entry.name)
        if match is None or int(match.group(1)) == os.getpid() or process_runs(int(match.group(1))):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    if not settings.store_is_remote:
        control = find_control(settings, alive_only=False)
        if control is not None and not process_runs(control.pid):
            control_path(settings).unlink(missing_ok=True)
            removed.append(control_path(settings))
    return removed
