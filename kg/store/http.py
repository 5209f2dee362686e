"""HTTP to a SPARQL server: authentication, time limits, retries, bounded memory.

Every failure becomes a :class:`~kg.errors.StoreError` (or a
:class:`~kg.errors.QueryError` for a request the server rejects as malformed) whose
message names the server and says what it did, so ``kg`` can print it and exit
non-zero and the HTTP server can answer 4xx/503 instead of 500.

Answers are read in 64 KiB chunks into a spooled temporary file (memory up to
8 MiB, then disk), so a large result never sits whole in memory; uploads are sent
by the caller in chunks of a bounded number of triples.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import httpx

from kg.config import Settings
from kg.errors import ConfigError, QueryError, StoreError

__all__ = ["Answer", "HttpClient", "auth_from_settings"]

_CHUNK = 64 * 1024
_SPOOL_BYTES = 8 * 1024 * 1024
#: statuses that say "try again": a proxy or the server itself is briefly unavailable
_TRANSIENT_STATUS = {502, 503, 504}
#: failures in transit that happen before the server could act on the request
_TRANSIENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.PoolTimeout)
_BACKOFF_SECONDS = 0.25


def auth_from_settings(settings: Settings) -> httpx.Auth | None:
    """The authentication ``settings.remote_auth`` names, with credentials from the settings."""
    kind = settings.remote_auth.lower()
    if kind == "none":
        return None
    if kind in ("basic", "digest"):
        if not settings.remote_user:
            raise ConfigError(f"remote_auth = {kind} needs remote_user (and remote_password) in kg.toml or KG_REMOTE_USER")
        cls = httpx.BasicAuth if kind == "basic" else httpx.DigestAuth
        return cls(settings.remote_user, settings.remote_password)
    if kind == "bearer":
        if not settings.remote_token:
            raise ConfigError("remote_auth = bearer needs remote_token in kg.toml or KG_REMOTE_TOKEN")
        return _Bearer(settings.remote_token)
    raise ConfigError(f"unknown remote_auth {settings.remote_auth!r}; use none, basic, digest or bearer")


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@dataclass
class Answer:
    """A successful answer: its headers, and its body spooled to a file positioned at the start."""

    headers: httpx.Headers
    body: IO[bytes]

    def close(self) -> None:
        self.body.close()


class HttpClient:
    """One connection pool to one server, with its time limits and retry policy."""

    def __init__(self, settings: Settings) -> None:
        self.retries = max(0, settings.remote_retries)
        self._client = httpx.Client(
            auth=auth_from_settings(settings),
            timeout=httpx.Timeout(settings.remote_timeout),
            follow_redirects=True,
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        doing: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        line_filter: Callable[[bytes], bytes] | None = None,
    ) -> Answer:
        """Send one request (retrying transient failures) and spool the answer's body.

        ``doing`` says what the request is for, in error messages. ``line_filter``
        rewrites the body line by line as it arrives (for servers whose answers need
        fixing before a standard parser can read them).
        """
        attempt = 0
        while True:
            try:
                return self._once(method, url, params=params, data=data, content=content, headers=headers,
                                  line_filter=line_filter, doing=doing)
            except _Transient as exc:
                if attempt >= self.retries:
                    raise StoreError(f"the SPARQL server at {url} {exc.what} while {doing} "
                                     f"(tried {attempt + 1} times)") from None
                time.sleep(_BACKOFF_SECONDS * 2**attempt)
                attempt += 1

    def _once(self, method: str, url: str, *, doing: str, line_filter: Callable[[bytes], bytes] | None,
              **kwargs: Any) -> Answer:
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
        try:
            with self._client.stream(method, url, **kwargs) as response:
                if response.status_code in _TRANSIENT_STATUS:
                    raise _Transient(f"answered {response.status_code} {response.reason_phrase}")
                if response.status_code >= 400:
                    response.read()
                    raise _rejection(url, doing, response)
                _copy(response, spool, line_filter)
                headers = response.headers
        except _TRANSIENT_ERRORS as exc:
            spool.close()
            raise _Transient(f"could not be reached ({_reason(exc)})") from None
        except httpx.TimeoutException:
            spool.close()
            raise StoreError(f"the SPARQL server at {url} did not answer in time while {doing}") from None
        except httpx.HTTPError as exc:
            spool.close()
            raise StoreError(f"the SPARQL server at {url} failed while {doing}: {_reason(exc)}") from None
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return Answer(headers, spool)

    def close(self) -> None:
        self._client.close()


class _Transient(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _copy(response: httpx.Response, spool: IO[bytes], line_filter: Callable[[bytes], bytes] | None) -> None:
    if line_filter is None:
        for chunk in response.iter_bytes(_CHUNK):
            spool.write(chunk)
        return
    pending = b""
    for chunk in response.iter_bytes(_CHUNK):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            spool.write(line_filter(line) + b"\n")
    spool.write(line_filter(pending))


def _rejection(url: str, doing: str, response: httpx.Response) -> Exception:
    """The error for a 4xx/5xx answer, with the first lines of what the server said."""
    said = response.text.strip().splitlines()
    detail = " ".join(line.strip() for line in said[:3])[:500]
    status = f"{response.status_code} {response.reason_phrase}"
    if response.status_code in (401, 403):
        return StoreError(f"the SPARQL server at {url} refused the credentials ({status}) while {doing}; "
                          "check remote_auth, remote_user, remote_password or remote_token")
    if response.status_code == 400:
        return QueryError(f"the SPARQL server at {url} rejected the request ({status}): {detail}")
    return StoreError(f"the SPARQL server at {url} failed ({status}) while {doing}: {detail}")
