"""Named write tokens: created once, stored hashed, revocable; a token's name is the agent.

The tokens file (``Settings.tokens_path``, beside the store) holds for each token its
name, the sha256 of its secret, when it was created and whether it is revoked — never
the secret itself, which :func:`create_token` returns once. A request proves who it is
with ``Authorization: Bearer <secret>``; :func:`agent_for` turns that header into the
token's name, which the write path records as the ``prov:Agent`` of the change.

Checks compare digests with :func:`hmac.compare_digest` against every stored token,
so the time taken says nothing about how close a guess was. Error messages describe
the header, never its value, so a secret cannot leak into a log or a response body.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kg.config import Settings
from kg.errors import AuthError, ConfigError, ForbiddenError, InputError

__all__ = [
    "TOKEN_NAME_PATTERN",
    "TokenInfo",
    "agent_for",
    "bearer_secret",
    "create_token",
    "list_tokens",
    "revoke_token",
]

#: A token name: it becomes the agent of every change made with the token, so it is kept
#: short and plain (letters, digits, ``.``, ``_``, ``-``; starting with a letter or digit).
TOKEN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: Secrets carry this prefix so they are recognisable in a leaked file or a secret scanner.
_SECRET_PREFIX = "kgt_"
_FILE_VERSION = 1


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never its secret, not even its hash."""

    name: str
    created: datetime
    revoked: bool


@dataclass
class _Record:
    name: str
    sha256: str
    created: str
    revoked: bool = False

    def info(self) -> TokenInfo:
        return TokenInfo(self.name, datetime.fromisoformat(self.created), self.revoked)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _read(path: Path) -> list[_Record]:
    """The records in ``path``; none when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the tokens file {path}: {exc}") from None
    try:
        data: Any = json.loads(text)
        if data.get("version") != _FILE_VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        return [_Record(**entry) for entry in data["tokens"]]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(f"the tokens file {path} is not a tokens file of this version: {exc}") from None


def _write(path: Path, records: list[_Record]) -> None:
    """Replace ``path`` atomically (a reader sees the old file or the new one), owner-only."""
    text = json.dumps({"version": _FILE_VERSION, "tokens": [asdict(r) for r in records]}, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(path: Path) -> Iterator[list[_Record]]:
    """The records, under an exclusive lock, so two ``kg token`` runs cannot lose a change."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path.touch(exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot use the tokens file {path}: {exc}") from None
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield _read(path)


def create_token(settings: Settings, name: str) -> str:
    """Create the token ``name`` and return its secret — the only time it is ever shown.

    Raises :class:`InputError` when the name is not a plain name or is already taken
    (revoked names stay taken, so provenance never mixes two holders under one name).
    """
    if not TOKEN_NAME_PATTERN.match(name):
        raise InputError(
            f"token name {name!r}: use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    path = settings.tokens_path
    secret = _SECRET_PREFIX + secrets.token_urlsafe(32)
    with _locked(path) as records:
        if any(r.name == name for r in records):
            raise InputError(f"a token named {name!r} already exists in {path}")
        created = datetime.now(UTC).replace(microsecond=0).isoformat()
        records.append(_Record(name=name, sha256=_digest(secret), created=created))
        _write(path, records)
    return secret


def revoke_token(settings: Settings, name: str) -> None:
    """Revoke the token ``name``: requests bearing it get 403 from now on.

    Raises :class:`InputError` for a name that has no token. Revoking twice is harmless.
    """
    path = settings.tokens_path
    with _locked(path) as records:
        for record in records:
            if record.name == name:
                record.revoked = True
                _write(path, records)
                return
    raise InputError(f"no token named {name!r} in {path}")


def list_tokens(settings: Settings) -> list[TokenInfo]:
    """Every token (revoked ones too), oldest first."""
    return [r.info() for r in _read(settings.tokens_path)]


def bearer_secret(authorization_header: str | None) -> str:
    """The secret in an ``Authorization: Bearer <secret>`` header.

    Raises :class:`AuthError` (401) when the header is missing, uses another scheme
    or carries no single token; the message never repeats the header's value.
    """
    if authorization_header is None or not authorization_header.strip():
        raise AuthError("this request needs a token: send 'Authorization: Bearer <token>'")
    scheme, _, rest = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("the Authorization header must use the Bearer scheme: 'Authorization: Bearer <token>'")
    secret = rest.strip()
    if not secret or any(c.isspace() for c in secret):
        raise AuthError("the Authorization header must carry exactly one token after 'Bearer'")
    return secret


def agent_for(settings: Settings, authorization_header: str | None) -> str:
    """The name of the token in ``authorization_header``: the agent a change is recorded under.

    Raises :class:`AuthError` (401) for a missing or malformed header and
    :class:`ForbiddenError` (403) for a token that is unknown or revoked.
    """
    presented = _digest(bearer_secret(authorization_header))
    match: _Record | None = None
    for record in _read(settings.tokens_path):
        # Every record is compared, in constant time each: no early exit to time.
        if hmac.compare_digest(presented, record.sha256):
            match = record
    if match is None:
        raise ForbiddenError("the token is not known to this server")
    if match.revoked:
        raise ForbiddenError(f"the token {match.name!r} has been revoked")
    return match.name
