"""One ``Settings`` object: defaults < ``kg.toml`` < ``KG_*`` environment < command line.

This module is the only reader of the environment, so every other module gets its
configuration as an argument and can be tested without touching ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from kg.errors import ConfigError

__all__ = ["Settings", "load_settings", "default_store_path"]

APP_NAME = "negotiation-kg"
ENV_PREFIX = "KG_"


def default_store_path() -> Path:
    """The embedded store's default directory, under the user's data directory."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "store"


@dataclass(frozen=True)
class Settings:
    """Everything a command or the server needs to know about its environment.

    ``store`` is a directory (embedded pyoxigraph store) or an ``http(s)`` URL of a
    remote SPARQL 1.1 endpoint. ``corpus`` is a directory with ``documents/`` and
    ``annotations/``; ``None`` means the corpus that ships with the package.
    """

    store: str = field(default_factory=lambda: str(default_store_path()))
    corpus: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    read_only: bool = False
    #: the longest a SPARQL query may run, in seconds; a request may ask for less (``timeout=``)
    query_timeout: float = 30.0
    #: query worker processes (each can be killed when its query runs out of time)
    workers: int = 4
    #: resident memory (MiB) one query worker may use; a query that needs more is stopped (503).
    #: 4 workers × 384 MiB plus the server fit under ``max_rss_mb``; 0 means no limit
    query_memory_mb: int = 384
    #: resident memory (MiB) of the server and its query workers together; past it the largest
    #: running query is stopped (503); 0 means no limit
    max_rss_mb: int = 2048
    #: largest SPARQL result sent, in bytes; a result that grows past it is cut off (before the
    #: first byte is sent: a 503 that says so); 0 means no limit
    max_result_bytes: int = 100_000_000
    #: query time (seconds of a worker) one client address may use per ``client_window_seconds``;
    #: then 429 with ``Retry-After``. 0 means no budget
    client_query_seconds: float = 60.0
    #: the sliding window of ``client_query_seconds``, in seconds
    client_window_seconds: float = 60.0
    #: memory (MiB) for answers kept while the store does not change: query results and pages,
    #: least recently used dropped first, all dropped at every commit; 0 turns the cache off
    answer_cache_mb: int = 64
    #: largest single answer kept in that cache, in KiB (larger answers are always evaluated)
    answer_cache_entry_kb: int = 1024
    #: a query text a worker answered whole within this many milliseconds is answered in the
    #: server's own process the next times it comes while the store is unchanged (no pipe, no
    #: second process woken: a light query costs half the CPU); 0 sends every query to a worker
    inline_query_ms: float = 2.0
    #: largest accepted SPARQL request body or query string, in bytes
    max_query_bytes: int = 1_000_000
    #: largest accepted Graph Store Protocol request body (RDF to store), in bytes
    max_body_bytes: int = 100_000_000
    #: IRI prefixes that SERVICE (and LOAD) may reach, comma-separated; empty refuses all
    service_allow: str = ""
    #: deepest nesting accepted in client text before any parser reads it: groups, brackets and
    #: parentheses of SPARQL queries and updates, blank nodes, lists and formulas of Turtle, TriG
    #: and N3, objects and arrays of JSON-LD, elements of RDF/XML (parsers that recurse crash on
    #: a few thousand levels)
    max_nesting: int = 200
    # --- a remote SPARQL 1.1 store (``store`` is then its query endpoint URL) ---
    #: SPARQL Update endpoint; empty means the query endpoint
    update_url: str = ""
    #: Graph Store Protocol endpoint; empty means the dialect's default (Virtuoso: ``/sparql-graph-crud``),
    #: or none (bulk loads then go through SPARQL Update)
    graph_store_url: str = ""
    #: ``auto`` (from the Server header), ``virtuoso`` or ``generic`` (Fuseki, GraphDB, QLever, …)
    remote_dialect: str = "auto"
    #: ``none``, ``basic``, ``digest`` or ``bearer``; credentials only from kg.toml or the environment
    remote_auth: str = "none"
    remote_user: str = ""
    remote_password: str = field(default="", repr=False)
    remote_token: str = field(default="", repr=False)
    #: seconds to connect, and to wait between bytes of an answer
    remote_timeout: float = 60.0
    #: retries of a request that failed in transit (connection refused or reset, 502/503/504)
    remote_retries: int = 3
    #: the server's cap on result rows (Virtuoso's ResultSetMaxRows); 0 means the dialect's default
    remote_max_rows: int = 0
    #: triples per request when uploading, and per page when reading whole graphs
    remote_chunk_triples: int = 5000
    #: the graph the remote store keeps the union of its named graphs in (the default graph of
    #: queries); empty means ``…/id/graph/kg-union``
    remote_union_graph: str = ""
    #: the graph listing the named graphs this store manages; empty means ``…/id/graph/kg-catalogue``
    remote_catalogue_graph: str = ""
    #: the JSON file of write tokens (hashed); ``None`` means ``<store>.tokens.json`` beside the store
    tokens_file: Path | None = None
    #: when true, reads (queries, pages, dumps) need a token too; writes always do
    read_token_required: bool = False
    #: memory (MiB) that validating files may use for an in-memory store, estimated from their
    #: size; larger inputs go to a temporary on-disk store (several times slower to query)
    validate_memory_mb: int = 3072
    #: let a forked twin process load a second in-memory copy of files from 8 MB on, and share
    #: the queries with it (Linux, two cores): a little faster, for twice the memory
    validate_twin: bool = False
    #: how command-line writes show progress: ``auto`` (a bar on a terminal after two seconds,
    #: nothing otherwise), ``lines`` (one line per stage on stderr, for logs) or ``off``
    progress: str = "auto"
    # --- kg draft ---
    #: the drafting backend: ``rules`` (offline, no model), ``spacy`` (an installed pipeline) or
    #: ``openai`` (a chat model behind an OpenAI-compatible endpoint)
    draft_backend: str = "rules"
    #: the OpenAI-compatible endpoint's base URL (``http://127.0.0.1:8080/v1`` for llama.cpp)
    draft_endpoint: str = ""
    #: the chat model's name (``openai``) or the installed spaCy pipeline (``spacy``); empty: the default
    draft_model: str = ""
    #: the endpoint's API key, if it wants one (only from kg.toml or ``KG_DRAFT_API_KEY``)
    draft_api_key: str = field(default="", repr=False)

    @property
    def service_allow_list(self) -> tuple[str, ...]:
        """The allowed SERVICE/LOAD IRI prefixes."""
        return tuple(p.strip() for p in self.service_allow.split(",") if p.strip())

    @property
    def tokens_path(self) -> Path:
        """Where the tokens live: ``tokens_file``, or a file beside the store directory.

        Beside, not inside: the store directory belongs to pyoxigraph, and a backup of
        the data should not carry the credentials that may write to it.
        """
        if self.tokens_file is not None:
            return self.tokens_file
        if self.store_is_remote:
            return Path(platformdirs.user_data_dir(APP_NAME)) / "remote.tokens.json"
        store = Path(self.store)
        return store.parent / f"{store.name}.tokens.json"

    @property
    def store_is_remote(self) -> bool:
        """True when the store is a remote SPARQL endpoint rather than a directory."""
        return self.store.startswith(("http://", "https://"))

    def replace(self, **changes: Any) -> "Settings":
        """A copy with ``changes`` applied; ``None`` values are ignored (an option not given)."""
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **_coerce(given))


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _FIELDS:
            raise ConfigError(f"unknown setting {key!r}; known: {', '.join(sorted(_FIELDS))}")
        kind = _FIELDS[key].type
        try:
            if key in ("corpus", "tokens_file"):
                out[key] = Path(value).expanduser()
            elif kind == "int":
                out[key] = int(value)
            elif kind == "float":
                out[key] = float(value)
            elif kind == "bool":
                out[key] = value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}
            else:
                out[key] = str(Path(value).expanduser()) if key == "store" and "://" not in str(value) else str(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"setting {key!r}: cannot use {value!r} ({exc})") from None
    return out


def load_settings(
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from every source, the later ones winning.

    ``config_file`` defaults to ``$KG_CONFIG`` or ``./kg.toml`` when it exists; its
    keys are the field names of :class:`Settings`. Environment variables are the
    upper-cased field names prefixed ``KG_`` (``KG_STORE``, ``KG_PORT``…).
    ``overrides`` come from the command line; ``None`` means "not given".
    """
    env = os.environ if environ is None else environ
    settings = Settings()
    path = config_file or (Path(env["KG_CONFIG"]) if "KG_CONFIG" in env else Path("kg.toml"))
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        settings = settings.replace(**data)
    elif config_file is not None:
        raise ConfigError(f"{config_file}: no such configuration file")
    from_env = {
        name: env[ENV_PREFIX + name.upper()] for name in _FIELDS if ENV_PREFIX + name.upper() in env
    }
    return settings.replace(**from_env).replace(**overrides)
