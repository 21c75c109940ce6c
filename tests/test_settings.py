"""Settings come from FLEETREG_* variables, with the documented defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from fleetreg.settings import Settings, unknown_variables

README = Path(__file__).parent.parent / "README.md"


def test_defaults() -> None:
    settings = Settings()
    assert settings.data_dir == Path("./var")
    assert settings.database_url is None
    assert settings.uses_embedded_database
    assert settings.embedded_dir == Path("./var/postgres")
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert settings.log_level == "info"
    assert settings.fleet_auth == "none"
    assert settings.max_body_bytes == 1024 * 1024


def test_read_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETREG_PORT", "9001")
    monkeypatch.setenv("FLEETREG_WORKERS", "3")
    monkeypatch.setenv("FLEETREG_DATA_DIR", "/srv/fleetreg")
    monkeypatch.setenv("FLEETREG_DATABASE_URL", "postgresql://app@db.internal/fleetreg")
    monkeypatch.setenv("FLEETREG_FLEET_AUTH", "required")
    monkeypatch.setenv("PORT", "1")  # unprefixed: ignored
    settings = Settings()
    assert (settings.port, settings.workers) == (9001, 3)
    assert settings.data_dir == Path("/srv/fleetreg")
    assert settings.database_url == "postgresql://app@db.internal/fleetreg"
    assert not settings.uses_embedded_database
    assert settings.fleet_auth == "required"


def test_empty_database_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETREG_DATABASE_URL", "")
    assert Settings().uses_embedded_database


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLEETREG_PORT", "eighty"),
        ("FLEETREG_PORT", "70000"),
        ("FLEETREG_WORKERS", "0"),
        ("FLEETREG_LOG_LEVEL", "chatty"),
        ("FLEETREG_FLEET_AUTH", "sometimes"),
        ("FLEETREG_DATABASE_URL", "mysql://x"),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_readme_documents_every_setting() -> None:
    documented = set(re.findall(r"^\| `FLEETREG_([A-Z_]+)` \|", README.read_text(), re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert documented == fields


def test_the_statement_cache_is_off_behind_a_pooler() -> None:
    """A separate direct URL says DATABASE_URL is a pooler's: asyncpg's cache off (unnamed statements,
    as PgBouncer 1.18 in transaction mode needs), unless it is set (PgBouncer 1.21+ with
    max_prepared_statements)."""
    direct = "postgresql://app@db/fleetreg"
    assert Settings(database_url=direct).statement_cache_size == 100
    assert Settings(database_url=direct, direct_database_url=direct).statement_cache_size == 100
    pooled = Settings(database_url="postgresql://app@pgbouncer:6432/fleetreg", direct_database_url=direct)
    assert pooled.uses_pooler
    assert pooled.statement_cache_size == 0
    assert pooled.model_copy(update={"db_statement_cache": 200}).statement_cache_size == 200


def test_replica_urls_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETREG_READ_DATABASE_URL", "postgresql://r1/db, postgresql://r2/db")
    assert Settings().read_database_url == ["postgresql://r1/db", "postgresql://r2/db"]
    monkeypatch.setenv("FLEETREG_READ_DATABASE_URL", "mysql://r1/db")
    with pytest.raises(ValidationError):
        Settings()


def test_unknown_variables_are_named() -> None:
    environ = {"FLEETREG_PORT": "1", "FLEETREG_READ_DATABASE_URLS": "x", "FLEETREG_TEST_DATABASE_URL": "y", "HOME": "/"}
    assert unknown_variables(environ) == ["FLEETREG_READ_DATABASE_URLS"]
