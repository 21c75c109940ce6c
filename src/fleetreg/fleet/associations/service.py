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
from datetime import UTC, datetime
from typing import Any, NoReturn

from asyncpg import Record

from fleetreg import versions
from fleetreg.db import Connection, Database
from fleetreg.fleet import errors, formats
from fleetreg.fleet import queries as fleet_queries
from fleetreg.fleet.associations import queries
from fleetreg.fleet.associations.parameters import ObjectParameters
from fleetreg.fleet.kinds import DEVICE, VEHICLE
from fleetreg.paging import Page, offset
from fleetreg.problems import BadRequest, entry, summarize
from fleetreg.versions import Precondition


@dataclass(frozen=True)
class AssociationItem:
    pointer: str
    vehicle_id: str
    device_id: str
    is_main_device: bool
    started_at: datetime | None = None
    """When it began, when that is earlier than now (a correction of the history)."""


def _check_not_future(instants: Sequence[tuple[str, datetime | None]]) -> None:
    """400 for each (pointer, instant) in the future: history is recorded, never foretold."""
    now = datetime.now(UTC)
    future = [
        entry(pointer, f"{_instant(instant)} is in the future")
        for pointer, instant in instants
        if instant is not None and instant > now
    ]
    if future:
        raise BadRequest.from_errors(future)


async def create_associations(db: Database, enterprise: str | None, items: Sequence[AssociationItem]) -> list[Record]:
    """Associate every item or none; the new associations in the order of ``items``."""
    _check_not_future([(f"{item.pointer}/started_at", item.started_at) for item in items])

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
        if any(item.started_at is not None for item in items):
            await _refuse_history_conflicts(connection, items)
        ids = [formats.new_id() for _ in items]
        rows = await connection.fetch(
            queries.INSERT_ASSOCIATIONS,
            ids,
            [vehicles[item.vehicle_id]["enterprise_id"] for item in items],
            [item.vehicle_id for item in items],
            [item.device_id for item in items],
            [item.is_main_device for item in items],
            [item.started_at for item in items],
        )
        by_id = {row["id"]: row for row in rows}
        return [by_id[association_id] for association_id in ids]

    return await db.write(work)


def _conflict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "association_id": row["id"],
        "vehicle_id": row["vehicle_id"],
        "device_id": row["device_id"],
        "created_at": _instant(row["created_at"]),
        "ended_at": _instant(row["ended_at"]) if row["ended_at"] is not None else None,
    }


async def _refuse_history_conflicts(connection: Connection, items: Sequence[AssociationItem]) -> None:
    """409 when a backdated start overlaps the recorded past of its device (or, for a main one, the
    vehicle's main devices); the exclusion constraints hold it anyway, this names the conflicts."""
    rows = await connection.fetch(
        queries.HISTORY_CONFLICTS,
        [item.vehicle_id for item in items],
        [item.device_id for item in items],
        [item.is_main_device for item in items],
        [item.started_at for item in items],
    )
    if not rows:
        return
    entries = []
    for row in rows:
        item = items[row["position"] - 1]
        what = "device" if row["device_id"] == item.device_id else "main device of the vehicle"
        entries.append(
            entry(
                f"{item.pointer}/started_at",
                f"association {row['id']} ({what}) lasted until {_instant(row['ended_at'])}, after this start",
            )
        )
    conflicts = list({row["id"]: _conflict(row) for row in rows}.values())
    raise errors.HistoryConflict(summarize([entry["detail"] for entry in entries]), errors=entries, conflicts=conflicts)


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
    ended_at: datetime | None = None
    """When it ended, when that is earlier than now (a correction of the history)."""


async def end_associations(
    db: Database, enterprise: str | None, references: Sequence[AssociationReference]
) -> list[Record]:
    """End every association or none; the ended associations in the order of ``references``.

    The vehicles are known only from the rows: one statement finds and locks them (in id order), then
    the UPDATE ends what is still active (seeing any change committed meanwhile), and whatever it
    could not end is explained, the transaction being rolled back with the error."""
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
    _check_not_future([(f"{reference.pointer}/ended_at", reference.ended_at) for reference in references])
    ids = [reference.id for reference in references]

    async def work(connection: Connection) -> list[Record]:
        vehicles = [row["id"] for row in await connection.fetch(queries.LOCK_VEHICLES_OF_ASSOCIATIONS, ids, enterprise)]
        ended = {
            row["id"]: row
            for row in await connection.fetch(
                queries.END_ASSOCIATIONS, ids, [reference.ended_at for reference in references], enterprise
            )
        }
        if len(ended) < len(ids):
            await _explain_not_ended(connection, enterprise, references, ended)
        staying: dict[str, int] = {}
        for row in await connection.fetch(queries.ACTIVE_ASSOCIATIONS_OF_VEHICLES, vehicles):
            staying[row["vehicle_id"]] = staying.get(row["vehicle_id"], 0) + 1
        orphaning = [
            entry(
                f"{reference.pointer}/id",
                f"association {reference.id} is the main one of vehicle {ended[reference.id]['vehicle_id']}, which "
                f"keeps {staying[ended[reference.id]['vehicle_id']]} other(s): make another main first, or end them "
                "too",
            )
            for reference in references
            if ended[reference.id]["is_main_device"] and staying.get(ended[reference.id]["vehicle_id"])
        ]
        if orphaning:
            raise errors.MainDeviceRequired.itemized(orphaning)
        return [ended[association_id] for association_id in ids]

    return await db.write(work)


async def _explain_not_ended(
    connection: Connection,
    enterprise: str | None,
    references: Sequence[AssociationReference],
    ended: Mapping[str, Record],
) -> NoReturn:
    """Why some of ``references`` could not end: 404 (unknown, not the caller's, ended already), else
    400 (an end not after its start, or before it became main)."""
    left = [reference for reference in references if reference.id not in ended]
    rows = {
        row["id"]: row
        for row in await connection.fetch(queries.ASSOCIATIONS_BY_IDS, [ref.id for ref in left], enterprise)
    }
    missing = []
    for reference in left:
        row = rows.get(reference.id)
        if row is None:
            missing.append(entry(f"{reference.pointer}/id", f"no association {reference.id}"))
        elif row["ended_at"] is not None:
            missing.append(entry(f"{reference.pointer}/id", f"association {reference.id} has ended already"))
    if missing:
        raise errors.AssociationNotFound.itemized(missing)
    too_early = []
    for reference in left:
        row = rows[reference.id]
        assert reference.ended_at is not None
        if row["main_since"] is not None and reference.ended_at > row["created_at"]:
            reason = f"it became the vehicle's main device at {_instant(row['main_since'])}"
        else:
            reason = f"it began at {_instant(row['created_at'])}"
        too_early.append(entry(f"{reference.pointer}/ended_at", f"must be after its start: {reason}"))
    raise BadRequest.from_errors(too_early)


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def update_association(
    db: Database,
    enterprise: str | None,
    vehicle_id: str,
    association_id: str,
    is_main_device: bool | None,
    precondition: Precondition | None = None,
) -> Record:
    """Make the association main (the previous main becomes secondary) or keep it as it is."""

    async def work(connection: Connection) -> Record:
        vehicle = await fleet_queries.fetch_by_ids(connection, VEHICLE, enterprise, [vehicle_id], lock="NO KEY UPDATE")
        row = None
        if vehicle:
            row = await connection.fetchrow(queries.ACTIVE_ASSOCIATION_OF_VEHICLE, association_id, vehicle_id)
        if row is None:
            raise errors.AssociationNotFound(f"vehicle {vehicle_id} has no active association {association_id}")
        versions.check(precondition, row["version"])
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
class Replacement:
    ended: Record
    started: Record


async def replace_device(
    db: Database, enterprise: str | None, vehicle_id: str, association_id: str, device_id: str, *, move_chip: bool
) -> Replacement:
    """End the association and start one for ``device_id`` on the same vehicle, with the same
    ``is_main_device``, at the same instant; with ``move_chip``, the old device's chip goes into the
    new one. Checked in this order: 404 association, 404 device, 400 enterprises, 400 device already
    associated, 409 the new device holds a chip."""

    async def work(connection: Connection) -> Replacement:
        vehicle = await fleet_queries.fetch_by_ids(connection, VEHICLE, enterprise, [vehicle_id], lock="NO KEY UPDATE")
        old = None
        if vehicle:
            old = await connection.fetchrow(queries.ACTIVE_ASSOCIATION_OF_VEHICLE, association_id, vehicle_id)
        if old is None:
            raise errors.AssociationNotFound(f"vehicle {vehicle_id} has no active association {association_id}")
        pointer = "/data/device_id"
        devices = await fleet_queries.fetch_by_ids(
            connection, DEVICE, enterprise, sorted({old["device_id"], device_id}), lock="NO KEY UPDATE"
        )
        if device_id not in devices:
            raise errors.DeviceNotFound.itemized([entry(pointer, f"no device {device_id}")])
        vehicle_enterprise, device_enterprise = (
            vehicle[vehicle_id]["enterprise_id"],
            devices[device_id]["enterprise_id"],
        )
        if vehicle_enterprise != device_enterprise:
            detail = (
                f"vehicle {vehicle_id} is in enterprise {vehicle_enterprise}, device {device_id} in {device_enterprise}"
            )
            raise errors.EnterpriseMismatch.itemized([entry(pointer, detail)])
        active = await connection.fetch(queries.ACTIVE_ASSOCIATIONS_OF_DEVICES, [device_id])
        if active:
            on = active[0]["vehicle_id"]
            detail = f"device {device_id} is associated with {'this vehicle' if on == vehicle_id else f'vehicle {on}'}"
            raise errors.DeviceAlreadyAssociated.itemized([entry(pointer, detail)])
        chip = None
        if move_chip:
            chips = {
                row["device_id"]: row["id"]
                for row in await connection.fetch(queries.LOCK_CHIPS_OF_DEVICES, [old["device_id"], device_id])
            }
            if device_id in chips:
                raise errors.DeviceAlreadyHoldsChip(
                    f"device {device_id} holds chip {chips[device_id]}: remove it first, or replace without move_chip",
                    errors=[entry("/data/move_chip", f"device {device_id} holds a chip already")],
                )
            chip = chips.get(old["device_id"])
        await announce_replacement(connection, association_id)
        (ended,) = await connection.fetch(queries.END_ASSOCIATIONS, [association_id], [None], enterprise)
        (started,) = await connection.fetch(
            queries.INSERT_ASSOCIATIONS,
            [formats.new_id()],
            [vehicle_enterprise],
            [vehicle_id],
            [device_id],
            [old["is_main_device"]],
            [ended["ended_at"]],
        )
        if chip is not None:
            await connection.execute(queries.MOVE_CHIP, chip, device_id)
        return Replacement(ended, started)

    return await db.write(work)


async def announce_replacement(connection: Connection, association_id: str) -> None:
    """The change events (API.md §5, migration 0006): the end of ``association_id`` and the start
    that follows in this transaction are one ``association.replaced``, not an end and a start."""
    await connection.execute(queries.ANNOUNCE_REPLACEMENT, association_id)


@dataclass(frozen=True)
class AssociationListQuery:
    vehicle_id: str
    objects: ObjectParameters
    search: str | None
    limit: int
    page: int
    count: bool
    as_of: datetime | None
    known_at: datetime | None = None
    """What fleetreg had recorded by then; alone, it is also ``as_of``."""


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
        as_of=query.as_of or query.known_at,
        known_at=query.known_at,
        filters=filters,
        search=query.search,
        includes=query.objects.includes,
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
    known_at: datetime | None = None,
) -> Page:
    """The device's associations, newest first; with ``as_of`` (or ``known_at`` alone), the one
    active then; with ``known_at``, as fleetreg had recorded them by then."""
    as_of = as_of or known_at
    args: list[Any] = [enterprise, device_id, limit, offset(limit, page)]
    args += [instant for instant in (as_of, known_at) if instant is not None]  # $5, $6 (known_at implies as_of)
    sql = queries.device_history(as_of=as_of is not None, known_at=known_at is not None, count=count)
    rows = await db.fetch(sql, *args)
    if not rows:
        raise errors.DeviceNotFound(f"no device {device_id}")
    return Page.of(rows, counted=count)
