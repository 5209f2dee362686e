"""The exception tree. Each error knows its exit code and HTTP status.

::

    KGError                      exit 1, HTTP 500  (a bug or an environment problem)
    ├── ConfigError              exit 2, HTTP 500  bad settings (kg.toml, KG_* variables)
    ├── BuildError               exit 1, HTTP 422  documents/annotations that cannot be built (file:line)
    ├── InputError               exit 2, HTTP 400  input that cannot be read or parsed (file:line:column)
    │   ├── QueryError           exit 2, HTTP 400  a SPARQL query or update that does not parse
    │   ├── NotAllowedError      exit 2, HTTP 403  what this endpoint's policy refuses (SERVICE to a host not allowed)
    │   │   └── ProtectedGraphError  exit 2, HTTP 403  a write to a graph only the store writes (receipts)
    │   ├── TooLargeError        exit 2, HTTP 413  a request body over the configured limit
    │   ├── UriTooLongError      exit 2, HTTP 414  a query string over the configured limit
    │   ├── NotAcceptableError   exit 2, HTTP 406  no format that is offered fits the request's Accept / format=
    │   └── UnsupportedMediaTypeError  exit 2, HTTP 415  a body in a format that is not read
    ├── NotFoundError            exit 2, HTTP 404  no such resource, graph, dump or file
    ├── QueryRejected            exit 2, HTTP 4xx  a query worker refused the query before answering (status carried)
    ├── StoreError               exit 1, HTTP 503  the store cannot be opened, read or written
    │   ├── StoreUnavailableError  exit 2, HTTP 503  no store where the settings point, or one that cannot be opened
    │   ├── StoreBusyError       exit 4, HTTP 503  another process holds the store for writing (named, with what to do)
    │   ├── QueryTimeout         exit 1, HTTP 503  a query ran out of time (its worker was stopped)
    │   └── QueryLimitExceeded   exit 1, HTTP 503  stopped at a memory or result-size limit (names it)
    ├── RateLimited              exit 1, HTTP 429  a client spent its query-time budget (Retry-After)
    ├── AuthError                exit 1, HTTP 401  no token, or an Authorization header that is not a Bearer token
    │   └── ForbiddenError       exit 1, HTTP 403  a token that is unknown or revoked
    ├── ValidationFailed         exit 1, HTTP 422  a write that would break the shapes (carries the report)
    └── ReasonerError            exit 3, HTTP 500  the OWL reasoner cannot run (no Java, …)

Non-conformance with the shapes and an inconsistent ontology are *results*
(:class:`kg.validation.model.ValidationReport`, :class:`kg.validation.ontology.ConsistencyResult`), not errors;
only a *write* that would break the shapes is refused, with :class:`ValidationFailed`.
"""

from __future__ import annotations

__all__ = [
    "KGError",
    "ConfigError",
    "BuildError",
    "InputError",
    "QueryError",
    "StoreError",
    "StoreUnavailableError",
    "StoreBusyError",
    "AuthError",
    "ForbiddenError",
    "ReasonerError",
    "NotAllowedError",
    "ProtectedGraphError",
    "UriTooLongError",
    "TooLargeError",
    "NotAcceptableError",
    "UnsupportedMediaTypeError",
    "NotFoundError",
    "QueryRejected",
    "QueryTimeout",
    "QueryLimitExceeded",
    "RateLimited",
    "ValidationFailed",
    "Location",
]

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in a file something went wrong (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
            if self.column is not None:
                out += f":{self.column}"
        return out


class KGError(Exception):
    """Base of every error the project raises on purpose."""

    exit_code = 1
    http_status = 500

    def __init__(self, message: str, *, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ConfigError(KGError):
    """A setting is missing or malformed."""

    exit_code = 2


class BuildError(KGError):
    """Documents or annotations that cannot be turned into a dataset."""

    exit_code = 1
    http_status = 422


class InputError(KGError):
    """Input that cannot be read or parsed."""

    exit_code = 2
    http_status = 400


class QueryError(InputError):
    """A SPARQL query or update that does not parse or cannot be evaluated."""


class StoreError(KGError):
    """The store cannot be opened, read or written."""

    http_status = 503


class StoreUnavailableError(StoreError):
    """No store where the settings point (never built), or one that cannot be opened at all
    (not a store, no permission, a remote endpoint that does not answer).

    Unusable input, like an unreadable file: exit 2, so a CI job that reads exit 1 as
    "the data breaks the shapes" is not told that about a store it never saw.
    """

    exit_code = 2


class StoreBusyError(StoreError):
    """Another process holds the embedded store for writing (pyoxigraph lets only one).

    Its own exit code (4), so a script can tell "wait and retry" from every other failure.
    ``holder`` is the process id holding the store's lock when it could be found; the
    message says who that is (a ``kg serve`` at its URL, or another command) and what to do.
    """

    exit_code = 4

    def __init__(self, message: str, *, holder: int | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class AuthError(KGError):
    """A request that needs a token came without a usable one.

    Messages never quote the presented token: they say what was wrong with the header.
    """

    http_status = 401


class ForbiddenError(AuthError):
    """A well-formed token that is not (or no longer) accepted: unknown or revoked."""

    http_status = 403


class NotAllowedError(InputError):
    """A request this endpoint's policy refuses whoever sends it (``SERVICE`` to a host not
    allowed, a backup asked without the control secret)."""

    http_status = 403


class ProtectedGraphError(NotAllowedError):
    """A write aimed at a graph only the store itself writes (receipts, staging)."""

    http_status = 403


class TooLargeError(InputError):
    """A request body over the configured limit."""

    http_status = 413


class UriTooLongError(InputError):
    """A query string over the configured limit."""

    http_status = 414


class NotAcceptableError(InputError):
    """None of the formats offered for this answer fits the request's ``Accept`` or ``format=``."""

    http_status = 406


class UnsupportedMediaTypeError(InputError):
    """A request body in a format that is not read here."""

    http_status = 415


class NotFoundError(KGError):
    """No such resource, graph, dump or file."""

    exit_code = 2
    http_status = 404


class QueryRejected(KGError):
    """A query worker answered with an error before sending any result (a bad query, nothing
    acceptable, …); the worker decided the status, which travels with the message."""

    exit_code = 2

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status


class QueryTimeout(StoreError):
    """The query ran out of time (the worker that ran it was stopped), or no worker was free
    within the time limit."""


class QueryLimitExceeded(StoreError):
    """A query was stopped at one of the limits that keep the endpoint alive for everyone
    else: its worker's memory (``query_memory_mb``), the memory of every worker and the
    server together (``max_rss_mb``), or the size of its result (``max_result_bytes``). The
    message names the setting, so an operator knows what to raise and a client what to
    narrow."""


class RateLimited(KGError):
    """A client (an address) has used its share of query time (``client_query_seconds``
    per ``client_window_seconds``); it may ask again after ``retry_after`` seconds, which
    the HTTP answer carries as ``Retry-After``."""

    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ValidationFailed(KGError):
    """A write that would break the shapes (a ``sh:Violation``); nothing was written.

    Carries the :class:`kg.validation.model.ValidationReport` so callers can render it.
    """

    exit_code = 1
    http_status = 422

    def __init__(self, message: str, *, report: object) -> None:
        super().__init__(message)
        self.report = report


class ReasonerError(KGError):
    """The OWL reasoner could not run (for example, Java is missing)."""

    exit_code = 3
