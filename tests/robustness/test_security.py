"""What no caller gets past, on every operation that takes a token.

The operations are read from the app's routes (``tests.support.app.documented_routes``), so a
new endpoint is covered the day it is added: the partner API's, and the fleet API's with
FLEETREG_FLEET_AUTH=required. On each: another partner's token, or a client bound to another
enterprise, finds nothing of this partner's or enterprise's (404), and a revoked client's token, an
expired token, a token signed by another key and an ``alg: none`` token are 401 ``invalid_token``.
Then the body limit (413) and the per-client rate limit (429) on every operation they apply to, and
the logs: no client secret, token or PIN appears in any log line, whatever the request and however
it ends.

(tests/test_auth.py has each token defect on one probe route, tests/partner/test_partner_tenancy.py and
tests/fleet/test_fleet_auth.py each tenancy rule with its details; this module sweeps them over the
whole API.)
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from fleetreg.auth import clients as auth_clients
from fleetreg.fleet import kinds
from fleetreg.fleet import schemas as fleet_schemas
from fleetreg.fleet.associations import schemas as association_schemas
from fleetreg.logs import JsonFormatter
from fleetreg.partner import schemas as partner_schemas
from fleetreg.partner import service as partner_service
from fleetreg.settings import Settings
from fleetreg.webhooks import router as webhook_router
from tests.support.app import (
    App,
    MakeApp,
    MakeClient,
    Route,
    database_of,
    documented_routes,
    new_api_client,
    openapi_of,
    revoked_of,
    signing_key_of,
)
from tests.support.auth import EVERY_PARTNER_SCOPE, EVERY_SCOPE, ApiClient, claims_for
from tests.support.database import create_client_in
from tests.support.fleet import Fleet
from tests.support.problems import PROBLEM, assert_problem
from tests.support.processes import FLEETREG, environment, free_port, wait_ready
from tests.support.waiting import wait_until

FLEET_ID = "ZZZZZZZZZZZZZZZ"  # well-formed (15 letters or digits), never generated
CONNECTORS = "/v2/customers/connectors"
CUSTOMERS = "/v2/customers"
TOKEN_ENDPOINT = "/oauth/token"
# Path parameters that are UUIDs; the fleet's ids are 15 letters or digits.
UUID_IDS = ("connector-id", "customer-id", "webhook_id", "delivery_id")
PUBLIC_HOOK = "https://93.184.215.14/hook"  # a public address, no DNS: a webhook URL any caller may give


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the route's template, as the contract writes it: {connector-id}
    route: Route

    @property
    def partner(self) -> bool:
        return self.path.startswith(CUSTOMERS)

    @property
    def path_parameters(self) -> list[str]:
        return list(self.route.path_parameters)

    @property
    def body_model(self) -> Any:
        return self.route.body_model

    def url(self, ids: dict[str, str] | None = None) -> str:
        """The path with each parameter set: from ``ids``, or a well-formed id that names nothing."""
        url = self.path
        for name in self.path_parameters:
            value = (ids or {}).get(name) or (str(uuid.uuid4()) if name in UUID_IDS else FLEET_ID)
            url = url.replace("{" + name + "}", value)
        return url

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(app: App) -> list[Operation]:
    """Every operation of the app that /openapi.json documents."""
    return [Operation(method, route.path, route) for route in documented_routes(app) for method in route.methods]


def secured_operations(app: App) -> list[Operation]:
    """The operations that want a bearer token: all of /v2 (the fleet API with FLEET_AUTH=required)."""
    secured = [operation for operation in operations(app) if operation.path.startswith("/v2/")]
    assert len([operation for operation in secured if operation.partner]) >= 10, secured
    assert len([operation for operation in secured if not operation.partner]) >= 20, secured
    return secured


def operations_with_a_body(app: App) -> list[tuple[str, str]]:
    """(method, path) of every operation whose OpenAPI description has a request body."""
    found = []
    for path, item in openapi_of(app)["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                found.append((method.upper(), path))
    return found


@dataclass
class Service:
    """A running app (FLEETREG_FLEET_AUTH=required unless told otherwise) and its HTTP client."""

    app: App
    http: httpx.AsyncClient

    async def client(self, partner: str | None = "acme", scope: str = EVERY_SCOPE) -> ApiClient:
        return await new_api_client(self.app, partner=partner, scope=scope)

    async def send(
        self, operation: Operation, token: str | None, ids: dict[str, str] | None = None, body: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        if operation.path == "/v2/events/stream":
            # In process, the answer is read whole (httpx's ASGITransport), and a stream never ends: a
            # cursor it refuses (400) ends it at once, after the caller was authenticated and authorized.
            headers["Last-Event-ID"] = "not-a-cursor"
        if operation.body_model is not None and body is None:
            body = {}
        return await self.http.request(operation.method, operation.url(ids), headers=headers, json=body)


MakeService = Callable[..., Awaitable[Service]]


@pytest.fixture
def make_service(make_app: MakeApp, make_client: MakeClient) -> MakeService:
    """``await make_service(rate_limit=1)``: an app with fleet auth required and these changes to the
    default settings, running until the test ends, and its client."""

    async def make(**changes: Any) -> Service:
        app = await make_app(**{"fleet_auth": "required", **changes})
        return Service(app, await make_client(app))

    return make


@pytest.fixture
async def service(make_service: MakeService) -> Service:
    return await make_service()


# -- tokens -----------------------------------------------------------------------------------------------


def expired(service: Service, api: ApiClient) -> str:
    now = int(time.time())
    key = signing_key_of(service.app)
    claims = claims_for(api, iat=now - 700, exp=now - 100)
    return jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})


def signed_by_another_key(service: Service, api: ApiClient) -> str:
    stranger = ec.generate_private_key(ec.SECP256R1())
    kid = signing_key_of(service.app).kid  # pretending to be ours
    return jwt.encode(claims_for(api), stranger, algorithm="ES256", headers={"kid": kid})


def alg_none(service: Service, api: ApiClient) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    header = {"alg": "none", "typ": "JWT", "kid": signing_key_of(service.app).kid}
    return f"{part(header)}.{part(claims_for(api))}."


async def revoked(service: Service, api: ApiClient) -> str:
    await auth_clients.revoke_client(database_of(service.app), api.client_id)
    # The revocation reaches the app by NOTIFY from the revoking transaction's commit.
    await wait_until(lambda: api.client_id in revoked_of(service.app), "the revocation did not arrive", timeout=5)
    return api.token


def assert_invalid_token(response: httpx.Response) -> None:
    assert_problem(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"].startswith('Bearer realm="fleetreg", error="invalid_token"')


class TestTokens:
    async def test_a_valid_token_gets_past_authentication_everywhere(
        self, service: Service, subtests: pytest.Subtests
    ) -> None:
        # The control for the tests below: the same requests with a good token are not 401 or 403.
        api = await service.client()
        for operation in secured_operations(service.app):
            with subtests.test(operation=str(operation)):
                response = await service.send(operation, api.token)
                assert response.status_code not in (401, 403, 500), response.text

    async def test_no_token_is_401_everywhere(self, service: Service, subtests: pytest.Subtests) -> None:
        for operation in secured_operations(service.app):
            with subtests.test(operation=str(operation)):
                response = await service.send(operation, None)
                assert response.status_code == 401, response.text
                assert response.headers["www-authenticate"] == 'Bearer realm="fleetreg"'

    async def test_revoked_clients_token_is_401_everywhere(self, service: Service, subtests: pytest.Subtests) -> None:
        token = await revoked(service, await service.client())
        for operation in secured_operations(service.app):
            with subtests.test(operation=str(operation)):
                assert_invalid_token(await service.send(operation, token))

    @pytest.mark.parametrize("make_token", [expired, signed_by_another_key, alg_none])
    async def test_bad_token_is_401_everywhere(
        self, service: Service, subtests: pytest.Subtests, make_token: Callable[[Service, ApiClient], str]
    ) -> None:
        token = make_token(service, await service.client())
        for operation in secured_operations(service.app):
            with subtests.test(operation=str(operation)):
                assert_invalid_token(await service.send(operation, token))


# -- tenancy ----------------------------------------------------------------------------------------------


def _new_connector(ids: dict[str, str]) -> dict[str, Any]:
    return {
        "name": "globex-1",
        "type": "virtual",
        "hardware_version": "1",
        "software_version": "1",
        "pin": "24680",
        "customer_id": ids["customer_id"],
    }


# A valid body for each partner request model, naming the other partner's ids where it can.
SAMPLE_BODIES: dict[Any, Callable[[dict[str, str]], dict[str, Any]]] = {
    partner_schemas.NewConnector: _new_connector,
    partner_schemas.ConnectorAssignment: lambda ids: {"customer_id": ids["customer_id"]},
    partner_schemas.CustomerInput: lambda ids: {"name": "Taken over"},
}


class TestTenancy:
    async def test_another_partners_ids_are_not_found_on_every_partner_operation(
        self, service: Service, subtests: pytest.Subtests
    ) -> None:
        acme = await service.client("acme", EVERY_PARTNER_SCOPE)
        globex = await service.client("globex", EVERY_PARTNER_SCOPE)
        acme_headers = {"Authorization": f"Bearer {acme.token}"}
        customer = (await service.http.post(CUSTOMERS, json={"name": "Acme's"}, headers=acme_headers)).json()
        new = {"name": "acme-1", "type": "physical", "hardware_version": "1", "software_version": "1", "pin": "13579"}
        connector = (
            await service.http.post(CONNECTORS, json={**new, "customer_id": customer["id"]}, headers=acme_headers)
        ).json()
        ids = {"connector_id": connector["id"], "customer_id": customer["id"]}

        for operation in [operation for operation in secured_operations(service.app) if operation.partner]:
            with subtests.test(operation=str(operation)):
                body = None
                if operation.body_model is not None:
                    assert operation.body_model in SAMPLE_BODIES, f"add a sample body for {operation}"
                    body = SAMPLE_BODIES[operation.body_model](ids)
                response = await service.send(operation, globex.token, ids, body)
                if operation.path_parameters:
                    assert response.status_code == 404, response.text
                    assert response.json()["title"] in ("Connector Not Found", "Customer Not Found")
                elif operation.method == "GET":
                    assert response.status_code == 200, response.text
                    assert (response.json()["result"], response.json()["total"]) == ([], 0)
                elif ids["customer_id"] in json.dumps(body):
                    assert response.status_code == 422, response.text
                    assert response.json()["title"] == "Unknown Customer"
                else:
                    assert response.status_code == 201, response.text  # its own, named by nothing of acme's

        # acme's rows are as they were
        for path, before in (
            (f"{CONNECTORS}/{connector['id']}", connector),
            (f"{CUSTOMERS}/{customer['id']}", customer),
        ):
            after = await service.http.get(path, headers=acme_headers)
            assert (after.status_code, after.json()) == (200, before)


def _fleet_bodies(theirs: dict[str, str]) -> dict[Any, dict[str, Any]]:
    """A valid body for each fleet request model, naming the other enterprise's rows where it can."""
    patch = {"data": {}}
    return {
        fleet_schemas.MODELS[kinds.ENTERPRISE].create: {
            "data": {"attributes": {"name": "Mine", "cnpj": "11222333000181"}}
        },
        fleet_schemas.MODELS[kinds.VEHICLE].create: {
            "data": {"attributes": {"enterprise_id": theirs["enterprise"], "name": "V"}}
        },
        fleet_schemas.MODELS[kinds.DEVICE].create: {
            "data": {
                "attributes": {
                    "enterprise_id": theirs["enterprise"],
                    "name": "D",
                    "imei": "490154203237518",
                    "code": "D",
                }
            }
        },
        fleet_schemas.MODELS[kinds.CHIP].create: {
            "data": {
                "attributes": {
                    "serial": "8955010012345678908",
                    "number": "+5511987654321",
                    "carrier": "V",
                    "service_provider": "V",
                    "batch": "B",
                    "device_id": theirs["device"],
                }
            }
        },
        association_schemas.AssociationCreate: {
            "data": [{"vehicle_id": theirs["vehicle"], "device_id": theirs["spare"], "is_main_device": False}]
        },
        association_schemas.AssociationEnd: {"data": [{"type": "device_association", "id": theirs["association"]}]},
        fleet_schemas.MODELS[kinds.ENTERPRISE].patch: patch,
        fleet_schemas.MODELS[kinds.VEHICLE].patch: patch,
        fleet_schemas.MODELS[kinds.DEVICE].patch: patch,
        fleet_schemas.MODELS[kinds.CHIP].patch: patch,
        association_schemas.AssociationPatch: patch,
        association_schemas.AssociationReplace: {"data": {"device_id": theirs["spare"], "move_chip": True}},
        webhook_router.NewWebhook: {"url": PUBLIC_HOOK, "types": ["vehicle.*"]},
        webhook_router.WebhookChanges: {"enabled": False},
    }


async def _enterprise(fleet: Fleet) -> dict[str, str]:
    enterprise = (await fleet.enterprise())["id"]
    vehicle = (await fleet.vehicle(enterprise))["id"]
    device, spare = (await fleet.device(enterprise))["id"], (await fleet.device(enterprise))["id"]
    chip = (await fleet.chip(device))["id"]
    (association,) = await fleet.associate((vehicle, device, True))
    return {
        "enterprise": enterprise,
        "vehicle": vehicle,
        "device": device,
        "spare": spare,
        "chip": chip,
        "association": association["id"],
    }


class TestEnterpriseBinding:
    async def test_another_enterprises_rows_are_not_found_on_every_fleet_operation(
        self, service: Service, subtests: pytest.Subtests
    ) -> None:
        admin = await service.client(None, "fleet:read fleet:write")
        fleet = Fleet(service.http, {"Authorization": f"Bearer {admin.token}"})
        mine, theirs = await _enterprise(fleet), await _enterprise(fleet)
        # A webhook is its caller's: the unbound client's is not the bound one's to see or change.
        hook = await service.http.post(
            "/v2/webhooks", json={"url": PUBLIC_HOOK, "types": ["vehicle.*"]}, headers=fleet.headers
        )
        assert hook.status_code == 201, hook.text
        theirs["webhook"] = hook.json()["id"]
        bound = await new_api_client(
            service.app, partner=None, scope="fleet:read fleet:write", enterprise=mine["enterprise"]
        )
        token = bound.token
        ids = {f"{kind}_id": value for kind, value in theirs.items()}
        bodies = _fleet_bodies(theirs)

        async def their_rows() -> list[Any]:
            return [
                (await service.http.get(path, headers=fleet.headers)).json()["data"]
                for path in (
                    f"/v2/enterprises/{theirs['enterprise']}",
                    f"/v2/vehicles/{theirs['vehicle']}",
                    f"/v2/devices/{theirs['device']}",
                    f"/v2/chips/{theirs['chip']}",
                    f"/v2/vehicles/{theirs['vehicle']}/associations/devices",
                )
            ]

        before = await their_rows()
        for operation in [operation for operation in secured_operations(service.app) if not operation.partner]:
            with subtests.test(operation=str(operation)):
                body = None
                if operation.body_model is not None:
                    assert operation.body_model in bodies, f"add a sample body for {operation}"
                    body = bodies[operation.body_model]
                response = await service.send(operation, token, ids, body)
                if operation.path == "/v2/events/stream":
                    assert_problem(response, 400, "Bad Request")  # past the caller's checks (see Service.send)
                elif (operation.method, operation.path) == ("POST", "/v2/webhooks"):
                    assert response.status_code == 201, response.text  # its own, naming nothing of theirs
                elif operation.path_parameters or operation.method != "GET":
                    expected = 403 if operation.path == "/v2/enterprises" else 404  # bound: creates no enterprise
                    assert response.status_code == expected, response.text
                    assert response.headers["content-type"] == PROBLEM
                else:
                    assert response.status_code == 200, response.text
                    listed = json.dumps(response.json())
                    assert not any(value in listed for value in theirs.values()), listed
        assert await their_rows() == before


# -- limits -----------------------------------------------------------------------------------------------


class TestLimits:
    async def test_body_over_the_limit_is_413_on_every_operation_with_a_body(
        self, make_service: MakeService, subtests: pytest.Subtests
    ) -> None:
        limit = 1024
        service = await make_service(max_body_bytes=limit)
        api = await service.client()
        with_body = operations_with_a_body(service.app)
        assert (("POST", TOKEN_ENDPOINT)) in with_body
        assert len(with_body) >= 15
        for method, path in with_body:
            operation = next(o for o in operations(service.app) if (o.method, o.path) == (method, path))
            form = path == TOKEN_ENDPOINT
            headers = {
                "Authorization": f"Bearer {api.token}",
                "content-type": "application/x-www-form-urlencoded" if form else "application/json",
            }
            body = b"grant_type=" + b"x" * limit if form else b'{"data": "' + b"x" * limit + b'"}'

            async def streamed(body: bytes = body) -> AsyncIterator[bytes]:
                for start in range(0, len(body), 100):
                    yield body[start : start + 100]

            for how, content in (("declared", body), ("streamed", streamed())):
                with subtests.test(operation=f"{method} {path}", body=how):
                    response = await service.http.request(method, operation.url(), content=content, headers=headers)
                    assert_problem(response, 413, "Payload Too Large")
            with subtests.test(operation=f"{method} {path}", body="at the limit"):
                fits = b"grant_type=" + b"x" * (limit - 11) if form else b'{"data": "' + b"x" * (limit - 12) + b'"}'
                assert len(fits) == limit
                response = await service.http.request(method, operation.url(), content=fits, headers=headers)
                assert response.status_code != 413, response.text

    async def test_rate_limit_is_per_client_with_retry_after_on_every_operation(
        self, make_service: MakeService, subtests: pytest.Subtests
    ) -> None:
        service = await make_service(rate_limit=1)  # 1 request/s, bursts of 2
        for operation in secured_operations(service.app):
            with subtests.test(operation=str(operation)):
                api, other = await service.client(), await service.client()
                statuses = []
                for _ in range(10):  # the third request within a second is over; ten allow for a slow machine
                    response = await service.send(operation, api.token)
                    statuses.append(response.status_code)
                    if response.status_code == 429:
                        break
                assert statuses[-1] == 429, statuses
                assert 429 not in statuses[:2], statuses
                assert_problem(response, 429, "Too Many Requests")
                assert int(response.headers["retry-after"]) >= 1
                # another client of the same partner has a bucket of its own
                assert (await service.send(operation, other.token)).status_code != 429


# -- logs -------------------------------------------------------------------------------------------------


class TestLogs:
    async def test_no_secret_token_or_pin_is_ever_logged(
        self,
        service: Service,
        caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        caplog.set_level(logging.DEBUG)  # every logger, every level
        api = await service.client()
        basic = base64.b64encode(f"{api.client_id}:{api.client_secret}".encode()).decode()
        wrong_secret = api.client_secret[::-1]
        pins = ["90817", "53142", "6420x"]
        secrets = [api.client_secret, api.token, basic, wrong_secret, *pins]
        http = service.http

        # token requests: HTTP Basic, form fields, a wrong secret
        form = {"grant_type": "client_credentials"}
        by_basic = await http.post(TOKEN_ENDPOINT, data=form, headers={"Authorization": f"Basic {basic}"})
        by_form = await http.post(
            TOKEN_ENDPOINT, data={**form, "client_id": api.client_id, "client_secret": api.client_secret}
        )
        refused = await http.post(
            TOKEN_ENDPOINT, data={**form, "client_id": api.client_id, "client_secret": wrong_secret}
        )
        assert (by_basic.status_code, by_form.status_code, refused.status_code) == (200, 200, 401)
        token = by_basic.json()["access_token"]
        secrets += [token, by_form.json()["access_token"]]
        bearer = {"Authorization": f"Bearer {token}"}

        # bearer-authenticated requests, a connector with a PIN created and changed
        customer = (await http.post(CUSTOMERS, json={"name": "Logged"}, headers=bearer)).json()
        new = {"name": "L1", "type": "virtual", "hardware_version": "1", "software_version": "1", "pin": pins[0]}
        created = await http.post(CONNECTORS, json=new, headers=bearer)
        assert created.status_code == 201, created.text
        connector = f"{CONNECTORS}/{created.json()['id']}"
        assert (await http.put(connector, json={"customer_id": customer["id"]}, headers=bearer)).status_code == 200
        assert (await http.get(connector, headers=bearer)).json()["pin"] == pins[0]
        assert (await http.get("/v2/enterprises", headers=bearer)).status_code == 200

        # failing requests whose problems may echo the input: a PIN where none belongs, a malformed PIN,
        # a secret in a query parameter, an expired token, a revoked client's token
        echoed = await http.put(connector, json={"customer_id": None, "pin": pins[1]}, headers=bearer)
        assert echoed.status_code == 400
        malformed = await http.post(CONNECTORS, json={**new, "name": "L2", "pin": pins[2]}, headers=bearer)
        assert malformed.status_code == 400
        assert (await http.get(CONNECTORS, params={"name": api.client_secret}, headers=bearer)).status_code == 200
        assert (await http.get(CONNECTORS, params={"pin": pins[1]}, headers=bearer)).status_code == 400
        stale = expired(service, api)
        secrets.append(stale)
        assert (await http.get(CONNECTORS, headers={"Authorization": f"Bearer {stale}"})).status_code == 401

        # a bug: the 500 path logs the traceback, and must not log the request with it
        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("forced failure")

        monkeypatch.setattr(partner_service, "create_connector", broken)
        crashed = await http.post(CONNECTORS, json={**new, "name": "L3", "pin": pins[0]}, headers=bearer)
        assert crashed.status_code == 500

        other = await service.client()
        secrets.append(other.client_secret)
        secrets.append(await revoked(service, other))
        assert (await http.get(CONNECTORS, headers={"Authorization": f"Bearer {other.token}"})).status_code == 401

        formatter = JsonFormatter()
        # (httpx and httpcore log the test's own requests, not the service's)
        lines = [formatter.format(record) for record in caplog.records if not record.name.startswith("http")]
        assert any('"status":500' in line for line in lines), "the access log is not captured"
        assert any("forced failure" in line for line in lines), "the 500's traceback is not captured"
        printed = capsys.readouterr()
        for secret in secrets:
            for line in [*lines, printed.out, printed.err]:
                assert secret not in line, f"{secret!r} is in the log: {line}"


class TestServedLogs:
    async def test_a_served_fleetreg_logs_json_lines_without_secrets(
        self, database_url: str, settings: Settings, tmp_path: Path
    ) -> None:
        """The same through ``fleetreg serve`` at log level debug: Granian's own loggers included, every
        stderr line is a JSON object, and none holds a secret, token or PIN."""
        api = await create_client_in(database_url, scope=EVERY_SCOPE)
        port = free_port()
        stderr_path = tmp_path / "stderr.log"
        env = environment(
            FLEETREG_DATABASE_URL=database_url, FLEETREG_DATA_DIR=str(tmp_path / "data"), FLEETREG_LOG_LEVEL="debug"
        )
        pin = "97531"
        basic = base64.b64encode(f"{api.client_id}:{api.client_secret}".encode()).decode()
        secrets = [api.client_secret, basic, pin, api.client_secret[::-1]]
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [*FLEETREG, "serve", "--port", str(port), "--no-migrate"],
                env=env,
                stderr=stderr,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                await asyncio.to_thread(wait_ready, base, process)
                async with httpx.AsyncClient(base_url=base) as http:
                    form = {"grant_type": "client_credentials"}
                    token = (
                        await http.post(TOKEN_ENDPOINT, data=form, headers={"Authorization": f"Basic {basic}"})
                    ).json()["access_token"]
                    wrong = {**form, "client_id": api.client_id, "client_secret": api.client_secret[::-1]}
                    assert (await http.post(TOKEN_ENDPOINT, data=wrong)).status_code == 401
                    secrets.append(token)
                    bearer = {"Authorization": f"Bearer {token}"}
                    new = {
                        "name": "S1",
                        "type": "virtual",
                        "hardware_version": "1",
                        "software_version": "1",
                        "pin": pin,
                    }
                    created = await http.post(CONNECTORS, json=new, headers=bearer)
                    assert created.status_code == 201, created.text
                    connector = f"{CONNECTORS}/{created.json()['id']}"
                    assert (
                        await http.put(connector, json={"customer_id": None, "pin": pin}, headers=bearer)
                    ).status_code == 400
                    assert (await http.get(CONNECTORS, params={"name": pin}, headers=bearer)).status_code == 200
                    assert (await http.get(connector, headers={"Authorization": f"Bearer {token}x"})).status_code == 401
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=30)
        lines = stderr_path.read_text().splitlines()
        assert len(lines) >= 6, lines
        for line in lines:
            record = json.loads(line)  # one JSON object per line, from every logger
            assert isinstance(record, dict), line
            for secret in secrets:
                assert secret not in line, f"{secret!r} is in the log: {line}"
        assert any(json.loads(line).get("logger") == "fleetreg.access" for line in lines)
