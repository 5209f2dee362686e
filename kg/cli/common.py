"""What every ``kg`` command shares: the global options, settings, errors and output.

**Global options, before or after the command.** ``--store``, ``--corpus``, ``--config`` and
``--quiet`` are defined once (:data:`GLOBAL_OPTIONS`) and every command and group inherits
them (:class:`KgGroup`, :class:`KgCommand`), so ``kg --store S build`` and ``kg build --store S``
mean the same; when both are given, the one nearer the command wins. Options only record what
was given; :func:`settings` builds the :class:`~kg.config.Settings` once every option has been
read (defaults < ``kg.toml`` < ``KG_*`` < command line, as :func:`kg.config.load_settings` says).

**Errors.** A :class:`~kg.errors.KGError` becomes ``Error: …`` on stderr and the error's own
exit code (:func:`errors`); click's usage errors keep exit 2.

**Output.** ``-o FILE`` is written whole or not at all (:func:`output`: a temporary file beside
it, renamed into place when the command succeeds).
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from kg.config import Settings, load_settings
from kg.errors import KGError, StoreBusyError
from kg.store import Store

__all__ = [
    "KgCommand",
    "KgGroup",
    "errors",
    "fail",
    "is_quiet",
    "open_kg_store",
    "output",
    "say",
    "settings",
]

_GIVEN = "kg.given"
_SETTINGS = "kg.settings"


@dataclass(frozen=True)
class _Global:
    """One global option: its flags, what it sets, and its help."""

    flags: tuple[str, ...]
    name: str
    help: str
    metavar: str | None = None
    kind: click.Path | None = None
    flag: bool = False


#: the options every command accepts, before or after its name (defined here once)
GLOBAL_OPTIONS: tuple[_Global, ...] = (
    _Global(("--store",), "store", "Store directory (embedded) or SPARQL endpoint URL. [env KG_STORE]", "PATH|URL"),
    _Global(("--corpus",), "corpus", "Corpus folder with documents/ and annotations/ (default: the bundled "
            "articles). [env KG_CORPUS]", "DIR", click.Path(file_okay=False, path_type=Path)),
    _Global(("--config",), "config_file", "A kg.toml file. [env KG_CONFIG]", "FILE",
            click.Path(dir_okay=False, path_type=Path)),
    _Global(("--quiet", "-q"), "quiet", "No progress and no messages on stderr (errors still).", flag=True),
)


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Record a global option the user gave, for :func:`settings` (the last one given wins)."""
    if value is None or value is False or param.name is None:
        return
    ctx.find_root().meta.setdefault(_GIVEN, {})[param.name] = value


def _global_params() -> list[click.Parameter]:
    """Fresh click options for :data:`GLOBAL_OPTIONS` (one set per command)."""
    out: list[click.Parameter] = []
    for spec in GLOBAL_OPTIONS:
        if spec.flag:
            out.append(click.Option([*spec.flags, spec.name], is_flag=True, default=False, help=spec.help,
                                    expose_value=False, callback=_remember))
        else:
            out.append(click.Option([*spec.flags, spec.name], metavar=spec.metavar, type=spec.kind, help=spec.help,
                                    expose_value=False, callback=_remember))
    return out


def _first_sentence(help_text: str | None) -> str:
    """The first sentence of a command's help, whole: what ``kg --help`` lists (click would cut
    it at about 45 characters, mid-sentence)."""
    paragraph = (help_text or "").split("\n\n", 1)[0]
    text = " ".join(paragraph.split())
    end = text.find(". ")
    return text[: end + 1] if end >= 0 else text


class KgCommand(click.Command):
    """A command that takes the global options too (after its name)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_params())

    def get_short_help_str(self, limit: int = 45) -> str:
        """The first sentence of the help, never cut."""
        return self.short_help or _first_sentence(self.help)


class KgGroup(click.Group):
    """A group whose commands and subgroups take the global options, as it does itself."""

    command_class = KgCommand
    group_class = type  # subgroups are KgGroups too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_params())

    def get_short_help_str(self, limit: int = 45) -> str:
        """The first sentence of the help, never cut."""
        return self.short_help or _first_sentence(self.help)


def settings(ctx: click.Context) -> Settings:
    """The settings of this run, built on first use from everything the command line gave."""
    root = ctx.find_root()
    found: Settings | None = root.meta.get(_SETTINGS)
    if found is None:
        given = dict(root.meta.get(_GIVEN, {}))
        given.pop("quiet", None)
        with errors():
            found = load_settings(config_file=given.pop("config_file", None), **given)
        root.meta[_SETTINGS] = found
    return found


def is_quiet(ctx: click.Context) -> bool:
    """True when ``--quiet`` was given: no progress, no messages on stderr."""
    return bool(ctx.find_root().meta.get(_GIVEN, {}).get("quiet"))


def say(ctx: click.Context, message: str) -> None:
    """A message for the person at the terminal (stderr), unless ``--quiet``."""
    if not is_quiet(ctx):
        click.echo(message, err=True)


class _Failure(click.ClickException):
    """A :class:`KGError` shown as ``Error: …`` with the error's own exit code (click declares
    ``exit_code`` on the class, so each code has its subclass: :func:`_failure_type`)."""


@functools.cache
def _failure_type(exit_code: int) -> type[_Failure]:
    class Failure(_Failure):
        pass

    Failure.exit_code = exit_code
    return Failure


def fail(message: str, exit_code: int) -> click.ClickException:
    """A click exception printing ``Error: message`` and exiting with ``exit_code``."""
    return _failure_type(exit_code)(message)


@contextmanager
def errors() -> Iterator[None]:
    """Turn a :class:`KGError` raised inside into its message and exit code."""
    try:
        yield
    except KGError as exc:
        raise fail(str(exc), exc.exit_code) from None


@contextmanager
def open_kg_store(ctx: click.Context, *, read_only: bool = False, using: Settings | None = None) -> Iterator[Store]:
    """The store the settings (or ``using``) name, closed afterwards; a store held by another
    process is named (a ``kg serve`` with its URL and pid) with what to do
    (:func:`kg.ops.control.busy`)."""
    from kg.ops.control import busy
    from kg.store import open_store

    chosen = using or settings(ctx)
    with errors():
        try:
            store = open_store(chosen, read_only=read_only)
        except StoreBusyError as exc:
            raise busy(chosen, exc, doing=ctx.command_path) from None
    try:
        yield store
    finally:
        store.close()


@contextmanager
def output(path: Path | None, *, binary: bool = True) -> Iterator[IO[Any]]:
    """Where a command writes its result: stdout, or ``path`` written atomically — a temporary
    file beside it, renamed over it only when the block ends without an exception, so an
    error never leaves half a file (nor destroys the one that was there)."""
    if path is None:
        stream: IO[Any] = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    target = path.expanduser()
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise fail(f"{path}: cannot write there ({exc.strerror})", 2) from None
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as handle:
            yield handle
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_argument(value: str, *, what: str, param: str) -> str:
    """A command-line text argument, or the contents of the file it names as ``@FILE``
    (``@-``: stdin)."""
    if not value.startswith("@"):
        return value
    name = value[1:]
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 (byte {exc.start})"
        raise click.BadParameter(f"cannot read the {what} file {name}: {reason}", param_hint=param) from None


def stdout_is_terminal() -> bool:
    """True when stdout is a terminal (a person reads it, rather than a program or a file)."""
    return sys.stdout.isatty()

