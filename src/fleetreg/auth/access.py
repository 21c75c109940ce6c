"""Who may call an operation, as routes declare it: ``partner_scope(...)`` (partner API) and
``fleet_access(write=...)`` (fleet API, open unless FLEETREG_FLEET_AUTH=required)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleetreg.auth.guard import TokenGuard
from fleetreg.auth.ratelimit import RateLimiter
from fleetreg.auth.revocations import RevokedClients
from fleetreg.auth.scopes import FLEET_SCOPES, PARTNER_SCOPES
from fleetreg.auth.tokens import InvalidToken, Principal, TokenService
from fleetreg.events.feed import Reader
from fleetreg.problems import Forbidden, TooManyRequests, Unauthorized
from fleetreg.web import Access, Request
from fleetreg.webhooks.service import Owner

_CHALLENGE = 'Bearer realm="fleetreg"'

PARTNER_SCHEME = "OAuth2ClientCredentials"
FLEET_SCHEME = "FleetClientCredentials"
# One scheme per API, both OAuth2 client credentials at /oauth/token, so that Swagger UI's Authorize
# gets a token for either from a client's id and secret, offering that API's scopes only.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    PARTNER_SCHEME: {
        "type": "oauth2",
        "description": "The partner API. Get a token at POST /oauth/token with a client's id and secret "
        "(fleetreg clients create); send it as `Authorization: Bearer <token>`.",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": PARTNER_SCOPES}},
    },
    FLEET_SCHEME: {
        "type": "oauth2",
        "description": "The fleet API, only when the service runs with FLEETREG_FLEET_AUTH=required. Get a token "
        "at POST /oauth/token with the id and secret of a client holding fleet:read or fleet:write (fleetreg "
        "clients create --scope ...); send it as `Authorization: Bearer <token>`.",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": FLEET_SCOPES}},
    },
}


@dataclass
class AuthState:
    """Per app: verifies tokens, knows revoked clients, limits request rates and token attempts."""

    tokens: TokenService
    revoked: RevokedClients
    limiter: RateLimiter
    token_guard: TokenGuard = field(default_factory=TokenGuard)


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")


async def authenticate(state: AuthState, authorization: str | None) -> Principal:
    """The caller behind ``Authorization: Bearer <token>``, or 401 (429 past the rate limit)."""
    if not authorization:
        raise Unauthorized("a bearer token is required", headers={"WWW-Authenticate": _CHALLENGE})
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "send the token as Authorization: Bearer <token>",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_request"'},
        )
    try:
        principal = await state.tokens.verify(token)
    except InvalidToken as error:
        raise Unauthorized(
            str(error),
            headers={
                "WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token", error_description="{_quoted(str(error))}"'
            },
        ) from error
    if state.limiter.enabled:
        wait = await state.limiter.retry_after(principal.client_id)
        if wait is not None:
            raise TooManyRequests(
                f"this client may send {state.limiter.rate:g} requests per second; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
    return principal


def _insufficient(scope: str) -> Forbidden:
    return Forbidden(
        f"the token lacks the scope {scope}",
        headers={"WWW-Authenticate": f'{_CHALLENGE}, error="insufficient_scope", scope="{scope}"'},
    )


async def partner_caller(state: AuthState, authorization: str | None, scope: str) -> Principal:
    """The partner-bound caller of a token holding ``scope``, or the 401/403/429 problem."""
    principal = await authenticate(state, authorization)
    if scope not in principal.scopes:
        raise _insufficient(scope)
    if principal.partner_id is None:
        raise Forbidden("this client acts for no partner")
    return principal


def partner_scope(scope: str) -> Access:
    """The partner-bound ``Principal`` of a token that holds ``scope``."""

    async def resolve(request: Request) -> Principal:
        return await partner_caller(request.state.auth, request.header(b"authorization"), scope)

    return Access(resolve, security=lambda _settings: [{PARTNER_SCHEME: [scope]}])


@dataclass(frozen=True)
class FleetAccess:
    """What a fleet request may see: one enterprise, or all of them (``enterprise_id`` None)."""

    enterprise_id: str | None = None


_OPEN = FleetAccess()


def fleet_access(*, write: bool) -> Access:
    scope = "fleet:write" if write else "fleet:read"

    async def resolve(request: Request) -> FleetAccess:
        state = request.state
        if state.settings.fleet_auth == "none":
            return _OPEN
        principal = await authenticate(state.auth, request.header(b"authorization"))
        if scope not in principal.scopes:
            raise _insufficient(scope)
        return FleetAccess(principal.enterprise_id)

    def security(settings: Any) -> list[dict[str, list[str]]] | None:
        return [{FLEET_SCHEME: [scope]}] if settings.fleet_auth == "required" else None

    return Access(resolve, security=security)


FLEET_READ = fleet_access(write=False)
FLEET_WRITE = fleet_access(write=True)


def events_reader() -> Access:
    """The reader of the event feed (docs/api.md §5): a partner's client with ``events:read`` reads its
    partner's events; any other caller the fleet's, as the fleet API admits it (``fleet:read`` when
    FLEETREG_FLEET_AUTH=required; an enterprise-bound client its enterprise's only)."""

    async def resolve(request: Request) -> Reader:
        state = request.state
        authorization = request.header(b"authorization")
        if authorization is None and state.settings.fleet_auth == "none":
            return Reader()
        principal = await authenticate(state.auth, authorization)
        if principal.partner_id is not None:
            if "events:read" not in principal.scopes:
                raise _insufficient("events:read")
            return Reader(partner_id=principal.partner_id)
        if state.settings.fleet_auth == "required" and "fleet:read" not in principal.scopes:
            raise _insufficient("fleet:read")
        return Reader(enterprise_id=principal.enterprise_id)

    def security(settings: Any) -> list[dict[str, list[str]]] | None:
        requirements: list[dict[str, list[str]]] = [{PARTNER_SCHEME: ["events:read"]}]
        if settings.fleet_auth == "required":
            return [*requirements, {FLEET_SCHEME: ["fleet:read"]}]
        return [*requirements, {}]

    return Access(resolve, security=security)


def webhook_owner() -> Access:
    """Whose webhooks a caller manages (docs/api.md §5), always with a token: a partner's client with
    ``webhooks:write`` its partner's; a fleet client with ``fleet:write`` the fleet's, as its
    enterprise binding sees them."""

    async def resolve(request: Request) -> Owner:
        principal = await authenticate(request.state.auth, request.header(b"authorization"))
        if principal.partner_id is not None:
            if "webhooks:write" not in principal.scopes:
                raise _insufficient("webhooks:write")
            return Owner(partner_id=principal.partner_id)
        if "fleet:write" not in principal.scopes:
            raise _insufficient("fleet:write")
        return Owner(enterprise_id=principal.enterprise_id)

    def security(settings: Any) -> list[dict[str, list[str]]]:
        # (a fleet client with fleet:write is admitted in either mode; the fleet's scheme is
        # documented where the fleet API itself needs tokens)
        requirements: list[dict[str, list[str]]] = [{PARTNER_SCHEME: ["webhooks:write"]}]
        if settings.fleet_auth == "required":
            requirements.append({FLEET_SCHEME: ["fleet:write"]})
        return requirements

    return Access(resolve, security=security)
