"""The local control channel from command-line tools to the ``kg serve`` that holds the store.

A writable server keeps the store open for writing, and pyoxigraph lets no other process
do that; a read-only handle opened beside a writer is, in pyoxigraph's own words,
undefined behaviour. So what needs the writer's handle — a consistent checkpoint for
``kg backup`` — is asked of the server itself. While it runs, the server publishes its
address and a fresh random secret in ``<store>.server.json`` beside the store, readable
by its owner only: whoever may read that file may already touch the store directory,
so the file's permissions are the authority, and no write token is involved.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from kg.config import Settings

__all__ = ["Control", "control_path", "find_control", "publish_control", "withdraw_control"]


@dataclass(frozen=True)
class Control:
    """A running server: where it listens, its process, and the secret it accepts."""

    url: str
    pid: int
    secret: str

    def accepts(self, authorization_header: str | None) -> bool:
        """True when the header is ``Bearer <this secret>`` (compared in constant time)."""
        scheme, _, value = (authorization_header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.secret.encode())


def control_path(settings: Settings) -> Path:
    """``<store>.server.json``, beside the store directory (like the tokens file)."""
    store = Path(settings.store)
    return store.parent / f"{store.name}.server.json"


def _client_host(host: str) -> str:
    """An address a local client can connect to when the server listens on every interface."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host in ("::", "[::]"):
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def publish_control(settings: Settings) -> Control | None:
    """Write the control file for this server process (owner-only, replaced atomically).

    ``None`` when the folder beside the store is not writable: the server runs all the
    same, and ``kg backup`` falls back to copying a read-only view.
    """
    control = Control(
        url=f"http://{_client_host(settings.host)}:{settings.port}", pid=os.getpid(), secret=secrets.token_urlsafe(32)
    )
    path = control_path(settings)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(control), handle)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return control


def withdraw_control(settings: Settings, control: Control) -> None:
    """Remove the control file if it is still this server's (another may have started since)."""
    path = control_path(settings)
    if find_control(settings, alive_only=False) == control:
        path.unlink(missing_ok=True)


def find_control(settings: Settings, *, alive_only: bool = True) -> Control | None:
    """The server that published a control file for this store, if any (and, by default,
    only if its process still runs: a server killed with SIGKILL leaves its file behind)."""
    try:
        data = json.loads(control_path(settings).read_text(encoding="utf-8"))
        control = Control(url=str(data["url"]), pid=int(data["pid"]), secret=str(data["secret"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if alive_only:
        try:
            os.kill(control.pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # it runs, under another account
    return control
