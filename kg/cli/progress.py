"""Progress for long writes: what stage a write is in, how much of its input is read.

A write that finishes within two seconds shows nothing; after that a line on stderr says the
stage ("staging", "validating", "committing"…), the bytes read when the input has a size,
and the time spent. Nothing at all when stderr is not a terminal (a log, a CI job) or with
``--quiet``. The line is drawn by tqdm; a ticker thread redraws it, because a stage such as
validation reports nothing until it ends and the line would otherwise freeze.

The ``progress`` setting (``KG_PROGRESS``) changes that: ``lines`` writes one plain line per
stage as it starts (``Ingesting: validating…``), terminal or not, for logs and for tools
that watch a write; ``off`` shows nothing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

__all__ = ["DELAY_SECONDS", "Progress", "StageLines", "progress"]

#: a write that takes less than this shows no progress
DELAY_SECONDS = 2.0
_TICK = 0.25


def _width() -> int:
    """The width of stderr's terminal, or 80 when it reports none (0 columns, as under
    ``script``): tqdm, left to find it, would draw nothing at all there."""
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 80
    return columns if columns > 0 else 80


class Progress:
    """The progress line of one write (a no-op when disabled)."""

    def __init__(self, *, label: str, total_bytes: int | None, enabled: bool) -> None:
        self.enabled = enabled
        sized = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}B/{total_fmt}B [{elapsed}]"
        self._bar = tqdm(total=total_bytes or None, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
                         delay=DELAY_SECONDS, disable=not enabled, file=sys.stderr, leave=False,
                         ncols=_width(), nrows=24,  # one line: any height will do
                         bar_format=sized if total_bytes else "{desc} [{elapsed}]")
        self._label = label
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="kg-progress", daemon=True)
        if enabled:
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(_TICK):
            if time.monotonic() - self._t0 >= DELAY_SECONDS:
                self._bar.refresh()
                self._bar.last_print_t = time.time()  # tqdm's clock: so that close() clears the line it drew

    def advance(self, count: int) -> None:
        """``count`` more bytes of input were read."""
        if self.enabled:
            self._bar.update(count)

    def stage(self, name: str) -> None:
        """The write moved on to ``name`` (staging, validating, committing, …)."""
        if self.enabled:
            self._bar.set_description_str(f"{self._label}: {name}", refresh=False)

    def close(self) -> None:
        """Stop the ticker and clear the line."""
        self._stop.set()
        if self._ticker.is_alive():
            self._ticker.join()
        self._bar.close()


class StageLines(Progress):
    """Progress as one plain line per stage (the ``lines`` mode), with no bar."""

    def __init__(self, *, label: str) -> None:
        super().__init__(label=label, total_bytes=None, enabled=False)

    def stage(self, name: str) -> None:
        """Say that the write moved on to ``name``."""
        print(f"{self._label}: {name}…", file=sys.stderr, flush=True)


@contextmanager
def progress(*, label: str, total_bytes: int | None = None, quiet: bool = False,
             mode: str = "auto") -> Iterator[Progress]:
    """A :class:`Progress` for one write: by ``mode`` (the ``progress`` setting), shown on a
    terminal only (``auto``), as lines (``lines``), or not at all (``off``, or ``quiet``)."""
    shown: Progress
    if mode == "lines" and not quiet:
        shown = StageLines(label=label)
    else:
        shown = Progress(label=label, total_bytes=total_bytes,
                         enabled=mode == "auto" and not quiet and sys.stderr.isatty())
    try:
        yield shown
    finally:
        shown.close()
