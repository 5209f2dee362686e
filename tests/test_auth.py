"""Write tokens: stored hashed, revocable, checked at the HTTP door, never echoed."""

from __future__ import annotations

import json
import logging
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI

from kg.config import Settings, load_settings
from kg.errors import AuthError, ForbiddenError, InputError
from kg.ops.tokens import agent_for, create_token, list_tokens, revoke_token
from kg.server import create_app
from kg.server.auth import require_writer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ASK = "ASK { ?s ?p ?o }"


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(store=str(tmp_path / "store"))


def test_tokens_file_defaults_beside_the_store_and_can_be_set(tmp_path: Path) -> None:
    assert Settings(store=str(tmp_path / "data" / "kg")).tokens_path == tmp_path / "data" / "kg.tokens.json"
    env = {"KG_TOKENS_FILE": str(tmp_path / "t.json"), "KG_READ_TOKEN_REQUIRED": "true"}
    loaded = load_settings(environ=env, config_file=None, store=str(tmp_path / "s"))
    assert loaded.tokens_path == tmp_path / "t.json" and loaded.read_token_required is True


def test_secret_is_stored_only_as_a_hash(settings: Settings) -> None:
    secret = create_token(settings, "archivist-1")
    text = settings.tokens_path.read_text(encoding="utf-8")
    assert secret not in text
    (entry,) = json.loads(text)["tokens"]
    assert entry["name"] == "archivist-1" and len(entry["sha256"]) == 64 and entry["revoked"] is False
    assert stat.S_IMODE(settings.tokens_path.stat().st_mode) == 0o600
    assert agent_for(settings, f"Bearer {secret}") == "archivist-1"
    assert agent_for(settings, f"bearer   {secret}  ") == "archivist-1"


def test_each_token_is_its_own_agent(settings: Settings) -> None:
    a, b = create_token(settings, "alice"), create_token(settings, "bob")
    assert a != b
    assert agent_for(settings, f"Bearer {a}") == "alice"
    assert agent_for(settings, f"Bearer {b}") == "bob"
    assert [t.name for t in list_tokens(settings)] == ["alice", "bob"]


def test_names_are_unique_and_plain(settings: Settings) -> None:
    create_token(settings, "alice")
    with pytest.raises(InputError, match="already exists"):
        create_token(settings, "alice")
    revoke_token(settings, "alice")
    with pytest.raises(InputError, match="already exists"):
        create_token(settings, "alice")  # a revoked name stays taken
    for bad in ["", "has space", "-dash-first", "x" * 65, "ünï"]:
        with pytest.raises(InputError, match="token name"):
            create_token(settings, bad)


@pytest.mark.parametrize("header", [None, "", "   ", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc"])
def test_missing_or_malformed_header_is_401(settings: Settings, header: str | None) -> None:
    create_token(settings, "alice")
    with pytest.raises(AuthError) as info:
        agent_for(settings, header)
    assert info.value.http_status == 401 and not isinstance(info.value, ForbiddenError)
    value = (header or "").strip().partition(" ")[2].strip()
    if len(value) > 3:
        assert value not in str(info.value)


def test_unknown_and_revoked_tokens_are_403(settings: Settings) -> None:
    secret = create_token(settings, "alice")
    with pytest.raises(ForbiddenError, match="not known"):
        agent_for(settings, "Bearer kgt_not-a-real-token")
    revoke_token(settings, "alice")
    with pytest.raises(ForbiddenError, match="revoked") as info:
        agent_for(settings, f"Bearer {secret}")
    assert info.value.http_status == 403 and secret not in str(info.value)
    assert [(t.name, t.revoked) for t in list_tokens(settings)] == [("alice", True)]


def test_no_tokens_file_means_every_token_is_unknown(settings: Settings) -> None:
    assert list_tokens(settings) == []
    with pytest.raises(ForbiddenError):
        agent_for(settings, "Bearer kgt_anything")


def test_revoking_an_unknown_name_says_so(settings: Settings) -> None:
    with pytest.raises(InputError, match="no token named 'ghost'"):
        revoke_token(settings, "ghost")


# --- HTTP ----------------------------------------------------------------------------


def _app_with_write_probe(settings: Settings) -> FastAPI:
    """The real app plus one route guarded the way every write route is."""
    app = create_app(settings)

    @app.post("/probe-write")
    def probe(agent: str = Depends(require_writer)) -> dict[str, str]:
        return {"agent": agent}

    return app


@pytest.fixture()
def write_client(store_path: Path, tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(store=str(store_path), read_only=True, workers=1, tokens_file=tmp_path / "tokens.json")
    with TestClient(_app_with_write_probe(settings)) as client:
        yield client, settings


def test_writer_needs_a_valid_token(write_client: tuple[TestClient, Settings], caplog: pytest.LogCaptureFixture) -> None:
    client, settings = write_client
    secret = create_token(settings, "archivist")
    caplog.set_level(logging.DEBUG)

    missing = client.post("/probe-write")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert set(missing.json()) == {"error", "status", "message"} and "Bearer" in missing.json()["message"]

    wrong = client.post("/probe-write", headers={"Authorization": "Bearer kgt_wrong-secret"})
    assert wrong.status_code == 403 and 'error="invalid_token"' in wrong.headers["www-authenticate"]
    assert "kgt_wrong-secret" not in wrong.text

    ok = client.post("/probe-write", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200 and ok.json() == {"agent": "archivist"}

    revoke_token(settings, "archivist")
    revoked = client.post("/probe-write", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 403 and "revoked" in revoked.json()["message"]
    assert secret not in revoked.text
    assert secret not in caplog.text and "kgt_wrong-secret" not in caplog.text


def test_reads_are_open_by_default(write_client: tuple[TestClient, Settings]) -> None:
    client, _ = write_client
    assert client.get("/sparql", params={"query": ASK}).status_code == 200


def test_reads_can_require_a_token(store_path: Path, tmp_path: Path) -> None:
    settings = Settings(
        store=str(store_path), read_only=True, workers=1, tokens_file=tmp_path / "t.json", read_token_required=True
    )
    secret = create_token(settings, "reader")
    with TestClient(create_app(settings)) as client:
        assert client.get("/sparql", params={"query": ASK}).status_code == 401
        assert client.get("/id/actor/vladimir-putin").status_code == 401
        bad = client.get("/sparql", params={"query": ASK}, headers={"Authorization": "Bearer kgt_nope"})
        assert bad.status_code == 403
        ok = client.get("/sparql", params={"query": ASK}, headers={"Authorization": f"Bearer {secret}"})
        assert ok.status_code == 200 and ok.json()["boolean"] is True


# --- kg token ------------------------------------------------------------------------


def test_token_commands(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    store = ["--store", str(tmp_path / "store")]
    runner = CliRunner()
    created = runner.invoke(main, [*store, "token", "create", "archivist"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("kgt_") and "\n" not in secret
    assert "cannot be shown again" in created.stderr
    settings = Settings(store=str(tmp_path / "store"))
    assert agent_for(settings, f"Bearer {secret}") == "archivist"

    again = runner.invoke(main, [*store, "token", "create", "archivist"])
    assert again.exit_code == 2 and "already exists" in again.output

    listed = runner.invoke(main, [*store, "token", "list"])
    assert listed.exit_code == 0 and "archivist" in listed.stdout and "active" in listed.stdout
    assert secret not in listed.output

    revoked = runner.invoke(main, [*store, "token", "revoke", "archivist"])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(main, [*store, "token", "list"]).stdout
    with pytest.raises(ForbiddenError):
        agent_for(settings, f"Bearer {secret}")
    unknown = runner.invoke(main, [*store, "token", "revoke", "nobody"])
    assert unknown.exit_code == 2 and "no token named 'nobody'" in unknown.output


def test_browsers_may_send_a_token_cross_origin(write_client: tuple[TestClient, Settings]) -> None:
    client, _ = write_client
    preflight = client.options(
        "/graph-store",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "PUT" in preflight.headers["access-control-allow-methods"]
