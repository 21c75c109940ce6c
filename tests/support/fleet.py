"""Fleet resources through the API, and valid fleet identifiers (CNPJ, IMEI, ICCID)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from fleetreg.fleet.formats import cnpj_check_digits


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
