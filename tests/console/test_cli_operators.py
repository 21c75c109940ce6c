"""`fleetreg operators`: create (a generated password shown once, or read from stdin; stored as an
argon2 hash), list (no hashes), disable, reset-password; the role's partner or enterprise must exist."""

from __future__ import annotations

import json
import subprocess

import asyncpg
from argon2 import PasswordHasher

from tests.support.fleet import Fleet
from tests.support.processes import FLEETREG, environment


def run(database_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLEETREG, *args],
        env=environment(FLEETREG_DATABASE_URL=database_url),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_create_list_disable_reset(database_url: str, db: asyncpg.Connection, fleet: Fleet) -> None:
    created = run(database_url, "operators", "create", "--email", "ana@example.com", "--role", "admin", "--json")
    assert created.returncode == 0, created.stderr
    operator = json.loads(created.stdout)
    assert operator["role"] == "admin"
    password = operator["password"]
    assert len(password) == 20
    stored = await db.fetchval("SELECT password_hash FROM operators WHERE email = 'ana@example.com'")
    assert stored.startswith("$argon2id$")
    assert password not in stored
    assert PasswordHasher().verify(stored, password)

    enterprise = await fleet.enterprise()
    typed = run(
        database_url,
        "operators", "create", "--email", "cy@fleet.example", "--role", f"enterprise:{enterprise['id']}",
        "--password-stdin",
        stdin="typed password 123\n",
    )  # fmt: skip
    assert typed.returncode == 0, typed.stderr
    assert "password" not in typed.stdout.lower()
    stored = await db.fetchval("SELECT password_hash FROM operators WHERE email = 'cy@fleet.example'")
    assert PasswordHasher().verify(stored, "typed password 123")

    listed = [json.loads(line) for line in run(database_url, "operators", "list", "--json").stdout.splitlines()]
    assert [(line["email"], line["role"], line["disabled"]) for line in listed] == [
        ("ana@example.com", "admin", False),
        ("cy@fleet.example", f"enterprise:{enterprise['id']}", False),
    ]
    assert "$argon2" not in run(database_url, "operators", "list").stdout

    assert run(database_url, "operators", "disable", "ana@example.com").returncode == 0
    assert await db.fetchval("SELECT disabled_at IS NOT NULL FROM operators WHERE email = 'ana@example.com'")

    reset = run(database_url, "operators", "reset-password", "cy@fleet.example", "--json")
    assert reset.returncode == 0, reset.stderr
    new_password = json.loads(reset.stdout)["password"]
    stored = await db.fetchval("SELECT password_hash FROM operators WHERE email = 'cy@fleet.example'")
    assert PasswordHasher().verify(stored, new_password)


async def test_refusals_are_one_line_errors(database_url: str, db: asyncpg.Connection) -> None:
    cases = [
        (("--email", "a@example.com", "--role", "boss"), 2, "is none of admin, partner:NAME, enterprise:ID"),
        (("--email", "a@example.com", "--role", "partner:nobody"), 1, "no partner named 'nobody'"),
        (("--email", "a@example.com", "--role", "enterprise:AAAAAAAAAAAAAAA"), 1, "no enterprise AAAAAAAAAAAAAAA"),
        (("--email", "not-an-email", "--role", "admin"), 1, "is not an email address"),
    ]
    for args, code, message in cases:
        result = run(database_url, "operators", "create", *args)
        assert result.returncode == code, (args, result.stderr)
        assert result.stderr.startswith("fleetreg: error: ")
        assert message in result.stderr
    short = run(database_url, "operators", "create", "--email", "a@example.com", "--role", "admin",
                "--password-stdin", stdin="short\n")  # fmt: skip
    assert short.returncode == 2
    assert "12 characters at least" in short.stderr
    assert run(database_url, "operators", "create", "--email", "a@example.com", "--role", "admin").returncode == 0
    again = run(database_url, "operators", "create", "--email", "A@Example.com", "--role", "admin")
    assert again.returncode == 1
    assert "exists already" in again.stderr
    assert run(database_url, "operators", "disable", "nobody@example.com").returncode == 1
    assert await db.fetchval("SELECT count(*) FROM operators") == 1
