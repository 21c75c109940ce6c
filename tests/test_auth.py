"""OAuth2 client credentials: the token endpoint, JWKS, and what token verification refuses."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from fleetreg.auth import clients as auth_clients
from fleetreg.auth.guard import FailureLimiter, HashingGate, TokenGuard, TooManyAttempts, hashing_concurrency
from fleetreg.auth.keys import KeyRing, SigningKeyError, retire, rotate
from fleetreg.settings import Settings
from tests.support.app import (
    App,
    MakeApp,
    MakeClient,
    database_of,
    include_router,
    revoked_of,
    signing_key_of,
    use_token_clock,
)
from tests.support.auth import MakeApiClient, claims_for
from tests.support.clock import FakeClock
from tests.support.probes import auth_probe
from tests.support.problems import assert_problem
from tests.support.redis_server import redis_server
from tests.support.waiting import wait_until


@pytest.fixture
def make_probed_client(make_app: MakeApp, make_client: MakeClient) -> Callable[..., Awaitable[httpx.AsyncClient]]:
    """``await make_probed_client(rate_limit=1)``: a client of a new app (the default settings with
    these changes) that also serves the probe route /probe/whoami."""

    async def make(**changes: Any) -> httpx.AsyncClient:
        app = await make_app(**changes)
        include_router(app, auth_probe)
        return await make_client(app)

    return make


@pytest.fixture
async def client(app: App, make_client: MakeClient) -> httpx.AsyncClient:
    """A client of the default app serving /probe/whoami too."""
    include_router(app, auth_probe)
    return await make_client(app)


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


FORM = {"content-type": "application/x-www-form-urlencoded"}


async def token_request(http: httpx.AsyncClient, data: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    return await http.post("/oauth/token", data=data, headers=headers)


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    if status == 401:
        assert response.headers["www-authenticate"] == 'Basic realm="fleetreg"'


class TestTokenEndpoint:
    async def test_basic_authentication(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App
    ) -> None:
        api = await make_api_client(partner="acme", scope="connectors:read connectors:write")
        response = await token_request(
            client, {"grant_type": "client_credentials"}, basic(api.client_id, api.client_secret)
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert body["scope"] == "connectors:read connectors:write"
        header = jwt.get_unverified_header(body["access_token"])
        assert header["alg"] == "ES256"
        jwks = (await client.get("/.well-known/jwks.json")).json()
        key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        claims = jwt.decode(
            body["access_token"],
            jwt.PyJWK(key).key,
            algorithms=["ES256"],
            audience="fleetreg",
            issuer="fleetreg",
        )
        assert claims["sub"] == api.client_id
        assert claims["partner_id"] == str(api.partner_id)
        assert claims["exp"] - claims["iat"] == 3600
        assert abs(claims["iat"] - time.time()) < 5
        # and the token works
        whoami = await client.get("/probe/whoami", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert whoami.status_code == 200
        assert whoami.json()["client_id"] == api.client_id

    async def test_form_authentication(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client(scope="connectors:read")
        data = {"grant_type": "client_credentials", "client_id": api.client_id, "client_secret": api.client_secret}
        response = await token_request(client, data, FORM)
        assert response.status_code == 200
        assert response.json()["scope"] == "connectors:read"

    async def test_scope_can_be_narrowed(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client(scope="connectors:read connectors:write customers:read")
        data = {"grant_type": "client_credentials", "scope": "connectors:read"}
        response = await token_request(client, data, basic(api.client_id, api.client_secret))
        assert response.json()["scope"] == "connectors:read"
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        assert claims["scope"] == "connectors:read"

    async def test_scope_beyond_the_clients_is_invalid_scope(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient
    ) -> None:
        api = await make_api_client(scope="connectors:read")
        data = {"grant_type": "client_credentials", "scope": "connectors:read connectors:provision"}
        assert_oauth_error(
            await token_request(client, data, basic(api.client_id, api.client_secret)), 400, "invalid_scope"
        )

    async def test_wrong_secret(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client()
        response = await token_request(client, {"grant_type": "client_credentials"}, basic(api.client_id, "wrong"))
        assert_oauth_error(response, 401, "invalid_client")

    async def test_unknown_client(self, client: httpx.AsyncClient) -> None:
        response = await token_request(client, {"grant_type": "client_credentials"}, basic("cl_nobody", "secret"))
        assert_oauth_error(response, 401, "invalid_client")

    async def test_revoked_client(self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App) -> None:
        api = await make_api_client()
        await auth_clients.revoke_client(database_of(app), api.client_id)
        response = await token_request(
            client, {"grant_type": "client_credentials"}, basic(api.client_id, api.client_secret)
        )
        assert_oauth_error(response, 401, "invalid_client")

    async def test_no_client_authentication(self, client: httpx.AsyncClient) -> None:
        assert_oauth_error(
            await token_request(client, {"grant_type": "client_credentials"}, FORM), 401, "invalid_client"
        )

    async def test_missing_grant_type(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client()
        assert_oauth_error(
            await token_request(client, {}, basic(api.client_id, api.client_secret)), 400, "invalid_request"
        )

    async def test_other_grant_type(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client()
        response = await token_request(client, {"grant_type": "password"}, basic(api.client_id, api.client_secret))
        assert_oauth_error(response, 400, "unsupported_grant_type")

    async def test_two_authentication_methods(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client()
        data = {"grant_type": "client_credentials", "client_secret": api.client_secret}
        response = await token_request(client, data, basic(api.client_id, api.client_secret))
        assert_oauth_error(response, 400, "invalid_request")

    async def test_parameter_twice(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client()
        response = await client.post(
            "/oauth/token",
            content=b"grant_type=client_credentials&grant_type=client_credentials",
            headers={**FORM, **basic(api.client_id, api.client_secret)},
        )
        assert_oauth_error(response, 400, "invalid_request")

    async def test_json_body_is_refused(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client()
        response = await client.post(
            "/oauth/token", json={"grant_type": "client_credentials"}, headers=basic(api.client_id, api.client_secret)
        )
        assert_oauth_error(response, 400, "invalid_request")

    async def test_malformed_basic_credentials(self, client: httpx.AsyncClient) -> None:
        response = await token_request(
            client, {"grant_type": "client_credentials"}, {"Authorization": "Basic %%%not-base64"}
        )
        assert_oauth_error(response, 401, "invalid_client")

    async def test_secret_is_stored_hashed(self, make_api_client: MakeApiClient, db: Any) -> None:
        api = await make_api_client()
        stored = await db.fetchval("SELECT secret_hash FROM oauth_clients WHERE id = $1", api.client_id)
        assert stored.startswith("$argon2id$")
        assert api.client_secret not in stored


class TestJwks:
    async def test_publishes_the_signing_key(self, client: httpx.AsyncClient, app: App) -> None:
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
        assert [key["kid"] for key in keys] == [signing_key_of(app).kid]
        assert keys[0]["kty"] == "EC"
        assert keys[0]["alg"] == "ES256"
        assert "d" not in keys[0]  # never the private part

    def test_rotation_keeps_old_keys_published_and_signs_with_the_new(self, tmp_path: Path) -> None:
        first = KeyRing.from_directory(tmp_path)
        new = rotate(tmp_path)
        after = KeyRing.from_directory(tmp_path)
        assert first.signing.kid in after.by_kid
        assert after.signing.kid == new.kid != first.signing.kid
        assert len(after.jwks()["keys"]) == 2

    def test_retiring_the_old_key_unpublishes_it(self, tmp_path: Path) -> None:
        first = KeyRing.from_directory(tmp_path)
        new = rotate(tmp_path)
        with pytest.raises(SigningKeyError, match="rotate first"):
            retire(tmp_path, new.kid)
        # This process signs with the old key until it loads the keys again (as a restart does).
        with pytest.raises(SigningKeyError, match="still signs with that key"):
            retire(tmp_path, first.signing.kid)
        assert KeyRing.from_directory(tmp_path).signing.kid == new.kid
        retire(tmp_path, first.signing.kid)
        after = KeyRing.from_directory(tmp_path)
        assert list(after.by_kid) == [new.kid]
        assert (tmp_path / "retired").is_dir()

    async def test_old_tokens_verify_after_rotation_and_stop_after_retirement(
        self,
        settings: Settings,
        make_api_client: MakeApiClient,
        app: App,
        make_probed_client: Callable[..., Awaitable[httpx.AsyncClient]],
    ) -> None:
        api = await make_api_client()
        keys_dir = settings.data_dir / "keys"
        old_kid = signing_key_of(app).kid
        rotate(keys_dir)
        http = await make_probed_client()
        assert (await http.get("/probe/whoami", headers=api.headers)).status_code == 200
        retire(keys_dir, old_kid)
        http = await make_probed_client()
        assert (await http.get("/probe/whoami", headers=api.headers)).status_code == 401

    def test_key_files_are_private(self, tmp_path: Path) -> None:
        KeyRing.from_directory(tmp_path / "keys")
        (key_file,) = (tmp_path / "keys").glob("*.pem")
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700


def signed(app: App, claims: dict[str, Any]) -> str:
    key = signing_key_of(app)
    return jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})


def signed_as_is(app: App, claims: dict[str, Any], kid: Any = None) -> str:
    """Signed with the app's key, the claims as given (PyJWT's encode refuses some, e.g. iss=5)."""
    key = signing_key_of(app)

    def part(value: bytes) -> bytes:
        return base64.urlsafe_b64encode(value).rstrip(b"=")

    header = {"alg": "ES256", "typ": "JWT", "kid": kid or key.kid}
    signing_input = part(json.dumps(header).encode()) + b"." + part(json.dumps(claims).encode())
    signature = ECAlgorithm(ECAlgorithm.SHA256).sign(signing_input, key.private_key)
    return (signing_input + b"." + part(signature)).decode()


def unsigned_token(claims: dict[str, Any], header: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


class TestTokenVerification:
    async def assert_invalid(self, client: httpx.AsyncClient, token: str, reason: str) -> None:
        response = await client.get("/probe/whoami", headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 401, "Unauthorized")
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="fleetreg", error="invalid_token"')
        assert reason in response.json()["detail"]

    async def test_valid_token(self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App) -> None:
        api = await make_api_client(scope="connectors:read")
        response = await client.get(
            "/probe/whoami", headers={"Authorization": f"Bearer {signed(app, claims_for(api))}"}
        )
        assert response.status_code == 200
        assert response.json() == {"client_id": api.client_id, "partner_id": str(api.partner_id)}

    async def test_missing_token(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/probe/whoami")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="fleetreg"'

    async def test_other_scheme(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/probe/whoami", headers={"Authorization": "Basic abc"})
        assert response.status_code == 401
        assert 'error="invalid_request"' in response.headers["www-authenticate"]

    async def test_garbage(self, client: httpx.AsyncClient) -> None:
        await self.assert_invalid(client, "not.a.jwt", "malformed")

    async def test_bad_signature(self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App) -> None:
        api = await make_api_client()
        token = signed(app, claims_for(api))
        head, _body, signature = token.split(".")
        tampered_body = base64.urlsafe_b64encode(
            json.dumps(claims_for(api, scope="connectors:read connectors:provision")).encode()
        ).rstrip(b"=")
        await self.assert_invalid(client, f"{head}.{tampered_body.decode()}.{signature}", "signature")

    async def test_signed_by_another_key(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App
    ) -> None:
        api = await make_api_client()
        stranger = ec.generate_private_key(ec.SECP256R1())
        kid = signing_key_of(app).kid  # pretending to be our key
        token = jwt.encode(claims_for(api), stranger, algorithm="ES256", headers={"kid": kid})
        await self.assert_invalid(client, token, "signature")

    async def test_unknown_key_id(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client()
        stranger = ec.generate_private_key(ec.SECP256R1())
        token = jwt.encode(claims_for(api), stranger, algorithm="ES256", headers={"kid": "someone-elses"})
        await self.assert_invalid(client, token, "signature")

    async def test_alg_none(self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App) -> None:
        api = await make_api_client()
        kid = signing_key_of(app).kid
        await self.assert_invalid(client, unsigned_token(claims_for(api), {"alg": "none", "kid": kid}), "algorithm")

    async def test_hs256_with_the_public_key_as_secret(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App
    ) -> None:
        api = await make_api_client()
        signing = signing_key_of(app)
        public_pem = signing.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = {"alg": "HS256", "kid": signing.kid, "typ": "JWT"}
        token = _hs256(claims_for(api), public_pem, header)
        await self.assert_invalid(client, token, "algorithm")

    async def test_rs256(self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App) -> None:
        api = await make_api_client()
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(claims_for(api), rsa_key, algorithm="RS256", headers={"kid": signing_key_of(app).kid})
        await self.assert_invalid(client, token, "algorithm")

    async def test_wrong_audience(self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App) -> None:
        api = await make_api_client()
        await self.assert_invalid(client, signed(app, claims_for(api, aud="another-service")), "audience")

    async def test_wrong_issuer(self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App) -> None:
        api = await make_api_client()
        await self.assert_invalid(client, signed(app, claims_for(api, iss="someone-else")), "issuer")

    async def test_expired(self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App) -> None:
        api = await make_api_client()
        now = int(time.time())
        await self.assert_invalid(client, signed(app, claims_for(api, iat=now - 700, exp=now - 100)), "expired")

    async def test_expires_while_cached(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App, token_clock: FakeClock
    ) -> None:
        api = await make_api_client()
        now = int(time.time())
        token = signed(app, claims_for(api, exp=now + 2))
        assert (await client.get("/probe/whoami", headers={"Authorization": f"Bearer {token}"})).status_code == 200
        token_clock.advance(2.1)
        await self.assert_invalid(client, token, "expired")

    @pytest.mark.parametrize("claim", ["exp", "iat", "sub", "scope", "aud", "iss"])
    async def test_missing_claim(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App, claim: str
    ) -> None:
        api = await make_api_client()
        await self.assert_invalid(client, signed(app, claims_for(api, **{claim: None})), f"lacks the claim {claim}")

    async def test_revoked_client_stops_at_once(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App
    ) -> None:
        api = await make_api_client()
        assert (await client.get("/probe/whoami", headers=api.headers)).status_code == 200  # cached now
        await auth_clients.revoke_client(database_of(app), api.client_id)
        # The revocation reaches the app by NOTIFY from the revoking transaction's commit.
        await wait_until(lambda: api.client_id in revoked_of(app), "the revocation did not arrive", timeout=2)
        await self.assert_invalid(client, api.token, "revoked")

    async def test_lacking_scope_is_403(self, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> None:
        api = await make_api_client(scope="customers:read")
        response = await client.get("/probe/whoami", headers=api.headers)
        assert_problem(response, 403, "Forbidden")
        assert response.headers["www-authenticate"] == (
            'Bearer realm="fleetreg", error="insufficient_scope", scope="connectors:read"'
        )

    async def test_client_of_no_partner_is_403(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App
    ) -> None:
        api = await make_api_client(partner=None, scope="fleet:read")
        token = signed(app, claims_for(api, scope="connectors:read", partner_id=None))
        response = await client.get("/probe/whoami", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403


NOW = int(time.time())


class TestClaimTypesAndRanges:
    """Signed with the real key, so only the claims are wrong: 401 naming the claim, never a 500, and
    no token that never expires (issue 14 item 7)."""

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"iat": str(NOW)}, "iat is not a time"),
            ({"iat": True}, "iat is not a time"),
            ({"iat": float(NOW)}, "iat is not a time"),
            ({"iat": None}, "lacks the claim iat"),
            ({"iat": NOW + 3600}, "issued in the future"),
            ({"iat": -5}, "iat is not a time"),
            ({"exp": 1e300}, "exp is not a time"),
            ({"exp": NOW + 600.5}, "exp is not a time"),
            ({"exp": True}, "exp is not a time"),
            ({"exp": str(NOW + 600)}, "exp is not a time"),
            ({"exp": [NOW + 600]}, "exp is not a time"),
            ({"exp": {"at": NOW + 600}}, "exp is not a time"),
            ({"exp": 2**64}, "exp is not a time"),
            ({"exp": 2**52}, "exp is not within 86400 s"),
            ({"exp": NOW + 86_400 * 365}, "exp is not within 86400 s"),
            ({"exp": NOW - 10, "iat": NOW - 20}, "expired"),
            ({"exp": NOW - 1000, "iat": NOW - 1010}, "expired"),
            ({"nbf": NOW + 3600}, "not valid yet"),
            ({"nbf": "soon"}, "nbf is not a time"),
            ({"nbf": False}, "nbf is not a time"),
            ({"sub": 42}, "must be a string"),  # PyJWT's own check
            ({"sub": ""}, "sub is not a string"),
            ({"sub": "x" * 10_000}, "sub is not a string"),
            ({"sub": ["a"]}, "must be a string"),
            ({"jti": 7}, "must be a string"),
            ({"scope": ["connectors:read"]}, "scope is not a string"),
            ({"partner_id": 5}, "partner_id is not a UUID"),
            ({"enterprise_id": {"id": 1}}, "enterprise_id is not a string"),
            ({"iss": 5}, "issuer"),
            ({"aud": [1, 2]}, "audience"),
        ],
    )
    async def test_a_claim_of_the_wrong_type_or_range_is_401(
        self,
        client: httpx.AsyncClient,
        make_api_client: MakeApiClient,
        app: App,
        changes: dict[str, Any],
        reason: str,
    ) -> None:
        api = await make_api_client(scope="connectors:read")
        claims = claims_for(api)
        claims.update(changes)
        claims = {key: value for key, value in claims.items() if value is not None}
        await TestTokenVerification().assert_invalid(client, signed_as_is(app, claims), reason)

    async def test_a_kid_that_is_not_a_string_is_401(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App
    ) -> None:
        api = await make_api_client(scope="connectors:read")
        token = signed_as_is(app, claims_for(api), kid=["x"])
        await TestTokenVerification().assert_invalid(client, token, "malformed")

    async def test_the_longest_lifetime_is_accepted(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App
    ) -> None:
        api = await make_api_client(scope="connectors:read")
        token = signed(app, claims_for(api, iat=NOW, exp=NOW + 86_400, nbf=NOW))
        response = await client.get("/probe/whoami", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text

    async def test_an_injected_clock_expires_a_cached_token(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        api = await make_api_client(scope="connectors:read")
        assert (await client.get("/probe/whoami", headers=api.headers)).status_code == 200
        use_token_clock(app, lambda: time.time() + 3601)
        await TestTokenVerification().assert_invalid(client, api.token, "expired")


class TestTokenAttemptLimits:
    """The token endpoint's failure limits and bounded hashing (issue 14 item 5); the flood itself,
    against a real server with real argon2 parameters, is in tests/robustness/test_token_flood.py."""

    async def test_unknown_client_ids_from_one_address_are_stopped_before_hashing(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, app: App, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        good = await make_api_client()
        hashed = 0

        class Counting(PasswordHasher):
            def verify(self, stored: Any, secret: Any) -> Any:
                nonlocal hashed
                hashed += 1
                return super().verify(stored, secret)

        monkeypatch.setattr(auth_clients, "HASHER", Counting(time_cost=1, memory_cost=256, parallelism=1))
        answers = [
            await token_request(client, {"grant_type": "client_credentials"}, basic(f"cl_unknown{n}", "nope"))
            for n in range(25)
        ]
        assert [a.status_code for a in answers] == [401] * 20 + [429] * 5
        assert hashed == 20, "a refused attempt costs no argon2 verification"
        assert_oauth_error(answers[-1], 429, "slow_down")
        assert int(answers[-1].headers["retry-after"]) >= 1
        # a client that exists, with its right secret, is not held by its address's failures
        ok = await token_request(
            client, {"grant_type": "client_credentials"}, basic(good.client_id, good.client_secret)
        )
        assert ok.status_code == 200, ok.text

    async def test_wrong_secrets_for_one_client_are_limited(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient
    ) -> None:
        api = await make_api_client()
        other = await make_api_client()
        wrong = [
            await token_request(client, {"grant_type": "client_credentials"}, basic(api.client_id, "wrong"))
            for _ in range(6)
        ]
        assert [a.status_code for a in wrong] == [401] * 5 + [429]
        assert_oauth_error(wrong[-1], 429, "slow_down")
        assert wrong[-1].elapsed.total_seconds() >= TokenGuard().refusal_delay, "a refusal is answered slowly"
        held = await token_request(
            client, {"grant_type": "client_credentials"}, basic(api.client_id, api.client_secret)
        )
        assert held.status_code == 429, "until Retry-After, even the right secret waits"
        ok = await token_request(
            client, {"grant_type": "client_credentials"}, basic(other.client_id, other.client_secret)
        )
        assert ok.status_code == 200, "another client is not affected"

    def test_a_failure_limit_refills(self) -> None:
        now = [1000.0]
        limiter = FailureLimiter(burst=2, interval=10.0, clock=lambda: now[0])
        limiter.failed("k")
        limiter.failed("k")
        assert limiter.retry_after("k") == 10
        now[0] += 4
        assert limiter.retry_after("k") == 6
        now[0] += 6
        assert limiter.retry_after("k") is None
        assert limiter.retry_after("never failed") is None

    def test_the_limiter_forgets_the_oldest_keys_past_its_size(self) -> None:
        limiter = FailureLimiter(burst=1, interval=60.0, max_keys=100)
        for n in range(1000):
            limiter.failed(f"10.0.{n // 256}.{n % 256}")
        assert len(limiter._buckets) == 100
        assert limiter.retry_after("10.0.3.231") == 60  # the newest are kept

    async def test_the_hashing_gate_runs_at_most_its_concurrency_and_refuses_past_its_queue(self) -> None:
        gate = HashingGate(concurrency=2, max_waiting=3)
        running = 0
        most = 0
        release = threading.Event()

        def work() -> None:
            nonlocal running, most
            running += 1
            most = max(most, running)
            release.wait(10)
            running -= 1

        tasks = [asyncio.create_task(gate.run(work)) for _ in range(5)]
        await asyncio.sleep(0.2)
        with pytest.raises(TooManyAttempts) as refused:
            await gate.run(work)
        assert refused.value.retry_after == 1
        release.set()
        await asyncio.gather(*tasks)
        assert most == 2

    async def test_attempts_in_flight_are_bounded_per_address_and_per_client(self) -> None:
        """Failures count only once a hash ends: a burst of slow attempts from one address (or for
        one client) is held at ``max_in_flight``, while other addresses and clients go on; identical
        attempts made at once share one verification and are not refused."""
        guard = TokenGuard(max_in_flight=2)
        release = asyncio.Event()
        verified: list[str] = []

        def attempt(client_id: str, secret: str, address: str, *, known: bool) -> asyncio.Task[bool]:
            async def verify() -> bool:
                verified.append(secret)
                await release.wait()
                return secret == "right"

            return asyncio.create_task(guard.verify_once(client_id, secret, address, known=known, verify=verify))

        held = [attempt("unknown-1", "a", "10.0.0.1", known=False), attempt("unknown-2", "b", "10.0.0.1", known=False)]
        same = [attempt("cl_a", "right", "10.0.0.9", known=True) for _ in range(5)]
        others = [attempt("unknown-4", "c", "10.0.0.2", known=False), attempt("cl_a", "wrong", "10.0.0.1", known=True)]
        await asyncio.sleep(0)
        with pytest.raises(TooManyAttempts) as refused:
            await guard.verify_once("unknown-3", "d", "10.0.0.1", known=False, verify=release.wait)
        assert refused.value.retry_after == 1
        with pytest.raises(TooManyAttempts):
            await guard.verify_once("cl_a", "third", "10.0.0.1", known=True, verify=release.wait)
        release.set()
        assert await asyncio.gather(*held, *same, *others) == [False, False, *[True] * 5, False, False]
        assert sorted(verified) == ["a", "b", "c", "right", "wrong"], "five identical attempts, one verification"
        assert not guard._in_flight
        assert not guard._verifying
        release.clear()
        again = attempt("unknown-5", "e", "10.0.0.1", known=False)
        release.set()
        assert await again is False  # the address's attempts ended: it may try again

    async def test_refusals_are_held_back_up_to_a_bound(self) -> None:
        """A flood that ignores Retry-After gets a few refusals a second per connection, while the
        number of refusals waiting stays bounded (the others are answered at once)."""
        guard = TokenGuard(refusal_delay=0.3, max_held=2)
        started = time.monotonic()
        held = [asyncio.create_task(guard.hold_back()) for _ in range(2)]
        await asyncio.sleep(0)
        await guard.hold_back()  # a third: answered at once
        assert time.monotonic() - started < 0.2
        await asyncio.gather(*held)
        assert time.monotonic() - started >= 0.3
        assert guard._held == 0

    async def test_a_caller_that_goes_away_does_not_end_the_shared_verification(self) -> None:
        guard = TokenGuard()
        release = asyncio.Event()

        async def verify() -> bool:
            await release.wait()
            return True

        first = asyncio.create_task(guard.verify_once("cl_a", "s", None, known=True, verify=verify))
        second = asyncio.create_task(guard.verify_once("cl_a", "s", None, known=True, verify=verify))
        await asyncio.sleep(0)
        first.cancel()
        release.set()
        assert await second is True
        assert first.cancelled()

    async def test_concurrent_token_requests_of_one_client_all_succeed(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient
    ) -> None:
        """A partner's processes starting together, each asking for a token with the same secret."""
        api = await make_api_client()
        answers = await asyncio.gather(
            *(
                token_request(client, {"grant_type": "client_credentials"}, basic(api.client_id, api.client_secret))
                for _ in range(8)
            )
        )
        assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]

    def test_a_flood_leaves_a_core_to_the_other_requests(self) -> None:
        assert hashing_concurrency() == max(1, len(os.sched_getaffinity(0)) - 1)
        assert TokenGuard().hashing.concurrency == hashing_concurrency()


def _hs256(claims: dict[str, Any], secret: bytes, header: dict[str, Any]) -> str:
    """An HS256 token keyed with our public key: the classic algorithm-confusion attack."""
    import hashlib
    import hmac

    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signing_input = part(header) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(secret, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


class TestRateLimit:
    async def test_429_with_retry_after(
        self, make_api_client: MakeApiClient, make_probed_client: Callable[..., Awaitable[httpx.AsyncClient]]
    ) -> None:
        http = await make_probed_client(rate_limit=1)
        api = await make_api_client()
        statuses = [(await http.get("/probe/whoami", headers=api.headers)) for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 429]
        assert statuses[2].headers["retry-after"] == "1"
        assert_problem(statuses[2], 429, "Too Many Requests")

    async def test_the_limit_is_shared_by_instances_through_postgresql(
        self, make_api_client: MakeApiClient, make_probed_client: Callable[..., Awaitable[httpx.AsyncClient]]
    ) -> None:
        """Two apps on one database (two instances): a burst of 2 in all, not 2 each."""
        first, second = await make_probed_client(rate_limit=1), await make_probed_client(rate_limit=1)
        api = await make_api_client()
        statuses = [(await http.get("/probe/whoami", headers=api.headers)).status_code for http in (first, second)]
        statuses += [(await http.get("/probe/whoami", headers=api.headers)).status_code for http in (second, first)]
        assert statuses == [200, 200, 429, 429]

    async def test_the_limit_is_shared_by_instances_through_redis(
        self,
        make_api_client: MakeApiClient,
        make_probed_client: Callable[..., Awaitable[httpx.AsyncClient]],
        tmp_path: Path,
        db: asyncpg.Connection,
    ) -> None:
        with redis_server(tmp_path) as url:
            first = await make_probed_client(rate_limit=1, rate_limit_url=url)
            second = await make_probed_client(rate_limit=1, rate_limit_url=url)
            api = await make_api_client()
            statuses = [(await h.get("/probe/whoami", headers=api.headers)).status_code for h in (first, second)]
            statuses += [(await h.get("/probe/whoami", headers=api.headers)).status_code for h in (second, first)]
            assert statuses == [200, 200, 429, 429]
            assert await db.fetchval("SELECT count(*) FROM rate_limit_buckets") == 0  # Redis held them


class _Jwks(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def external_issuer() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="ext-1", alg="RS256", use="sig")
    handler = type("Handler", (_Jwks,), {"body": json.dumps({"keys": [jwk]}).encode()})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", key
    server.shutdown()
    server.server_close()


class TestExternalIssuer:
    async def test_trusted_issuers_tokens_are_accepted_and_others_refused(
        self,
        external_issuer: tuple[str, rsa.RSAPrivateKey],
        make_probed_client: Callable[..., Awaitable[httpx.AsyncClient]],
    ) -> None:
        url, key = external_issuer
        http = await make_probed_client(
            external_issuer="https://idp.example", external_audience="fleetreg-api", external_jwks_url=url
        )
        now = int(time.time())
        partner_id = str(uuid.uuid4())
        claims = {
            "iss": "https://idp.example",
            "aud": "fleetreg-api",
            "sub": "svc-42",
            "iat": now,
            "exp": now + 300,
            "scope": "connectors:read",
            "partner_id": partner_id,
        }
        good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "ext-1"})
        wrong_audience = jwt.encode({**claims, "aud": "fleetreg"}, key, algorithm="RS256", headers={"kid": "ext-1"})
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "ext-1"})
        response = await http.get("/probe/whoami", headers={"Authorization": f"Bearer {good}"})
        assert response.status_code == 200
        assert response.json() == {"client_id": "svc-42", "partner_id": partner_id}
        for token in (wrong_audience, forged):
            refused = await http.get("/probe/whoami", headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 401
