"""Access tokens: issue (ES256 JWT) and verify, with a per-token cache of verified principals.

Verification refuses a bad signature, ``alg: none`` and every algorithm but the key's own, an
unknown key id, a wrong audience or issuer, a token without exp/iat/iss/aud/sub/scope, an expired
one, and one whose client has been revoked (checked on every request, cached or not). A token of
ours met for the first time (not in the cache) is accepted only while its client exists and is not
revoked in the database (``active_client``): after ``fleetreg db restore`` the cache is emptied
(``RevokedClients.on_reset``), so that a client the restore took away loses its tokens at once.

Every claim has its type and range checked here rather than by PyJWT, which takes ``"iat": "123"``,
``true`` or ``1e300`` for numbers (``int()`` of them): the times are integers (JSON numbers without
a fraction, not booleans), ``iat`` not in the future, ``nbf`` passed, ``exp`` after ``iat`` and at
most ``MAX_LIFETIME`` after it, so that no token is valid for ever; the strings are strings of
bounded length. A claim that fails is a 401 naming it, never a 500.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt

from fleetreg.auth.keys import ALGORITHM, KeyRing
from fleetreg.auth.revocations import RevokedClients
from fleetreg.auth.scopes import format_scope, parse_scope

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "scope"]
# Algorithms accepted from an external issuer's JWKS: asymmetric only, never HS* or none.
EXTERNAL_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
_CACHE_LIMIT = 50_000
_CLOCK_SKEW = 30  # seconds of leeway for iat in the future (clocks of other issuers drift)
# The longest a token may live (exp - iat): FLEETREG_TOKEN_TTL's maximum; external issuers too.
MAX_LIFETIME = 86_400
_MAX_TEXT = 256  # sub, jti, enterprise_id: ids, never longer
# PyJWT's own time checks take any value int() accepts; _check_times does them strictly.
_OPTIONS: jwt.types.Options = {
    "require": REQUIRED_CLAIMS,
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}


class InvalidToken(Exception):
    """The token cannot be accepted; the message says why (it goes into WWW-Authenticate)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a client, the scopes its token grants, and what it is bound to."""

    client_id: str
    scopes: frozenset[str]
    partner_id: uuid.UUID | None
    enterprise_id: str | None
    expires_at: float
    ours: bool = True  # signed by this service's keys, not by an external issuer


@dataclass(frozen=True)
class ExternalIssuer:
    issuer: str
    audience: str
    jwks_url: str


class TokenService:
    def __init__(
        self,
        keys: KeyRing,
        revoked: RevokedClients,
        *,
        issuer: str,
        audience: str,
        ttl: int,
        external: ExternalIssuer | None = None,
        clock: Callable[[], float] = time.time,
        active_client: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.keys = keys
        self.revoked = revoked
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.external = external
        self.clock = clock  # seconds since the epoch; tests pass their own instead of sleeping
        self._external_keys = jwt.PyJWKClient(external.jwks_url, cache_keys=True) if external else None
        self.active_client = active_client  # whether a client id exists, unrevoked, in the database
        self._verified: dict[str, Principal] = {}
        self._generation = 0  # bumped when the cache is emptied: a verification begun before stays out
        revoked.on_reset(self.forget_verified)

    def forget_verified(self) -> None:
        """Empty the cache: every token is verified afresh (its client looked up) when met again."""
        self._verified = {}
        self._generation += 1

    def issue(
        self, client_id: str, scopes: frozenset[str], partner_id: uuid.UUID | None, enterprise_id: str | None
    ) -> str:
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client_id,
            "iat": now,
            "exp": now + self.ttl,
            "jti": secrets.token_urlsafe(12),
            "scope": format_scope(scopes),
        }
        if partner_id is not None:
            claims["partner_id"] = str(partner_id)
        if enterprise_id is not None:
            claims["enterprise_id"] = enterprise_id
        return jwt.encode(
            claims, self.keys.signing.private_key, algorithm=ALGORITHM, headers={"kid": self.keys.signing.kid}
        )

    async def verify(self, token: str) -> Principal:
        principal = self._verified.get(token)
        if principal is None:
            generation = self._generation
            principal = await self._verify_signature_and_claims(token)
            if principal.ours and self.active_client is not None and not await self.active_client(principal.client_id):
                raise InvalidToken("the client of this token does not exist or has been revoked")
            if generation == self._generation:
                if len(self._verified) >= _CACHE_LIMIT:
                    self._verified.clear()
                self._verified[token] = principal
        if principal.expires_at <= self.clock():
            self._verified.pop(token, None)
            raise InvalidToken("the token has expired")
        if principal.client_id in self.revoked:
            raise InvalidToken("the client of this token has been revoked")
        return principal

    async def _verify_signature_and_claims(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken("the token is malformed") from error
        issuer = unverified.get("iss")
        try:
            ours = not (self.external is not None and issuer == self.external.issuer)
            claims = self._decode_own(token, header) if ours else await self._decode_external(token)
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("the token has expired") from error
        except jwt.InvalidAudienceError as error:
            raise InvalidToken("the token is for another audience") from error
        except jwt.InvalidIssuerError as error:
            raise InvalidToken("the token is from an issuer this service does not trust") from error
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"the token lacks the claim {error.claim}") from error
        except jwt.InvalidAlgorithmError as error:
            raise InvalidToken("the token is signed with an algorithm this service does not accept") from error
        except jwt.InvalidSignatureError as error:
            raise InvalidToken("the token's signature is not valid") from error
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is not valid: {error}") from error
        except (TypeError, ValueError, OverflowError) as error:  # a claim of a type PyJWT did not expect
            raise InvalidToken("the token's claims are malformed") from error
        _check_times(claims, self.clock())
        return _principal(claims, ours=ours)

    def _decode_own(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        if header.get("alg") != ALGORITHM:
            raise jwt.InvalidAlgorithmError("algorithm not allowed")
        kid = header.get("kid")
        key = self.keys.by_kid.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.InvalidSignatureError("unknown key id")
        claims: dict[str, Any] = jwt.decode(
            token,
            key.public_key,
            algorithms=[ALGORITHM],
            audience=self.audience,
            issuer=self.issuer,
            options=_OPTIONS,
        )
        return claims

    async def _decode_external(self, token: str) -> dict[str, Any]:
        assert self.external is not None
        assert self._external_keys is not None
        try:
            signing_key = await asyncio.to_thread(self._external_keys.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientError as error:
            raise jwt.InvalidSignatureError(f"no key of the external issuer verifies it: {error}") from error
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key.key,
            algorithms=EXTERNAL_ALGORITHMS,
            audience=self.external.audience,
            issuer=self.external.issuer,
            options=_OPTIONS,
        )
        return claims


def _numeric_date(claims: dict[str, Any], name: str) -> int | None:
    """The claim as whole seconds since the epoch, None when absent; else the token is refused."""
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    # bool is an int in Python, 1e300 a float, "123" a string: none of them is a time here.
    if type(value) is not int or not 0 <= value < 2**53:
        raise InvalidToken(f"the token's {name} is not a time in whole seconds")
    return value


def _check_times(claims: dict[str, Any], now: float) -> None:
    issued, expires, not_before = (_numeric_date(claims, name) for name in ("iat", "exp", "nbf"))
    if issued is None or expires is None:
        raise InvalidToken("the token lacks the claim " + ("iat" if issued is None else "exp"))
    if issued > now + _CLOCK_SKEW:
        raise InvalidToken("the token is issued in the future")
    if not issued < expires <= issued + MAX_LIFETIME:
        raise InvalidToken(f"the token's exp is not within {MAX_LIFETIME} s after its iat")
    if expires <= now:
        raise InvalidToken("the token has expired")
    if not_before is not None and not_before > now + _CLOCK_SKEW:
        raise InvalidToken("the token is not valid yet (nbf)")


def _text(claims: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_TEXT:
        raise InvalidToken(f"the token's {name} is not a string of 1 to {_MAX_TEXT} characters")
    return value


def _principal(claims: dict[str, Any], *, ours: bool) -> Principal:
    scope = claims["scope"]
    if not isinstance(scope, str) or len(scope) > 4096:
        raise InvalidToken("the token's scope is not a string")
    subject = _text(claims, "sub", required=True)
    assert subject is not None
    _text(claims, "jti", required=False)
    enterprise = _text(claims, "enterprise_id", required=False)
    partner = claims.get("partner_id")
    try:
        partner_id = uuid.UUID(partner) if partner is not None else None
    except (ValueError, TypeError, AttributeError) as error:
        raise InvalidToken("the token's partner_id is not a UUID") from error
    return Principal(
        client_id=subject,
        scopes=parse_scope(scope),
        partner_id=partner_id,
        enterprise_id=enterprise,
        expires_at=float(claims["exp"]),
        ours=ours,
    )
