"""Helpers and fixtures of the fleet API tests.

A module name of its own, and no tests/fleet/conftest.py: tests/ is not a package, so every
conftest.py is imported as the module "conftest", and a second one would replace the root conftest
for the modules that import from it. Test modules bind the fixtures they use by assignment
(``fleet = fleet_helpers.fleet``).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from fleetreg.app import create_app
from fleetreg.fleet.formats import cnpj_check_digits
from fleetreg.settings import Settings
from fleetreg.web.app import WebApp

PROBLEM = "application/problem+json"


def luhn_complete(digits: str) -> str:
    """``digits`` with the Luhn check digit appended (computed once, not found by trying each digit:
    some tests make 100,000 of them)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (1 if position % 2 else 2)  # the digit next to the check digit is doubled
        total += value - 9 if value > 9 else value
    return digits + str(-total % 10)


def cnpj_of(number: int) -> str:
    """A valid CNPJ made from ``number`` (its 12 first digits, then the check digits)."""
    base = f"{number:012d}"
    return base + cnpj_check_digits(base)


def imei_of(number: int) -> str:
    return luhn_complete(f"35{number:012d}")


def iccid_of(number: int) -> str:
    return luhn_complete(f"895501{number:012d}")


def assert_problem(response: httpx.Response, status: int, title: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] == title, body
    assert body["type"].startswith("/problems/")
    assert body["detail"]
    return body


def pointers(problem: dict[str, Any]) -> list[str]:
    return [entry["pointer"] for entry in problem["errors"]]


class Fleet:
    """Creates resources through the API; every value is valid and unique within the test."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}
        self._numbers = itertools.count(1)

    def number(self) -> int:
        return next(self._numbers)

    def cnpj(self) -> str:
        return cnpj_of(self.number())

    def imei(self) -> str:
        return imei_of(self.number())

    def iccid(self) -> str:
        return luhn_complete(f"895501{self.number():012d}")

    def enterprise_attributes(self, **attributes: Any) -> dict[str, Any]:
        return {"name": f"Enterprise {self.number()}", "cnpj": self.cnpj(), **attributes}

    def vehicle_attributes(self, enterprise_id: str, **attributes: Any) -> dict[str, Any]:
        return {"enterprise_id": enterprise_id, "name": f"Truck {self.number()}", **attributes}

    def device_attributes(self, enterprise_id: str, **attributes: Any) -> dict[str, Any]:
        number = self.number()
        return {
            "enterprise_id": enterprise_id,
            "name": f"Tracker {number}",
            "imei": self.imei(),
            "code": f"T{number}",
            **attributes,
        }

    def chip_attributes(self, device_id: str | None = None, **attributes: Any) -> dict[str, Any]:
        number = self.number()
        return {
            "serial": self.iccid(),
            "number": f"+5511{number:09d}",
            "carrier": "Vivo",
            "service_provider": "Vivo IoT",
            "batch": "B1",
            "device_id": device_id,
            **attributes,
        }

    async def _create(self, path: str, attributes: dict[str, Any], resource_id: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"attributes": attributes}
        if resource_id is not None:
            data["id"] = resource_id
        response = await self.client.post(path, json={"data": data}, headers=self.headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()["data"]
        return created

    async def enterprise(self, resource_id: str | None = None, **attributes: Any) -> dict[str, Any]:
        return await self._create("/v2/enterprises", self.enterprise_attributes(**attributes), resource_id)

    async def vehicle(self, enterprise_id: str, resource_id: str | None = None, **attributes: Any) -> dict[str, Any]:
        return await self._create("/v2/vehicles", self.vehicle_attributes(enterprise_id, **attributes), resource_id)

    async def device(self, enterprise_id: str, resource_id: str | None = None, **attributes: Any) -> dict[str, Any]:
        return await self._create("/v2/devices", self.device_attributes(enterprise_id, **attributes), resource_id)

    async def chip(
        self, device_id: str | None = None, resource_id: str | None = None, **attributes: Any
    ) -> dict[str, Any]:
        return await self._create("/v2/chips", self.chip_attributes(device_id, **attributes), resource_id)

    async def associate(self, *items: tuple[str, str, bool]) -> list[dict[str, Any]]:
        """Associate (vehicle_id, device_id, is_main) items; the created associations."""
        response = await self.associate_raw(*items)
        assert response.status_code == 200, response.text
        created: list[dict[str, Any]] = response.json()["data"]
        return created

    async def associate_raw(self, *items: tuple[str, str, bool]) -> httpx.Response:
        body = {"data": [{"vehicle_id": v, "device_id": d, "is_main_device": main} for v, d, main in items]}
        return await self.client.post("/v2/vehicles/associations/devices", json=body, headers=self.headers)

    async def end(self, *association_ids: str) -> httpx.Response:
        body = {"data": [{"type": "device_association", "id": i} for i in association_ids]}
        return await self.client.request("DELETE", "/v2/vehicles/associations/devices", json=body, headers=self.headers)


async def assert_invariants(db: asyncpg.Connection) -> None:
    two_active = await db.fetch(
        "SELECT device_id FROM device_associations WHERE ended_at IS NULL GROUP BY device_id HAVING count(*) > 1"
    )
    assert two_active == [], "a device has two active associations"
    mains = await db.fetch(
        """SELECT vehicle_id, count(*) FILTER (WHERE is_main_device) AS mains FROM device_associations
           WHERE ended_at IS NULL GROUP BY vehicle_id HAVING count(*) FILTER (WHERE is_main_device) <> 1"""
    )
    assert mains == [], f"vehicles without exactly one main: {mains}"
    mixed = await db.fetch(
        """SELECT a.id FROM device_associations a JOIN vehicles v ON v.id = a.vehicle_id
           JOIN devices d ON d.id = a.device_id
           WHERE v.enterprise_id <> a.enterprise_id OR d.enterprise_id <> a.enterprise_id"""
    )
    assert mixed == [], "an association crosses enterprises"
    overlapping = await db.fetch(
        """SELECT a.id FROM device_associations a JOIN device_associations b
           ON a.device_id = b.device_id AND a.id < b.id
           AND tstzrange(a.created_at, a.ended_at) && tstzrange(b.created_at, b.ended_at)"""
    )
    assert overlapping == [], "a device's associations overlap in time"


# -- fixtures (bound by the test modules) ---------------------------------------------------------


@pytest.fixture
def fleet(client: httpx.AsyncClient) -> Fleet:
    """Creates resources through the test's ``client``."""
    return Fleet(client)


@pytest.fixture
async def invariants(db: asyncpg.Connection) -> AsyncIterator[None]:
    """After the test: the four invariants of API.md hold in the database, whatever happened."""
    yield
    await assert_invariants(db)


@pytest.fixture
def auth_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, data_dir=tmp_path / "data", db_pool_min=1, db_pool_max=5, fleet_auth="required"
    )


@pytest.fixture
async def auth_app(auth_settings: Settings) -> AsyncIterator[WebApp]:
    application = create_app(auth_settings)
    async with application.running():
        yield application


@pytest.fixture
async def auth_client(auth_app: WebApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=auth_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fleetreg.test") as http:
        yield http
