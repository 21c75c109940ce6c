"""The rules of the fleet API: checks, the order of locks, and which error each case is.

Writes run in one transaction (``db.write``). Every check-then-write path locks the rows it relies on
first, always in the same order, so that concurrent requests queue instead of deadlocking and each
one decides on the state the previous one left:

    enterprise (FOR KEY SHARE, when a row will point at it; FOR UPDATE to delete it)
    -> vehicles, in id order (FOR NO KEY UPDATE; FOR UPDATE to change or delete one)
    -> devices, in id order (likewise)
    -> chips (FOR UPDATE to change or delete one)

The schema's constraints are the guarantee; the checks here are what turn a conflict into the
documented error naming every offending item. When several kinds of error apply to one request, the
first in this order is reported (with all of its items):

    create:  400 body  -> 403 -> 404 references -> 409 ids -> 409 business keys (in column order)
    associate: 400 body -> 404 Vehicle Not Found -> 404 Device Not Found -> 400 different enterprises
               -> 400 device already associated -> 400 vehicle already has main -> 400 must be main
    end:     400 body -> 404 Association Not Found -> 400 must be main
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from asyncpg import Record

from fleetreg import versions
from fleetreg.db import Connection, Database
from fleetreg.fleet import errors, formats, queries
from fleetreg.fleet.listing import ObjectParameters
from fleetreg.fleet.queries import CHIPS, DEVICES, ENTERPRISES, VEHICLES, Table
from fleetreg.problems import AppError, BadRequest, Forbidden
from fleetreg.versions import Precondition

# OFFSET beyond this returns nothing anyway; it keeps a huge ``page`` inside PostgreSQL's bigint.
_LARGEST_OFFSET = 2**62


def _raise(error: type[AppError], entries: list[dict[str, str]]) -> NoReturn:
    """``error`` with ``errors`` listing every offending item; its detail summarizes them."""
    details = [entry["detail"] for entry in entries]
    shown = "; ".join(details[:5]) + (f"; and {len(details) - 5} more" if len(details) > 5 else "")
    raise error(shown, errors=entries)


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _entry(pointer: str, detail: str) -> dict[str, str]:
    return {"pointer": pointer, "detail": detail}


# -- entities ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A column pointing at a row of another table, which must be live and visible to the caller."""

    column: str
    target: Table
    lock: str
    not_found: type[AppError]


@dataclass(frozen=True)
class UniqueKey:
    """A column unique among the live rows."""

    column: str
    taken: type[AppError]
    label: str
    taken_detail: str
    """Format with ``{value}``: why the value is refused."""


@dataclass(frozen=True)
class Entity:
    table: Table
    not_found: type[AppError]
    references: tuple[Reference, ...] = ()
    keys: tuple[UniqueKey, ...] = ()


_IN_ENTERPRISE = Reference("enterprise_id", ENTERPRISES, "KEY SHARE", errors.EnterpriseNotFound)

ENTERPRISE = Entity(
    ENTERPRISES,
    errors.EnterpriseNotFound,
    keys=(UniqueKey("cnpj", errors.CnpjTaken, "CNPJ", "another enterprise has the CNPJ {value}"),),
)
VEHICLE = Entity(VEHICLES, errors.VehicleNotFound, references=(_IN_ENTERPRISE,))
DEVICE = Entity(
    DEVICES,
    errors.DeviceNotFound,
    references=(_IN_ENTERPRISE,),
    keys=(UniqueKey("imei", errors.ImeiTaken, "IMEI", "another device has the IMEI {value}"),),
)
CHIP = Entity(
    CHIPS,
    errors.ChipNotFound,
    references=(Reference("device_id", DEVICES, "NO KEY UPDATE", errors.DeviceNotFound),),
    keys=(
        UniqueKey("serial", errors.IccidTaken, "serial", "another chip has the serial {value}"),
        UniqueKey("device_id", errors.DeviceHasChip, "device", "device {value} holds another chip already"),
    ),
)


@dataclass(frozen=True)
class NewItem:
    """One resource to create: where it is in the body, its id if given, all of its attributes."""

    pointer: str
    id: str | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    rows: list[Record]
    total: int | None


async def create(db: Database, enterprise: str | None, entity: Entity, items: Sequence[NewItem]) -> list[Record]:
    """Create every item or none; the rows in the order of ``items``."""
    table = entity.table
    if table is ENTERPRISES and enterprise is not None:
        raise Forbidden("a client bound to an enterprise cannot create enterprises")
    if table is CHIPS and enterprise is not None:
        missing = [
            _entry(f"{item.pointer}/attributes/device_id", "a client bound to an enterprise creates chips installed")
            for item in items
            if item.attributes.get("device_id") is None
        ]
        if missing:
            raise BadRequest.from_errors(missing)
    ids = [item.id or formats.new_id() for item in items]

    async def work(connection: Connection) -> list[Record]:
        await _check_references(connection, enterprise, entity, items)
        await _check_ids(connection, table, items, ids)
        for key in entity.keys:
            await _check_key(connection, table, key, items, ids)
        columns = [[item.attributes.get(name) for item in items] for name in table.attributes]
        rows = await connection.fetch(queries.insert_rows(table), ids, *columns)
        by_id = {row["id"]: row for row in rows}
        return [by_id[item_id] for item_id in ids]

    return await db.write(work)


async def _check_references(
    connection: Connection, enterprise: str | None, entity: Entity, items: Sequence[NewItem]
) -> None:
    for reference in entity.references:
        wanted = sorted({value for item in items if (value := item.attributes.get(reference.column)) is not None})
        if not wanted:
            continue
        found = await queries.fetch_by_ids(connection, reference.target, enterprise, wanted, lock=reference.lock)
        entries = [
            _entry(f"{item.pointer}/attributes/{reference.column}", f"no {reference.target.kind} {value}")
            for item in items
            if (value := item.attributes.get(reference.column)) is not None and value not in found
        ]
        if entries:
            _raise(reference.not_found, entries)


async def _check_ids(connection: Connection, table: Table, items: Sequence[NewItem], ids: Sequence[str]) -> None:
    given = [item.id for item in items if item.id is not None]
    taken = {row["id"] for row in await connection.fetch(queries.existing_ids(table), given)} if given else set()
    first: dict[str, str] = {}
    entries = []
    for item in items:
        if item.id is None:
            continue
        if item.id in taken:
            entries.append(_entry(f"{item.pointer}/id", f"{_a(table.kind)} with the id {item.id} exists already"))
        elif item.id in first:
            entries.append(_entry(f"{item.pointer}/id", f"the id {item.id} appears twice (first at {first[item.id]})"))
        first.setdefault(item.id, item.pointer)
    if entries:
        _raise(errors.IdInUse, entries)


async def _check_key(
    connection: Connection, table: Table, key: UniqueKey, items: Sequence[NewItem], ids: Sequence[str]
) -> None:
    values = [value for item in items if (value := item.attributes.get(key.column)) is not None]
    if not values:
        return
    holders = await connection.fetch(queries.rows_holding(table, key.column), values, list(ids))
    taken = {row["value"] for row in holders}
    first: dict[str, str] = {}
    entries = []
    for item in items:
        value = item.attributes.get(key.column)
        if value is None:
            continue
        pointer = f"{item.pointer}/attributes/{key.column}"
        if value in taken:
            entries.append(_entry(pointer, key.taken_detail.format(value=value)))
        elif value in first:
            entries.append(_entry(pointer, f"the {key.label} {value} appears twice (first at {first[value]})"))
        first.setdefault(value, pointer)
    if entries:
        _raise(key.taken, entries)


async def get(db: Database, enterprise: str | None, entity: Entity, resource_id: str) -> Record:
    async with db.connection() as connection:
        rows = await queries.fetch_by_ids(connection, entity.table, enterprise, [resource_id])
    if resource_id not in rows:
        raise entity.not_found(f"no {entity.table.kind} {resource_id}")
    row: Record = rows[resource_id]
    return row


async def list_rows(
    db: Database,
    enterprise: str | None,
    entity: Entity,
    *,
    limit: int,
    page: int,
    count: bool,
    search: str | None,
    enterprise_id: str | None = None,
) -> Page:
    query = queries.ListQuery(
        entity.table,
        search=search is not None,
        filter_column="enterprise_id" if enterprise_id is not None else None,
        bound=enterprise is not None,
        count=count,
    )
    args: list[Any] = [enterprise, limit, min(limit * page, _LARGEST_OFFSET)]
    if search is not None:
        args.append(queries.like_pattern(search, prefix=True, suffix=True))
    if enterprise_id is not None:
        args.append(enterprise_id)
    rows = await db.fetch(queries.list_rows(query), *args)
    return Page([row for row in rows if row["id"] is not None], rows[0]["total"] if count else None)


async def update(
    db: Database,
    enterprise: str | None,
    entity: Entity,
    resource_id: str,
    changes: Mapping[str, Any],
    precondition: Precondition | None = None,
) -> Record:
    """Apply ``changes`` (attribute -> new value, only those given) to the resource."""
    table = entity.table
    item = NewItem("/data", resource_id, changes)

    async def work(connection: Connection) -> Record:
        current = await _lock_own_row(connection, enterprise, entity, resource_id)
        versions.check(precondition, current["version"])
        changed = {name: value for name, value in changes.items() if current[name] != value}
        if not changed:
            return current
        changed_item = NewItem(item.pointer, resource_id, changed)
        await _check_references(connection, enterprise, entity, [changed_item])
        if "enterprise_id" in changed:
            await _check_move(connection, table, resource_id)
        for key in entity.keys:
            await _check_key(connection, table, key, [changed_item], [resource_id])
        row: Record = await connection.fetchrow(
            queries.update_row(table, list(changed)), resource_id, *changed.values()
        )
        return row

    return await db.write(work)


async def _lock_own_row(connection: Connection, enterprise: str | None, entity: Entity, resource_id: str) -> Record:
    rows = await queries.fetch_by_ids(connection, entity.table, enterprise, [resource_id], lock="UPDATE")
    if resource_id not in rows:
        raise entity.not_found(f"no {entity.table.kind} {resource_id}")
    row: Record = rows[resource_id]
    return row


async def _check_move(connection: Connection, table: Table, resource_id: str) -> None:
    """A vehicle or device with associations (even ended ones, which record its enterprise) stays."""
    if table is VEHICLES:
        counts = await connection.fetchrow(queries.VEHICLE_ASSOCIATION_COUNTS, resource_id)
        if counts["ever"]:
            raise errors.VehicleInUse(
                f"vehicle {resource_id} has had device associations, whose history records its enterprise: "
                "it cannot move to another enterprise",
                errors=[_entry("/data/attributes/enterprise_id", "the vehicle has association history")],
            )
    elif table is DEVICES:
        state = await connection.fetchrow(queries.DEVICE_ASSOCIATIONS_AND_CHIP, resource_id)
        if state["ever"]:
            raise errors.DeviceInUse(
                f"device {resource_id} has had vehicle associations, whose history records its enterprise: "
                "it cannot move to another enterprise",
                errors=[_entry("/data/attributes/enterprise_id", "the device has association history")],
            )


async def delete(
    db: Database, enterprise: str | None, entity: Entity, resource_id: str, precondition: Precondition | None = None
) -> None:
    """Delete the resource (softly, but chips), unless something still needs it (409)."""
    table = entity.table

    async def work(connection: Connection) -> None:
        current = await _lock_own_row(connection, enterprise, entity, resource_id)
        versions.check(precondition, current["version"])
        if table is ENTERPRISES:
            members = await connection.fetchrow(queries.ENTERPRISE_HAS_LIVE_MEMBERS, resource_id)
            if members["vehicles"] or members["devices"]:
                what = " and ".join(kind for kind in ("vehicles", "devices") if members[kind])
                raise errors.EnterpriseInUse(f"enterprise {resource_id} still has {what}; delete or move them first")
        elif table is VEHICLES:
            counts = await connection.fetchrow(queries.VEHICLE_ASSOCIATION_COUNTS, resource_id)
            if counts["active"]:
                raise errors.VehicleInUse(
                    f"vehicle {resource_id} has {counts['active']} active device associations; end them first"
                )
        elif table is DEVICES:
            state = await connection.fetchrow(queries.DEVICE_ASSOCIATIONS_AND_CHIP, resource_id)
            reasons = []
            if state["active_vehicle"] is not None:
                reasons.append(f"is associated with vehicle {state['active_vehicle']}")
            if state["chip_id"] is not None:
                reasons.append(f"holds chip {state['chip_id']}")
            if reasons:
                raise errors.DeviceInUse(f"device {resource_id} {' and '.join(reasons)}; end or remove that first")
        await connection.execute(queries.delete_row(table), resource_id)

    await db.write(work)


# -- associations -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssociationItem:
    pointer: str
    vehicle_id: str
    device_id: str
    is_main_device: bool


async def create_associations(db: Database, enterprise: str | None, items: Sequence[AssociationItem]) -> list[Record]:
    """Associate every item or none; the new associations in the order of ``items``."""

    async def work(connection: Connection) -> list[Record]:
        vehicles = await queries.fetch_by_ids(
            connection, VEHICLES, enterprise, sorted({item.vehicle_id for item in items}), lock="NO KEY UPDATE"
        )
        devices = await queries.fetch_by_ids(
            connection, DEVICES, enterprise, sorted({item.device_id for item in items}), lock="NO KEY UPDATE"
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
        _entry(f"{item.pointer}/vehicle_id", f"no vehicle {item.vehicle_id}")
        for item in items
        if item.vehicle_id not in vehicles
    ]
    if missing_vehicles:
        _raise(errors.VehicleNotFound, missing_vehicles)
    missing_devices = [
        _entry(f"{item.pointer}/device_id", f"no device {item.device_id}")
        for item in items
        if item.device_id not in devices
    ]
    if missing_devices:
        _raise(errors.DeviceNotFound, missing_devices)


def _check_enterprises(
    items: Sequence[AssociationItem], vehicles: Mapping[str, Record], devices: Mapping[str, Record]
) -> None:
    entries = []
    for item in items:
        vehicle_enterprise = vehicles[item.vehicle_id]["enterprise_id"]
        device_enterprise = devices[item.device_id]["enterprise_id"]
        if vehicle_enterprise != device_enterprise:
            entries.append(
                _entry(
                    item.pointer,
                    f"vehicle {item.vehicle_id} is in enterprise {vehicle_enterprise}, "
                    f"device {item.device_id} in enterprise {device_enterprise}",
                )
            )
    if entries:
        _raise(errors.EnterpriseMismatch, entries)


def _check_devices_free(items: Sequence[AssociationItem], active: Mapping[str, str]) -> None:
    """Each device must have no active association, and appear once in the request."""
    first: dict[str, str] = {}
    entries = []
    for item in items:
        pointer = f"{item.pointer}/device_id"
        vehicle = active.get(item.device_id)
        if vehicle == item.vehicle_id:
            entries.append(_entry(pointer, f"device {item.device_id} is associated with this vehicle already"))
        elif vehicle is not None:
            entries.append(_entry(pointer, f"device {item.device_id} is associated with vehicle {vehicle}"))
        elif item.device_id in first:
            entries.append(
                _entry(
                    pointer, f"device {item.device_id} appears twice in the request (first at {first[item.device_id]})"
                )
            )
        first.setdefault(item.device_id, pointer)
    if entries:
        _raise(errors.DeviceAlreadyAssociated, entries)


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
            entries.append(_entry(pointer, f"vehicle {item.vehicle_id} has a main device already"))
        elif item.vehicle_id in first:
            entries.append(
                _entry(
                    pointer,
                    f"a second main device for vehicle {item.vehicle_id} (the first at {first[item.vehicle_id]})",
                )
            )
        first.setdefault(item.vehicle_id, pointer)
    if entries:
        _raise(errors.VehicleAlreadyHasMainDevice, entries)
    without_main = [
        _entry(
            f"{item.pointer}/is_main_device",
            f"vehicle {item.vehicle_id} would have associations but no main device; make one of them main",
        )
        for item in items
        if item.vehicle_id not in with_main and item.vehicle_id not in first
    ]
    if without_main:
        _raise(errors.MainDeviceRequired, without_main)


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
                _entry(
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
        await queries.fetch_by_ids(
            connection, VEHICLES, enterprise, sorted({row["vehicle_id"] for row in active}), lock="NO KEY UPDATE"
        )
        await queries.fetch_by_ids(
            connection, DEVICES, enterprise, sorted({row["device_id"] for row in active}), lock="NO KEY UPDATE"
        )
        rows = {row["id"]: row for row in await connection.fetch(queries.ASSOCIATIONS_BY_IDS, ids, enterprise)}
        missing = []
        for reference in references:
            row = rows.get(reference.id)
            if row is None:
                missing.append(_entry(f"{reference.pointer}/id", f"no association {reference.id}"))
            elif row["ended_at"] is not None:
                missing.append(_entry(f"{reference.pointer}/id", f"association {reference.id} has ended already"))
        if missing:
            _raise(errors.AssociationNotFound, missing)
        ending = set(ids)
        staying: dict[str, int] = {}
        vehicles = sorted({row["vehicle_id"] for row in rows.values()})
        for row in await connection.fetch(queries.ACTIVE_ASSOCIATIONS_OF_VEHICLES, vehicles):
            if row["id"] not in ending:
                staying[row["vehicle_id"]] = staying.get(row["vehicle_id"], 0) + 1
        orphaning = [
            _entry(
                f"{reference.pointer}/id",
                f"association {reference.id} is the main one of vehicle {rows[reference.id]['vehicle_id']}, which "
                f"keeps {staying[rows[reference.id]['vehicle_id']]} other(s): make another main first, or end them too",
            )
            for reference in references
            if rows[reference.id]["is_main_device"] and staying.get(rows[reference.id]["vehicle_id"])
        ]
        if orphaning:
            _raise(errors.MainDeviceRequired, orphaning)
        ended = {row["id"]: row for row in await connection.fetch(queries.END_ASSOCIATIONS, ids)}
        return [ended[association_id] for association_id in ids]

    return await db.write(work)


async def update_association(
    db: Database, enterprise: str | None, vehicle_id: str, association_id: str, is_main_device: bool | None
) -> Record:
    """Make the association main (the previous main becomes secondary) or keep it as it is."""

    async def work(connection: Connection) -> Record:
        vehicle = await queries.fetch_by_ids(connection, VEHICLES, enterprise, [vehicle_id], lock="NO KEY UPDATE")
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
                errors=[_entry("/data/attributes/is_main_device", "the vehicle's only main association")],
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
        offset=min(query.limit * query.page, _LARGEST_OFFSET),
        count=query.count,
    )
    rows = await db.fetch(sql, *args)
    if not rows:
        raise errors.VehicleNotFound(f"no vehicle {query.vehicle_id}")
    return Page([row for row in rows if row["id"] is not None], rows[0]["total"] if query.count else None)


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
    args: list[Any] = [enterprise, device_id, limit, min(limit * page, _LARGEST_OFFSET)]
    if as_of is not None:
        args.append(as_of)
    rows = await db.fetch(queries.device_history(as_of=as_of is not None, count=count), *args)
    if not rows:
        raise errors.DeviceNotFound(f"no device {device_id}")
    return Page([row for row in rows if row["id"] is not None], rows[0]["total"] if count else None)
