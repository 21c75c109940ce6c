"""The rules of the device associations: checks, the order of locks, and which error each case is.

Locks follow the fleet's one order (``fleet.service``): vehicles in id order, then devices in id
order (FOR NO KEY UPDATE), so that concurrent requests queue instead of deadlocking. When several
kinds of error apply to one request, the first in this order is reported (with all of its items):

    associate: 400 body -> 404 Vehicle Not Found -> 404 Device Not Found -> 400 different enterprises
               -> 400 device already associated -> 400 vehicle already has main -> 400 must be main
    end:       400 body -> 404 Association Not Found -> 400 must be main
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asyncpg import Record

from fleetreg.db import Connection, Database
from fleetreg.fleet import errors, formats
from fleetreg.fleet import queries as fleet_queries
from fleetreg.fleet.associations import queries
from fleetreg.fleet.associations.parameters import ObjectParameters
from fleetreg.fleet.kinds import DEVICE, VEHICLE
from fleetreg.paging import Page, offset
from fleetreg.problems import BadRequest, entry


@dataclass(frozen=True)
class AssociationItem:
    pointer: str
    vehicle_id: str
    device_id: str
    is_main_device: bool


async def create_associations(db: Database, enterprise: str | None, items: Sequence[AssociationItem]) -> list[Record]:
    """Associate every item or none; the new associations in the order of ``items``."""

    async def work(connection: Connection) -> list[Record]:
        vehicles = await fleet_queries.fetch_by_ids(
            connection, VEHICLE, enterprise, sorted({item.vehicle_id for item in items}), lock="NO KEY UPDATE"
        )
        devices = await fleet_queries.fetch_by_ids(
            connection, DEVICE, enterprise, sorted({item.device_id for item in items}), lock="NO KEY UPDATE"
        )
        _check_existence(items, vehicles, devices)
        _check_enterprises(items, vehicles, devices)
        active = {
            row["device_id"]: row["vehicle_id"]
            for row in await connection.fetch(queries.ACTIVE_ASSOCIATIONS_OF_DEVICES, list(devices))
        }
        _check_devices_free(items, active)
        current = await connection.fetch(queries.ACTIVE_ASSOCIATIONS_OF_VEHICLES, list(vehicles))
        _check_mains(items, {row["vehicle_id"] for row in current if row["is_main_device"]})
        ids = [formats.new_id() for _ in items]
        rows = await connection.fetch(
            queries.INSERT_ASSOCIATIONS,
            ids,
            [vehicles[item.vehicle_id]["enterprise_id"] for item in items],
            [item.vehicle_id for item in items],
            [item.device_id for item in items],
            [item.is_main_device for item in items],
        )
        by_id = {row["id"]: row for row in rows}
        return [by_id[association_id] for association_id in ids]

    return await db.write(work)


def _check_existence(
    items: Sequence[AssociationItem], vehicles: Mapping[str, Record], devices: Mapping[str, Record]
) -> None:
    missing_vehicles = [
        entry(f"{item.pointer}/vehicle_id", f"no vehicle {item.vehicle_id}")
        for item in items
        if item.vehicle_id not in vehicles
    ]
    if missing_vehicles:
        raise errors.VehicleNotFound.itemized(missing_vehicles)
    missing_devices = [
        entry(f"{item.pointer}/device_id", f"no device {item.device_id}")
        for item in items
        if item.device_id not in devices
    ]
    if missing_devices:
        raise errors.DeviceNotFound.itemized(missing_devices)


def _check_enterprises(
    items: Sequence[AssociationItem], vehicles: Mapping[str, Record], devices: Mapping[str, Record]
) -> None:
    entries = []
    for item in items:
        vehicle_enterprise = vehicles[item.vehicle_id]["enterprise_id"]
        device_enterprise = devices[item.device_id]["enterprise_id"]
        if vehicle_enterprise != device_enterprise:
            entries.append(
                entry(
                    item.pointer,
                    f"vehicle {item.vehicle_id} is in enterprise {vehicle_enterprise}, "
                    f"device {item.device_id} in enterprise {device_enterprise}",
                )
            )
    if entries:
        raise errors.EnterpriseMismatch.itemized(entries)


def _check_devices_free(items: Sequence[AssociationItem], active: Mapping[str, str]) -> None:
    """Each device must have no active association, and appear once in the request."""
    first: dict[str, str] = {}
    entries = []
    for item in items:
        pointer = f"{item.pointer}/device_id"
        vehicle = active.get(item.device_id)
        if vehicle == item.vehicle_id:
            entries.append(entry(pointer, f"device {item.device_id} is associated with this vehicle already"))
        elif vehicle is not None:
            entries.append(entry(pointer, f"device {item.device_id} is associated with vehicle {vehicle}"))
        elif item.device_id in first:
            entries.append(
                entry(
                    pointer, f"device {item.device_id} appears twice in the request (first at {first[item.device_id]})"
                )
            )
        first.setdefault(item.device_id, pointer)
    if entries:
        raise errors.DeviceAlreadyAssociated.itemized(entries)


def _check_mains(items: Sequence[AssociationItem], with_main: set[str]) -> None:
    """At most one main per vehicle (counting the current one), and one at least for a vehicle that
    gets associations."""
    first: dict[str, str] = {}
    entries = []
    for item in items:
        if not item.is_main_device:
            continue
        pointer = f"{item.pointer}/is_main_device"
        if item.vehicle_id in with_main:
            entries.append(entry(pointer, f"vehicle {item.vehicle_id} has a main device already"))
        elif item.vehicle_id in first:
            entries.append(
                entry(
                    pointer,
                    f"a second main device for vehicle {item.vehicle_id} (the first at {first[item.vehicle_id]})",
                )
            )
        first.setdefault(item.vehicle_id, pointer)
    if entries:
        raise errors.VehicleAlreadyHasMainDevice.itemized(entries)
    without_main = [
        entry(
            f"{item.pointer}/is_main_device",
            f"vehicle {item.vehicle_id} would have associations but no main device; make one of them main",
        )
        for item in items
        if item.vehicle_id not in with_main and item.vehicle_id not in first
    ]
    if without_main:
        raise errors.MainDeviceRequired.itemized(without_main)


@dataclass(frozen=True)
class AssociationReference:
    pointer: str
    id: str


async def end_associations(
    db: Database, enterprise: str | None, references: Sequence[AssociationReference]
) -> list[Record]:
    """End every association or none; the ended associations in the order of ``references``."""
    first: dict[str, str] = {}
    twice = []
    for reference in references:
        if reference.id in first:
            twice.append(
                entry(
                    f"{reference.pointer}/id",
                    f"association {reference.id} appears twice (first at {first[reference.id]})",
                )
            )
        first.setdefault(reference.id, f"{reference.pointer}/id")
    if twice:
        raise BadRequest.from_errors(twice)
    ids = [reference.id for reference in references]

    async def work(connection: Connection) -> list[Record]:
        # The vehicles and devices are known only from the rows: read, lock them, read again.
        seen = await connection.fetch(queries.ASSOCIATIONS_BY_IDS, ids, enterprise)
        active = [row for row in seen if row["ended_at"] is None]
        await fleet_queries.fetch_by_ids(
            connection, VEHICLE, enterprise, sorted({row["vehicle_id"] for row in active}), lock="NO KEY UPDATE"
        )
        await fleet_queries.fetch_by_ids(
            connection, DEVICE, enterprise, sorted({row["device_id"] for row in active}), lock="NO KEY UPDATE"
        )
        rows = {row["id"]: row for row in await connection.fetch(queries.ASSOCIATIONS_BY_IDS, ids, enterprise)}
        missing = []
        for reference in references:
            row = rows.get(reference.id)
            if row is None:
                missing.append(entry(f"{reference.pointer}/id", f"no association {reference.id}"))
            elif row["ended_at"] is not None:
                missing.append(entry(f"{reference.pointer}/id", f"association {reference.id} has ended already"))
        if missing:
            raise errors.AssociationNotFound.itemized(missing)
        ending = set(ids)
        staying: dict[str, int] = {}
        vehicles = sorted({row["vehicle_id"] for row in rows.values()})
        for row in await connection.fetch(queries.ACTIVE_ASSOCIATIONS_OF_VEHICLES, vehicles):
            if row["id"] not in ending:
                staying[row["vehicle_id"]] = staying.get(row["vehicle_id"], 0) + 1
        orphaning = [
            entry(
                f"{reference.pointer}/id",
                f"association {reference.id} is the main one of vehicle {rows[reference.id]['vehicle_id']}, which "
                f"keeps {staying[rows[reference.id]['vehicle_id']]} other(s): make another main first, or end them too",
            )
            for reference in references
            if rows[reference.id]["is_main_device"] and staying.get(rows[reference.id]["vehicle_id"])
        ]
        if orphaning:
            raise errors.MainDeviceRequired.itemized(orphaning)
        ended = {row["id"]: row for row in await connection.fetch(queries.END_ASSOCIATIONS, ids)}
        return [ended[association_id] for association_id in ids]

    return await db.write(work)


async def update_association(
    db: Database, enterprise: str | None, vehicle_id: str, association_id: str, is_main_device: bool | None
) -> Record:
    """Make the association main (the previous main becomes secondary) or keep it as it is."""

    async def work(connection: Connection) -> Record:
        vehicle = await fleet_queries.fetch_by_ids(connection, VEHICLE, enterprise, [vehicle_id], lock="NO KEY UPDATE")
        row = None
        if vehicle:
            row = await connection.fetchrow(queries.ACTIVE_ASSOCIATION_OF_VEHICLE, association_id, vehicle_id)
        if row is None:
            raise errors.AssociationNotFound(f"vehicle {vehicle_id} has no active association {association_id}")
        if is_main_device is None or is_main_device == row["is_main_device"]:
            return row
        if not is_main_device:
            raise errors.MainDeviceRequired(
                f"association {association_id} is the main one of vehicle {vehicle_id}: make another "
                "association main instead (PATCH it with is_main_device true)",
                errors=[entry("/data/attributes/is_main_device", "the vehicle's only main association")],
            )
        await connection.execute(queries.DEMOTE_MAIN_OF_VEHICLE, vehicle_id)
        promoted: Record = await connection.fetchrow(queries.PROMOTE_ASSOCIATION, association_id)
        return promoted

    return await db.write(work)


@dataclass(frozen=True)
class AssociationListQuery:
    vehicle_id: str
    objects: ObjectParameters
    search: str | None
    limit: int
    page: int
    count: bool
    as_of: datetime | None


_CNPJ_PUNCTUATION = str.maketrans("", "", "./-")


async def list_vehicle_associations(db: Database, enterprise: str | None, query: AssociationListQuery) -> Page:
    """One statement: the vehicle (404 when not found), one page of its matching associations, the total."""
    filters = [
        # A CNPJ is stored bare and upper-case: compare the value in that form.
        (
            item.field,
            item.op,
            item.value.translate(_CNPJ_PUNCTUATION).upper() if item.field == "enterprise.cnpj" else item.value,
        )
        for item in query.objects.filters
    ]
    sql, args = queries.vehicle_associations(
        enterprise=enterprise,
        vehicle_id=query.vehicle_id,
        as_of=query.as_of,
        filters=filters,
        search=query.search,
        sort=query.objects.sort,
        limit=query.limit,
        offset=offset(query.limit, query.page),
        count=query.count,
    )
    rows = await db.fetch(sql, *args)
    if not rows:
        raise errors.VehicleNotFound(f"no vehicle {query.vehicle_id}")
    return Page.of(rows, counted=query.count)


async def device_history(
    db: Database,
    enterprise: str | None,
    device_id: str,
    *,
    as_of: datetime | None,
    limit: int,
    page: int,
    count: bool,
) -> Page:
    args: list[Any] = [enterprise, device_id, limit, offset(limit, page)]
    if as_of is not None:
        args.append(as_of)
    rows = await db.fetch(queries.device_history(as_of=as_of is not None, count=count), *args)
    if not rows:
        raise errors.DeviceNotFound(f"no device {device_id}")
    return Page.of(rows, counted=count)
