"""Settings, read from the environment with the prefix ``FLEETREG_`` (see the README's table)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["debug", "info", "warning", "error"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLEETREG_", extra="ignore", frozen=True, enable_decoding=False)

    data_dir: Path = Field(Path("./var"), description="Embedded database, signing keys and runtime files.")
    database_url: str | None = Field(
        None, description="PostgreSQL URL; absent: the embedded server under DATA_DIR/postgres."
    )
    direct_database_url: str | None = Field(
        None,
        description="PostgreSQL itself, not a pooler: LISTEN/NOTIFY, migrations and session advisory locks; "
        "absent: DATABASE_URL.",
    )
    read_database_url: list[str] = Field(
        default_factory=list,
        description="Streaming replicas (comma-separated) for the read-only list and get endpoints.",
    )
    read_after_write_seconds: float = Field(
        2.0, ge=0, description="A client's reads go to the primary for this long after its last write."
    )
    replica_max_lag_seconds: float = Field(
        5.0, gt=0, description="A replica further behind than this is skipped until it catches up."
    )
    db_statement_cache: int | None = Field(
        None,
        ge=0,
        le=10000,
        description="asyncpg's prepared statements cached per connection; 0: unnamed statements (PgBouncer "
        "before 1.21 in transaction mode). Absent: 0 when DIRECT_DATABASE_URL differs from DATABASE_URL "
        "(a pooler), else 100.",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    log_level: LogLevel = "info"
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="`json` lines, or `text` for people; `auto`: text when stderr is a terminal."
    )
    fleet_auth: Literal["none", "required"] = Field(
        "none", description="`required`: the fleet API demands a bearer token with fleet:read/fleet:write."
    )

    db_pool_min: int = Field(2, ge=0, le=100)
    db_pool_max: int = Field(10, ge=1, le=200)
    db_timeout: float = Field(
        5.0, gt=0, description="Seconds a request waits for a connection or a statement before a 503."
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Larger request bodies get 413.")

    token_issuer: str = Field("fleetreg", description="`iss` of the tokens this service signs.")
    token_audience: str = Field("fleetreg", description="`aud` the tokens must carry.")
    token_ttl: int = Field(3600, ge=60, le=86400, description="Lifetime of an access token in seconds.")
    signing_key_file: Path | None = Field(
        None, description="PEM EC P-256 private key; absent: DATA_DIR/keys, created on first start."
    )
    external_issuer: str | None = Field(None, description="Also trust tokens from this issuer ...")
    external_audience: str | None = Field(None, description="... with this audience ...")
    external_jwks_url: str | None = Field(None, description="... signed by a key published here.")

    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (CORS), comma-separated; `*` allows any. "
        "Empty (the default): CORS is off.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Reverse proxies (addresses, comma-separated) whose X-Forwarded-For names the client.",
    )

    public_url: str | None = Field(
        None,
        description="The address people reach the service at (https://fleet.example.com); with https the "
        "console's cookies are Secure.",
    )
    console_session_ttl: int = Field(
        8 * 3600, ge=60, le=30 * 86400, description="Seconds a console sign-in lasts before it expires."
    )
    console_lockout_failures: int = Field(
        5, ge=1, le=100, description="Failed console sign-ins in a row that lock the operator's account."
    )
    console_lockout_seconds: int = Field(
        900, ge=1, le=86400, description="How long a locked console account stays locked."
    )

    event_retention_days: int = Field(
        90, ge=0, le=36500, description="Days change events are kept (the audit trail); 0 keeps them all."
    )
    webhook_allow_private: bool = Field(
        False,
        description="Allow webhook URLs on loopback and private addresses (development, tests); never link-local.",
    )

    rate_limit: float = Field(
        0, ge=0, description="Requests per second per client (token bucket, burst = 2 x rate); 0: off."
    )
    rate_limit_url: str | None = Field(
        None, description="redis://host:port/db: the rate limit's buckets there; absent: in PostgreSQL."
    )

    @field_validator("cors_origins", "trusted_proxies", "read_database_url", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("database_url", "direct_database_url")
    @classmethod
    def _url_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        return _postgresql_url(value)

    @field_validator("read_database_url")
    @classmethod
    def _url_schemes(cls, value: list[str]) -> list[str]:
        return [_postgresql_url(url) for url in value]

    @field_validator("rate_limit_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @property
    def uses_pooler(self) -> bool:
        """A separate direct URL says the main one is a pooler's (PgBouncer in transaction mode)."""
        return self.direct_database_url is not None and self.direct_database_url != self.database_url

    @property
    def statement_cache_size(self) -> int:
        if self.db_statement_cache is not None:
            return self.db_statement_cache
        return 0 if self.uses_pooler else 100

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_dir(self) -> Path:
        return self.data_dir / "postgres"


def _postgresql_url(value: str) -> str:
    if not value.startswith(("postgresql://", "postgres://")):
        raise ValueError("must start with postgresql://")
    return value


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """The FLEETREG_* variables that name no setting (a typo must not pass silently)."""
    known = {f"FLEETREG_{name.upper()}" for name in Settings.model_fields}
    return sorted(
        name
        for name in environ
        if name.startswith("FLEETREG_") and name not in known and not name.startswith(TEST_VARIABLES)
    )


# The test suite's own variables (FLEETREG_TEST_DATABASE_URL...), which the server never reads.
TEST_VARIABLES = "FLEETREG_TEST_"
