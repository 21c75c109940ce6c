"""API clients as the tests hold them, scope strings, and the claims of a token."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fleetreg.auth.scopes import ALL_SCOPES, PARTNER_SCOPES

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
