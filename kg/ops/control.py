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
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kg.config import Settings
from kg.errors import StoreBusyError

__all__ = ["Control", "busy", "control_path", "find_control", "post", "process_runs", "publish_control", "withdraw_control"]


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
    if alive_only and not process_runs(control.pid):
        return None
    return control


def process_runs(pid: int) -> bool:
    """True when process ``pid`` exists (perhaps under another account, which ``kill`` refuses)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def post(control: Control, route: str, payload: dict[str, Any], *, timeout: float) -> tuple[int, dict[str, Any]] | None:
    """POST ``payload`` as JSON to ``route`` of the server, with its control secret: the status
    and the JSON answer, or None when the server cannot be reached (it may have just stopped)."""
    request = urllib.request.Request(
        control.url + route,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {control.secret}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {"message": str(exc.reason)}
        return exc.code, body if isinstance(body, dict) else {"message": str(body)}
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _command_of(pid: int) -> str | None:
    """What process ``pid`` runs, as its command line (Linux), for messages."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    text = " ".join(w.decode("utf-8", "replace") for w in words if w)
    return text[:120] or None


def busy(settings: Settings, error: StoreBusyError, *, doing: str) -> StoreBusyError:
    """``error`` said the way the person who has to act needs it: who holds the store (the
    ``kg serve`` at its URL, or another process and its command line) and what to do."""
    control = find_control(settings)
    where = f"the store at {settings.store}"
    if control is not None and (error.holder is None or error.holder == control.pid):
        if doing.endswith(" serve"):
            advice = ("serve it read-only beside it (kg serve --read-only --port OTHER_PORT), "
                      "or stop that server first")
        else:
            advice = "stop that server first, or run this while it is not running"
        return StoreBusyError(f"{where} is held by kg serve at {control.url} (pid {control.pid}); {advice}",
                              holder=control.pid)
    if error.holder is not None:
        command = _command_of(error.holder)
        what = f"process {error.holder}" + (f" ({command})" if command else "")
        return StoreBusyError(f"{where} is held for writing by {what}; run this again when it has "
                              "finished, or stop it", holder=error.holder)
    return StoreBusyError(f"{where} is held for writing by another process; run this again when it has "
                          "finished", holder=None)
