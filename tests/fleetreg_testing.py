"""What several test modules share: API clients, server options, and running the CLI as a user would.

(Not in conftest.py: test modules must not import conftest, which pytest loads under a name that
another directory's conftest.py could take.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from fleetreg.auth.scopes import ALL_SCOPES, PARTNER_SCOPES

# Durability is irrelevant for throw-away test databases; speed is not.
TEST_SERVER_OPTIONS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}


def database_url_for(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path="/" + database))


EVERY_PARTNER_SCOPE = " ".join(PARTNER_SCOPES)
EVERY_SCOPE = " ".join(ALL_SCOPES)


@dataclass(frozen=True)
class ApiClient:
    """An OAuth client created as `fleetreg clients create` would, with a token signed by the app."""

    client_id: str
    client_secret: str
    partner_id: uuid.UUID | None
    enterprise_id: str | None
    scope: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MakeApiClient = Callable[..., Awaitable[ApiClient]]


def claims_for(api: ApiClient, **changes: Any) -> dict[str, Any]:
    """The claims fleetreg puts in a token of ``api``'s client, with ``changes`` (None leaves one out)."""
    now = int(time.time())
    claims = {
        "iss": "fleetreg",
        "aud": "fleetreg",
        "sub": api.client_id,
        "iat": now,
        "exp": now + 600,
        "scope": api.scope,
        "partner_id": str(api.partner_id),
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


FLEETREG = [sys.executable, "-m", "fleetreg"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
    env.update(extra)
    return env


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            response = httpx.get(url + "/readyz", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not become ready")
