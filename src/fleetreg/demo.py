"""The demo data set behind ``fleetreg demo``: a partner with customers and connectors, two enterprises
with vehicles, devices, chips and vehicle-device associations (active ones and some history), and an
OAuth client to call the API with.

Every read and every write goes through the services the API uses (``partner.service``, ``fleet.service``,
``fleet.associations.service``, ``auth.clients``), so the checks, the counter tables and the
invariants hold as for any request.

The data is recognized by its business keys, never by ids (the service generates those):
the partner by its name, customers by name within it, connectors by name, enterprises by CNPJ,
vehicles by name within their enterprise, devices by IMEI, chips by serial. Loading creates what is
missing and leaves what exists alone, so running it twice adds nothing. The associations are made
once, when none of the demo vehicles has any association yet.

Resetting removes the demo the way the API would: it ends the active associations, deletes the chips,
deletes (softly) devices, vehicles and enterprises, deletes the partner's connectors and customers and
revokes its clients. Associations are history and are never erased (invariant 4): the ended ones stay,
attached to deleted vehicles the API no longer shows. The next load makes fresh rows with new ids.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from fleetreg.auth import clients as client_service
from fleetreg.auth.scopes import ALL_SCOPES
from fleetreg.db import Database
from fleetreg.fleet import formats, kinds
from fleetreg.fleet import service as fleet
from fleetreg.fleet.associations import service as associations
from fleetreg.fleet.associations.parameters import ObjectParameters
from fleetreg.fleet.kinds import Kind, NewItem
from fleetreg.fleet.schemas import MODELS
from fleetreg.partner import service as partner
from fleetreg.partner.schemas import ConnectorType, NewConnector
from fleetreg.problems import AppError

PARTNER = "demo-partner"
SCOPE = " ".join(ALL_SCOPES)
# pg_advisory_lock key of a demo run: "fleetdmo" in ASCII.
_LOCK_KEY = int.from_bytes(b"fleetdmo", "big")


class DemoError(Exception):
    """The demo cannot be loaded or reset as asked; the message says why."""


def _luhn(base: str) -> str:
    """``base`` completed with its Luhn check digit."""
    return next(base + digit for digit in "0123456789" if formats.luhn_valid(base + digit))


def _cnpj(base: str) -> str:
    return base + formats.cnpj_check_digits(base)


# -- the data set -------------------------------------------------------------------------------------------

CUSTOMERS = ("Locadora Horizonte", "Ágil Car Sharing", "Rota Sul Transportes")


@dataclass(frozen=True)
class DemoConnector:
    name: str
    type: ConnectorType
    hardware_version: str
    software_version: str
    pin: str | None
    customer: str | None


CONNECTORS = (
    DemoConnector("DEMO-1001", "physical", "11", "8756", "01234", "Locadora Horizonte"),
    DemoConnector("DEMO-1002", "physical", "11", "8756", None, "Locadora Horizonte"),
    DemoConnector("DEMO-1003", "virtual", "2", "9120", None, "Ágil Car Sharing"),
    DemoConnector("DEMO-1004", "physical", "12", "8801", "48213", "Rota Sul Transportes"),
    DemoConnector("DEMO-1005", "virtual", "2", "9120", None, None),
    DemoConnector("DEMO-1006", "physical", "12", "8801", None, None),
    DemoConnector("DEMO-1007", "physical", "11", "8756", "77001", None),
    DemoConnector("DEMO-1008", "virtual", "3", "9200", None, None),
)


@dataclass(frozen=True)
class DemoVehicle:
    name: str
    plate: str | None
    vin: str | None


@dataclass(frozen=True)
class DemoDevice:
    name: str
    imei: str
    code: str
    chip: DemoChip | None = None


@dataclass(frozen=True)
class DemoChip:
    serial: str
    number: str
    carrier: str
    service_provider: str
    batch: str


@dataclass(frozen=True)
class DemoEnterprise:
    name: str
    cnpj: str
    vehicles: tuple[DemoVehicle, ...]
    devices: tuple[DemoDevice, ...]


def _chip(number: int, carrier: str, provider: str, batch: str) -> DemoChip:
    return DemoChip(_luhn(f"895510{number:012d}"), f"+55119{number:08d}", carrier, provider, batch)


ENTERPRISES = (
    DemoEnterprise(
        "Transportes Aurora Ltda",
        _cnpj("112223330001"),  # a numeric CNPJ: 11.222.333/0001-81
        (
            DemoVehicle("Truck 01", "RIO2A18", "9BWZZZ377VT004251"),
            DemoVehicle("Truck 02", "SPA4C27", "9BM958074YB190812"),
            DemoVehicle("Van 03", "MGR7F55", None),
        ),
        (
            DemoDevice("Tracker A1", _luhn("35209010000101"), "FMC130-A1", _chip(101, "Vivo", "Arqia", "2026-09")),
            DemoDevice("Tracker A2", _luhn("35209010000102"), "FMC130-A2", _chip(102, "Claro", "Arqia", "2026-09")),
            DemoDevice("Tracker A3", _luhn("35209010000103"), "FMC130-A3", _chip(103, "TIM", "Links Field", "2026-10")),
            DemoDevice("Tracker A4", _luhn("35209010000104"), "FMC130-A4", _chip(104, "Vivo", "Arqia", "2026-10")),
            DemoDevice("Tracker A5", _luhn("35209010000105"), "FMC130-A5"),
        ),
    ),
    DemoEnterprise(
        "Logística Ipê S.A.",
        _cnpj("12ABC34501DE"),  # an alphanumeric CNPJ (in force since July 2026): 12.ABC.345/01DE-35
        (
            DemoVehicle("Truck 11", "PRX3B91", "93HFC2630HZ123456"),
            DemoVehicle("Pickup 12", "SCA1E04", None),
        ),
        (
            DemoDevice(
                "Tracker B1", _luhn("86123405000201"), "GV300-B1", _chip(201, "Claro", "Vodafone IoT", "2026-08")
            ),
            DemoDevice(
                "Tracker B2", _luhn("86123405000202"), "GV300-B2", _chip(202, "Vivo", "Vodafone IoT", "2026-08")
            ),
            DemoDevice("Tracker B3", _luhn("86123405000203"), "GV300-B3"),
        ),
    ),
)
# A chip in stock: installed in no device.
SPARE_CHIPS = (_chip(900, "TIM", "Links Field", "2026-10"),)

# (vehicle name, device name, main?) in steps; a step "end" ends the listed pairs. What stays:
#   Truck 01: A1 main, A2 secondary     Truck 02: A4 main     Van 03: none (A3 and A5 are free)
#   Truck 11: B1 main, B2 secondary     Pickup 12: B3 main
# and history: A4 was secondary on Truck 01, A3 main on Truck 02, B3 secondary on Truck 11.
_Pair = tuple[str, str, bool]
SCENARIO: tuple[tuple[str, tuple[_Pair, ...]], ...] = (
    (
        "create",
        (
            ("Truck 01", "Tracker A1", True),
            ("Truck 01", "Tracker A4", False),
            ("Truck 02", "Tracker A3", True),
            ("Truck 11", "Tracker B1", True),
            ("Truck 11", "Tracker B3", False),
        ),
    ),
    ("end", (("Truck 01", "Tracker A4", False), ("Truck 02", "Tracker A3", True), ("Truck 11", "Tracker B3", False))),
    (
        "create",
        (
            ("Truck 01", "Tracker A2", False),
            ("Truck 02", "Tracker A4", True),
            ("Truck 11", "Tracker B2", False),
            ("Pickup 12", "Tracker B3", True),
        ),
    ),
)


# -- loading -------------------------------------------------------------------------------------------------


@dataclass
class DemoResult:
    partner: str
    partner_id: uuid.UUID
    client: client_service.NewClient
    created: int
    """Rows this run created (0: the demo was loaded already)."""
    revoked_clients: int
    summary: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"partner": self.partner, "client_id": self.client.client_id, "client_secret": self.client.client_secret}


def _all_chips() -> list[DemoChip]:
    return [device.chip for e in ENTERPRISES for device in e.devices if device.chip] + list(SPARE_CHIPS)


@contextlib.asynccontextmanager
async def exclusive(db: Database) -> AsyncIterator[None]:
    """One demo run at a time on a database: two at once would each see the other's half-made data."""
    async with db.exclusive(_LOCK_KEY):
        yield


async def is_empty(db: Database) -> bool:
    """True when the database holds no data at all: no partner, client, live enterprise or chip."""
    if await client_service.list_partners(db) or await client_service.list_clients(db):
        return False
    for kind in (kinds.ENTERPRISE, kinds.CHIP):
        if (await fleet.list_rows(db, None, kind, limit=1, page=0, count=False, search=None)).rows:
            return False
    return True


async def load(db: Database) -> DemoResult:
    """Create whatever of the demo is missing, then a new demo client (revoking the previous ones)."""
    try:
        partner_id = await client_service.ensure_partner(db, PARTNER)
        created = await _load_partner(db, partner_id)
        enterprise_ids, fleet_created = await _load_fleet(db)
        created += fleet_created
        client = await client_service.create_client(db, scope=SCOPE, partner_name=PARTNER, enterprise_id=None)
        revoked = 0
        for client_id in await _active_clients(db, partner_id=partner_id):
            if client_id != client.client_id and await client_service.revoke_client(db, client_id):
                revoked += 1
    except AppError as error:
        raise DemoError(f"{error.title}: {error.detail}") from error
    summary = await _summary(db, partner_id, enterprise_ids)
    return DemoResult(PARTNER, partner_id, client, created, revoked, summary)


# -- reading it back through the services ---------------------------------------------------------------

_EVERYTHING = 10**6  # a page larger than the demo: one call lists it all


async def _customers(db: Database, partner_id: uuid.UUID) -> list[dict[str, Any]]:
    rows, _ = await partner.list_customers(db, partner_id, name=None, limit=_EVERYTHING, offset=0)
    return rows


async def _connectors(db: Database, partner_id: uuid.UUID) -> list[dict[str, Any]]:
    items, _ = await partner.list_connectors(db, partner_id, partner.connector_filters(), limit=_EVERYTHING, offset=0)
    connectors: list[dict[str, Any]] = orjson.loads(b"[" + items + b"]")
    return connectors


async def _active_clients(
    db: Database, *, partner_id: uuid.UUID | None = None, enterprise_id: str | None = None
) -> list[str]:
    return [
        row["id"]
        for row in await client_service.list_clients(db)
        if row["revoked_at"] is None
        and (
            (partner_id is not None and row["partner_id"] == partner_id)
            or (enterprise_id is not None and row["enterprise_id"] == enterprise_id)
        )
    ]


async def _active_associations(db: Database, vehicle_id: str) -> list[Any]:
    everything = associations.AssociationListQuery(
        vehicle_id, ObjectParameters(), search=None, limit=100, page=0, count=False, as_of=None
    )
    return (await associations.list_vehicle_associations(db, None, everything)).rows


async def _history_length(db: Database, device_id: str) -> int:
    page = await associations.device_history(db, None, device_id, as_of=None, limit=1, page=0, count=True)
    return page.total or 0


async def _summary(db: Database, partner_id: uuid.UUID, enterprise_ids: list[str]) -> dict[str, int]:
    connectors = await _connectors(db, partner_id)
    vehicles = await fleet.find(db, kinds.VEHICLE, "enterprise_id", enterprise_ids)
    devices = await fleet.find(db, kinds.DEVICE, "enterprise_id", enterprise_ids)
    active = [row for vehicle in vehicles for row in await _active_associations(db, vehicle["id"])]
    ever = sum([await _history_length(db, device["id"]) for device in devices])
    return {
        "customers": len(await _customers(db, partner_id)),
        "connectors": len(connectors),
        "assigned_connectors": sum(connector["customer_id"] is not None for connector in connectors),
        "enterprises": len(enterprise_ids),
        "vehicles": len(vehicles),
        "devices": len(devices),
        "chips": len(await fleet.find(db, kinds.CHIP, "serial", [chip.serial for chip in _all_chips()])),
        "active_associations": len(active),
        "ended_associations": ever - len(active),
    }


# -- loading ------------------------------------------------------------------------------------------------


async def _load_partner(db: Database, partner_id: uuid.UUID) -> int:
    created = 0
    customers: dict[str, Any] = {}
    for row in await _customers(db, partner_id):
        customers.setdefault(row["name"], row["id"])
    for name in CUSTOMERS:
        if name not in customers:
            customers[name] = (await partner.create_customer(db, partner_id, name))["id"]
            created += 1
    existing = {connector["name"] for connector in await _connectors(db, partner_id)}
    for connector in CONNECTORS:
        if connector.name in existing:
            continue
        new = NewConnector(
            name=connector.name,
            type=connector.type,
            hardware_version=connector.hardware_version,
            software_version=connector.software_version,
            pin=connector.pin,
            customer_id=customers[connector.customer] if connector.customer else None,
        )
        await partner.create_connector(db, partner_id, new)
        created += 1
    return created


async def _create_one(db: Database, kind: Kind, attributes: dict[str, Any]) -> str:
    """Create one resource through the fleet service, its attributes checked as a request body's."""
    checked = MODELS[kind].attributes.model_validate(attributes).model_dump()
    (row,) = await fleet.create(db, None, kind, [NewItem("/data", None, checked)])
    return str(row["id"])


async def _load_fleet(db: Database) -> tuple[list[str], int]:
    created = 0
    enterprises = {
        row["cnpj"]: row["id"] for row in await fleet.find(db, kinds.ENTERPRISE, "cnpj", [e.cnpj for e in ENTERPRISES])
    }
    imeis = [device.imei for e in ENTERPRISES for device in e.devices]
    devices = {row["imei"]: row for row in await fleet.find(db, kinds.DEVICE, "imei", imeis)}
    chips = {
        row["serial"] for row in await fleet.find(db, kinds.CHIP, "serial", [chip.serial for chip in _all_chips()])
    }
    vehicle_ids: dict[str, str] = {}
    device_ids: dict[str, str] = {}
    for enterprise in ENTERPRISES:
        enterprise_id = enterprises.get(enterprise.cnpj)
        if enterprise_id is None:
            enterprise_id = await _create_one(db, kinds.ENTERPRISE, {"name": enterprise.name, "cnpj": enterprise.cnpj})
            enterprises[enterprise.cnpj] = enterprise_id
            created += 1
        vehicles: dict[str, str] = {}
        for row in await fleet.find(db, kinds.VEHICLE, "enterprise_id", [enterprise_id]):
            vehicles.setdefault(row["name"], row["id"])
        for vehicle in enterprise.vehicles:
            if vehicle.name not in vehicles:
                attributes = {"enterprise_id": enterprise_id, "name": vehicle.name, "plate": vehicle.plate}
                vehicles[vehicle.name] = await _create_one(db, kinds.VEHICLE, attributes | {"vin": vehicle.vin})
                created += 1
            vehicle_ids[vehicle.name] = vehicles[vehicle.name]
        for device in enterprise.devices:
            row = devices.get(device.imei)
            if row is None:
                attributes = {"enterprise_id": enterprise_id, "name": device.name, "imei": device.imei}
                device_ids[device.name] = await _create_one(db, kinds.DEVICE, attributes | {"code": device.code})
                created += 1
            elif row["enterprise_id"] != enterprise_id:
                raise DemoError(
                    f"the IMEI {device.imei} of the demo's {device.name} belongs to device {row['id']} of another "
                    "enterprise; delete that device or choose an empty database"
                )
            else:
                device_ids[device.name] = row["id"]
            if device.chip is not None and device.chip.serial not in chips:
                await _create_chip(db, device.chip, device_ids[device.name])
                created += 1
    for chip in SPARE_CHIPS:
        if chip.serial not in chips:
            await _create_chip(db, chip, None)
            created += 1
    if not any([await _history_length(db, device_id) for device_id in device_ids.values()]):
        created += await _play_scenario(db, vehicle_ids, device_ids)
    return list(enterprises.values()), created


async def _create_chip(db: Database, chip: DemoChip, device_id: str | None) -> None:
    attributes = {
        "serial": chip.serial,
        "number": chip.number,
        "carrier": chip.carrier,
        "service_provider": chip.service_provider,
        "batch": chip.batch,
        "device_id": device_id,
    }
    await _create_one(db, kinds.CHIP, attributes)


async def _play_scenario(db: Database, vehicles: dict[str, str], devices: dict[str, str]) -> int:
    created = 0
    for step, pairs in SCENARIO:
        if step == "create":
            items = [
                associations.AssociationItem(f"/data/{n}", vehicles[vehicle], devices[device], main)
                for n, (vehicle, device, main) in enumerate(pairs)
            ]
            created += len(await associations.create_associations(db, None, items))
        else:
            references = []
            for n, (vehicle, device, _) in enumerate(pairs):
                (association,) = [
                    row
                    for row in await _active_associations(db, vehicles[vehicle])
                    if row["device_id"] == devices[device]
                ]
                references.append(associations.AssociationReference(f"/data/{n}", association["id"]))
            await associations.end_associations(db, None, references)
    return created


# -- reset ---------------------------------------------------------------------------------------------------


async def reset(db: Database) -> int:
    """Remove the demo data as the API would; the number of rows removed, ended or revoked."""
    removed = 0
    try:
        partner_id = next((row["id"] for row in await client_service.list_partners(db) if row["name"] == PARTNER), None)
        if partner_id is not None:
            for connector in await _connectors(db, partner_id):
                await partner.delete_connector(db, partner_id, uuid.UUID(connector["id"]))
                removed += 1
            for customer in await _customers(db, partner_id):
                await partner.delete_customer(db, partner_id, customer["id"])
                removed += 1
            removed += await _revoke(db, await _active_clients(db, partner_id=partner_id))
        for row in await fleet.find(db, kinds.ENTERPRISE, "cnpj", [e.cnpj for e in ENTERPRISES]):
            removed += await _remove_enterprise(db, row["id"])
        for row in await fleet.find(db, kinds.CHIP, "serial", [chip.serial for chip in _all_chips()]):
            await fleet.delete(db, None, kinds.CHIP, row["id"])
            removed += 1
    except AppError as error:
        raise DemoError(f"{error.title}: {error.detail}") from error
    return removed


async def _revoke(db: Database, client_ids: Sequence[str]) -> int:
    return sum([await client_service.revoke_client(db, client_id) for client_id in client_ids])


async def _remove_enterprise(db: Database, enterprise_id: str) -> int:
    """End the enterprise's associations, remove its chips, devices and vehicles, then the enterprise."""
    removed = 0
    vehicles = await fleet.find(db, kinds.VEHICLE, "enterprise_id", [enterprise_id])
    active = [row for vehicle in vehicles for row in await _active_associations(db, vehicle["id"])]
    if active:
        references = [associations.AssociationReference(f"/data/{n}", row["id"]) for n, row in enumerate(active)]
        removed += len(await associations.end_associations(db, None, references))
    devices = await fleet.find(db, kinds.DEVICE, "enterprise_id", [enterprise_id])
    chips = await fleet.find(db, kinds.CHIP, "device_id", [device["id"] for device in devices])
    for kind, rows in ((kinds.CHIP, chips), (kinds.DEVICE, devices), (kinds.VEHICLE, vehicles)):
        for row in sorted(rows, key=lambda row: row["id"]):
            await fleet.delete(db, None, kind, row["id"])
            removed += 1
    removed += await _revoke(db, await _active_clients(db, enterprise_id=enterprise_id))
    await fleet.delete(db, None, kinds.ENTERPRISE, enterprise_id)
    return removed + 1
