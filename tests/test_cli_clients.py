"""`fleetreg clients`: create (secret shown once, stored hashed), list (no secrets), revoke."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import asyncpg

FLEETREG = [sys.executable, "-m", "fleetreg"]


def run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
    env["FLEETREG_DATABASE_URL"] = database_url
    return subprocess.run([*FLEETREG, *args], env=env, capture_output=True, text=True, timeout=60)


async def test_create_list_revoke(database_url: str, db: asyncpg.Connection) -> None:
    created = run(
        database_url,
        "clients", "create", "--partner", "acme", "--create-partner",
        "--scope", "connectors:write connectors:read", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    client: dict[str, Any] = json.loads(created.stdout)
    assert set(client) == {"client_id", "client_secret", "partner_id", "enterprise_id", "scope"}
    assert client["scope"] == "connectors:read connectors:write"
    row = await db.fetchrow(
        "SELECT c.secret_hash, p.name FROM oauth_clients c JOIN partners p ON p.id = c.partner_id WHERE c.id = $1",
        client["client_id"],
    )
    assert row["name"] == "acme"
    assert row["secret_hash"].startswith("$argon2id$")
    assert client["client_secret"] not in row["secret_hash"]

    second = json.loads(
        run(database_url, "clients", "create", "--partner", "acme", "--scope", "customers:read", "--json").stdout
    )
    assert second["partner_id"] == client["partner_id"], "the existing partner is reused"

    listed = run(database_url, "clients", "list", "--json")
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [line["id"] for line in lines] == [client["client_id"], second["client_id"]]
    assert client["client_secret"] not in listed.stdout
    assert all(line["revoked_at"] is None for line in lines)

    table = run(database_url, "clients", "list").stdout.splitlines()
    assert table[0].split() == ["CLIENT", "STATE", "PARTNER", "/", "ENTERPRISE", "SCOPE"]
    assert [line.split()[:3] for line in table[1:]] == [[client["client_id"], "active", "acme"],
                                                        [second["client_id"], "active", "acme"]]  # fmt: skip

    revoked = run(database_url, "clients", "revoke", client["client_id"])
    assert revoked.returncode == 0
    assert await db.fetchval("SELECT revoked_at IS NOT NULL FROM oauth_clients WHERE id = $1", client["client_id"])
    again = run(database_url, "clients", "revoke", client["client_id"])
    assert again.returncode == 0
    assert "already revoked" in again.stdout


def test_user_mistakes_are_one_line(database_url: str) -> None:
    cases = [
        (["clients", "create", "--partner", "acme", "--scope", "connectors:fly"], 2, "unknown scope connectors:fly"),
        (["clients", "create", "--scope", "connectors:read"], 2, "needs --partner"),
        (["clients", "create", "--scope", "fleet:read", "--enterprise", "AAAAAAAAAAAAAAA"], 2, "no enterprise"),
        (["clients", "revoke", "cl_nobody"], 1, "no client with id cl_nobody"),
    ]
    for args, code, message in cases:
        result = run(database_url, *args)
        assert result.returncode == code, (args, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("fleetreg: error: ")
        assert message in result.stderr


async def test_an_unknown_partner_is_refused_unless_asked_to_create_it(
    database_url: str, db: asyncpg.Connection
) -> None:
    typo = run(database_url, "clients", "create", "--partner", "acmee", "--scope", "connectors:read")
    assert typo.returncode == 2
    assert typo.stderr == (
        "fleetreg: error: no partner named 'acmee' (`fleetreg partners list` shows them; "
        "--create-partner makes a new one)\n"
    )
    assert await db.fetchval("SELECT count(*) FROM partners") == 0
    assert await db.fetchval("SELECT count(*) FROM oauth_clients") == 0

    made = run(database_url, "clients", "create", "--partner", "acme", "--create-partner", "--scope", "connectors:read")
    assert made.returncode == 0, made.stderr
    alone = run(database_url, "clients", "create", "--create-partner", "--scope", "fleet:read")
    assert alone.returncode == 2
    assert alone.stderr == "fleetreg: error: --create-partner needs --partner NAME\n"


async def test_partners_list(database_url: str) -> None:
    assert run(database_url, "partners", "list", "--json").stdout == ""
    for partner in ("globex", "acme", "acme"):
        created = run(
            database_url, "clients", "create", "--partner", partner, "--create-partner", "--scope", "customers:read"
        )
        assert created.returncode == 0, created.stderr
    listed = run(database_url, "partners", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(row["name"], row["active_clients"]) for row in rows] == [("acme", 2), ("globex", 1)]
    assert set(rows[0]) == {"id", "name", "created_at", "active_clients"}
    text = run(database_url, "partners", "list").stdout.splitlines()
    assert [line.split()[-1] for line in text] == ["acme", "globex"]
