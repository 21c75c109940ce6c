"""Schemathesis over every operation of /openapi.json: no input gives a 500, and every answer is one
the document describes (its status, its content type, a body matching its schema).

The schema is read from an app built at import (the document depends only on FLEETREG_FLEET_AUTH),
so that pytest has one test per operation and per setting. Each test runs a fresh app on its own
database, reached in-process through Schemathesis's ASGI client, which runs the app (lifespan, pool
and requests) on its own event loop thread; the plugin ends the lifespan at the test's teardown.
The app holds a partner with customers and connectors and an enterprise with vehicles, devices,
chips and associations, and half of the generated path ids are replaced by ids that exist, so that
the fuzzer gets past 404 to the operations' real work.

Bounded and reproducible: derandomized Hypothesis, a fixed Schemathesis seed, a few examples per
operation and phase.
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python import asgi

from fleetreg.app import create_app
from fleetreg.auth.scopes import parse_scope
from fleetreg.settings import Settings
from tests.support.app import openapi_of, tokens_of
from tests.support.auth import EVERY_SCOPE
from tests.support.database import create_client_in

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
BASE_URL = f"http://{asgi.HOST}"

# Examples per operation and phase; FLEETREG_TEST_FUZZ_EXAMPLES=500 for a deeper run by hand.
EXAMPLES = int(os.environ.get("FLEETREG_TEST_FUZZ_EXAMPLES", "25"))
CONFIG = {
    "seed": 20261122,
    "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
    "phases": {"stateful": {"enabled": False}},
}
HYPOTHESIS = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def load_schema(fleet_auth: str) -> Any:
    """The Schemathesis schema of the app's own /openapi.json (no database needed to build it)."""
    settings = Settings(database_url=None, fleet_auth=fleet_auth, data_dir=Path("unused"))
    document = openapi_of(create_app(settings))
    return schemathesis.openapi.from_dict(document, config=schemathesis.Config.from_dict(CONFIG))


# The event stream answers forever by design (each example would run to the read timeout); its
# contract is tested against a real server in tests/events/test_stream.py.
OPEN = load_schema("none").exclude(path="/v2/events/stream")
SECURED = load_schema("required").exclude(path="/v2/events/stream")


# Path parameter (contract name) -> the kind of resource whose known ids replace generated ones.
PATH_KINDS = {
    "connector-id": "connectors",
    "customer-id": "customers",
    "enterprise_id": "enterprises",
    "vehicle_id": "vehicles",
    "device_id": "devices",
    "chip_id": "chips",
    "association_id": "associations",
}

# Body members holding ids, and the kind of resource whose known ids replace generated ones.
BODY_KINDS = {
    "customer_id": "customers",
    "enterprise_id": "enterprises",
    "vehicle_id": "vehicles",
    "device_id": "devices",
}


@dataclass
class Target:
    """The app under test, its client, a token with every scope and the ids of the data it holds."""

    client: asgi.ASGIClient
    headers: dict[str, str]
    ids: dict[str, list[str]] = field(default_factory=dict)

    def aim(self, case: Any) -> None:
        """Replace about half of the generated ids, in the path and in the body, by ids that exist.
        The choice is drawn from the case itself, so a derandomized run sends the same requests."""
        body = case.body if isinstance(case.body, dict | list) else None
        choice = random.Random(repr((sorted((case.path_parameters or {}).items()), body)))
        for name in list(case.path_parameters or {}):
            known = self.ids.get(PATH_KINDS.get(name, ""), [])
            if known and choice.random() < 0.5:
                case.path_parameters[name] = choice.choice(known)
        if body is not None:
            self._aim_body(body, choice)

    def _aim_body(self, value: Any, choice: random.Random) -> None:
        if isinstance(value, list):
            for item in value:
                self._aim_body(item, choice)
        elif isinstance(value, dict):
            if value.get("type") == "device_association" and isinstance(value.get("id"), str):
                self._replace(value, "id", "associations", choice)
            for key, member in value.items():
                if key in BODY_KINDS and isinstance(member, str):
                    self._replace(value, key, BODY_KINDS[key], choice)
                else:
                    self._aim_body(member, choice)

    def _replace(self, value: dict[str, Any], key: str, kind: str, choice: random.Random) -> None:
        known = self.ids.get(kind, [])
        if known and choice.random() < 0.5:
            value[key] = choice.choice(known)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers=self.headers)
        assert response.status_code in (200, 201), response.text
        created: dict[str, Any] = response.json()
        return created


async def _target(settings: Settings, fleet_auth: str) -> AsyncIterator[Target]:
    settings = settings.model_copy(update={"fleet_auth": fleet_auth})
    assert settings.database_url is not None
    api = await create_client_in(settings.database_url, scope=EVERY_SCOPE)
    app = create_app(settings)
    with asgi.get_client(app) as client:  # starts the lifespan on Schemathesis's event loop thread
        token = tokens_of(app).issue(api.client_id, parse_scope(api.scope), api.partner_id, None)
        target = Target(client, {"Authorization": f"Bearer {token}"})
        _populate(target)
        yield target
    asgi.shutdown_lifespans()


def _populate(target: Target) -> None:
    ids = target.ids
    customers = [target.post("/v2/customers", {"name": f"Customer {n}"})["id"] for n in range(2)]
    connectors = [
        target.post(
            "/v2/customers/connectors",
            {
                "name": f"C{n}",
                "type": "virtual" if n % 2 else "physical",
                "hardware_version": "11",
                "software_version": "8756",
                "pin": "01234" if n else None,
                "customer_id": customers[0] if n < 2 else None,
            },
        )["id"]
        for n in range(3)
    ]
    enterprise = target.post("/v2/enterprises", {"data": {"attributes": {"name": "Acme", "cnpj": "11222333000181"}}})
    enterprise_id = enterprise["data"]["id"]
    vehicles = target.post(
        "/v2/vehicles",
        {"data": [{"attributes": {"enterprise_id": enterprise_id, "name": f"Truck {n}"}} for n in range(2)]},
    )["data"]
    imeis = ["350000000000014", "350000000000022", "350000000000030"]
    devices = target.post(
        "/v2/devices",
        {
            "data": [
                {"attributes": {"enterprise_id": enterprise_id, "name": f"Tracker {n}", "imei": imei, "code": f"T{n}"}}
                for n, imei in enumerate(imeis)
            ]
        },
    )["data"]
    chips = target.post(
        "/v2/chips",
        {
            "data": [
                {
                    "attributes": {
                        "serial": serial,
                        "number": f"+551198765432{n}",
                        "carrier": "Vivo",
                        "service_provider": "Vivo IoT",
                        "batch": "B1",
                        "device_id": devices[n]["id"],
                    }
                }
                for n, serial in enumerate(["8955010000000000013", "89550100000000000213"])
            ]
        },
    )["data"]
    associations = target.post(
        "/v2/vehicles/associations/devices",
        {
            "data": [
                {"vehicle_id": vehicles[0]["id"], "device_id": devices[0]["id"], "is_main_device": True},
                {"vehicle_id": vehicles[0]["id"], "device_id": devices[1]["id"], "is_main_device": False},
            ]
        },
    )["data"]
    ids.update(
        customers=customers,
        connectors=connectors,
        enterprises=[enterprise_id],
        vehicles=[row["id"] for row in vehicles],
        devices=[row["id"] for row in devices],
        chips=[row["id"] for row in chips],
        associations=[row["id"] for row in associations],
    )


@pytest.fixture
async def open_target(settings: Settings) -> AsyncIterator[Target]:
    async for target in _target(settings, "none"):
        yield target


@pytest.fixture
async def secured_target(settings: Settings) -> AsyncIterator[Target]:
    async for target in _target(settings, "required"):
        yield target


# A long poll answers when an event comes or when its ``wait`` ends: up to 30 s of nothing per example.
# Every value is still checked (0..30, and what is outside it refused); the wait itself is cut short.
LONGEST_WAIT_TRIED = 1


def _call(case: Any, target: Target) -> None:
    target.aim(case)
    wait = (case.query or {}).get("wait")
    if case.path == "/v2/events" and isinstance(wait, int | str) and str(wait).isdigit() and 1 < int(wait) <= 30:
        case.query["wait"] = type(wait)(LONGEST_WAIT_TRIED)
    case.call_and_validate(base_url=BASE_URL, session=target.client, headers=target.headers, checks=CHECKS)


@OPEN.parametrize()
@HYPOTHESIS
def test_every_operation_with_fleet_auth_none(case: Any, open_target: Target) -> None:
    _call(case, open_target)


@SECURED.parametrize()
@HYPOTHESIS
def test_every_operation_with_fleet_auth_required(case: Any, secured_target: Target) -> None:
    _call(case, secured_target)
