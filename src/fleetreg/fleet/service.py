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

(The associations' rules are in ``fleet/associations/service.py``.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from asyncpg import Record

from fleetreg import versions
from fleetreg.db import Connection, Database
from fleetreg.fleet import errors, formats, queries
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
