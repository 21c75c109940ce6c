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
from typing import Any

from asyncpg import Record

from fleetreg import versions
from fleetreg.db import Connection, Database
from fleetreg.fleet import formats, queries
from fleetreg.fleet.errors import IdInUse
from fleetreg.fleet.kinds import Attribute, Kind, NewItem
from fleetreg.paging import Page, offset
from fleetreg.problems import entry
from fleetreg.versions import Precondition


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


async def create(db: Database, enterprise: str | None, kind: Kind, items: Sequence[NewItem]) -> list[Record]:
    """Create every item or none; the rows in the order of ``items``."""
    if kind.guard is not None:
        kind.guard.check(enterprise, items)
    ids = [item.id or formats.new_id() for item in items]

    async def work(connection: Connection) -> list[Record]:
        await _check_references(connection, enterprise, kind, items)
        await _check_ids(connection, kind, items)
        for attribute in kind.unique:
            await _check_unique(connection, kind, attribute, items, ids)
        columns = [[item.attributes.get(name) for item in items] for name in kind.attribute_names]
        rows = await connection.fetch(queries.insert_rows(kind), ids, *columns)
        by_id = {row["id"]: row for row in rows}
        return [by_id[item_id] for item_id in ids]

    return await db.write(work)


async def _check_references(
    connection: Connection, enterprise: str | None, kind: Kind, items: Sequence[NewItem]
) -> None:
    for attribute in kind.references:
        assert attribute.reference is not None
        target = attribute.reference.target
        wanted = sorted({value for item in items if (value := item.attributes.get(attribute.name)) is not None})
        if not wanted:
            continue
        found = await queries.fetch_by_ids(connection, target, enterprise, wanted, lock=attribute.reference.lock)
        entries = [
            entry(f"{new.pointer}/attributes/{attribute.name}", f"no {target.name} {value}")
            for new in items
            if (value := new.attributes.get(attribute.name)) is not None and value not in found
        ]
        if entries:
            raise target.not_found.itemized(entries)


async def _check_ids(connection: Connection, kind: Kind, items: Sequence[NewItem]) -> None:
    given = [new.id for new in items if new.id is not None]
    taken = {row["id"] for row in await connection.fetch(queries.existing_ids(kind), given)} if given else set()
    first: dict[str, str] = {}
    entries = []
    for new in items:
        if new.id is None:
            continue
        if new.id in taken:
            entries.append(entry(f"{new.pointer}/id", f"{_a(kind.name)} with the id {new.id} exists already"))
        elif new.id in first:
            entries.append(entry(f"{new.pointer}/id", f"the id {new.id} appears twice (first at {first[new.id]})"))
        first.setdefault(new.id, new.pointer)
    if entries:
        raise IdInUse.itemized(entries)


async def _check_unique(
    connection: Connection, kind: Kind, attribute: Attribute, items: Sequence[NewItem], ids: Sequence[str]
) -> None:
    unique = attribute.unique
    assert unique is not None
    values = [value for new in items if (value := new.attributes.get(attribute.name)) is not None]
    if not values:
        return
    holders = await connection.fetch(queries.rows_holding(kind, attribute.name), values, list(ids))
    taken = {row["value"] for row in holders}
    first: dict[str, str] = {}
    entries = []
    for new in items:
        value = new.attributes.get(attribute.name)
        if value is None:
            continue
        pointer = f"{new.pointer}/attributes/{attribute.name}"
        if value in taken:
            entries.append(entry(pointer, unique.taken_detail.format(value=value)))
        elif value in first:
            entries.append(entry(pointer, f"the {unique.label} {value} appears twice (first at {first[value]})"))
        first.setdefault(value, pointer)
    if entries:
        raise unique.taken.itemized(entries)


async def get(db: Database, enterprise: str | None, kind: Kind, resource_id: str) -> Record:
    async with db.connection() as connection:
        rows = await queries.fetch_by_ids(connection, kind, enterprise, [resource_id])
    if resource_id not in rows:
        raise kind.not_found(f"no {kind.name} {resource_id}")
    row: Record = rows[resource_id]
    return row


async def find(db: Database, kind: Kind, column: str, values: Sequence[str]) -> list[Record]:
    """The live rows whose ``column`` (an attribute, or ``id``) is among ``values``, oldest first,
    whatever their enterprise: how the CLI and the demo find rows by their business keys."""
    return await db.fetch(queries.live_rows_where(kind, column), list(values))


async def list_rows(
    db: Database,
    enterprise: str | None,
    kind: Kind,
    *,
    limit: int,
    page: int,
    count: bool,
    search: str | None,
    enterprise_id: str | None = None,
) -> Page:
    query = queries.ListQuery(
        kind,
        search=search is not None,
        filter_column="enterprise_id" if enterprise_id is not None else None,
        bound=enterprise is not None,
        count=count,
    )
    args: list[Any] = [enterprise, limit, offset(limit, page)]
    if search is not None:
        args.append(queries.like_pattern(search, prefix=True, suffix=True))
    if enterprise_id is not None:
        args.append(enterprise_id)
    return Page.of(await db.fetch(queries.list_rows(query), *args), counted=count)


async def update(
    db: Database,
    enterprise: str | None,
    kind: Kind,
    resource_id: str,
    changes: Mapping[str, Any],
    precondition: Precondition | None = None,
) -> Record:
    """Apply ``changes`` (attribute -> new value, only those given) to the resource."""

    async def work(connection: Connection) -> Record:
        current = await _lock_own_row(connection, enterprise, kind, resource_id)
        versions.check(precondition, current["version"])
        changed = {name: value for name, value in changes.items() if current[name] != value}
        if not changed:
            return current
        changed_item = NewItem("/data", resource_id, changed)
        await _check_references(connection, enterprise, kind, [changed_item])
        if "enterprise_id" in changed and kind.before_move is not None:
            await kind.before_move.check(connection, resource_id)
        for attribute in kind.unique:
            await _check_unique(connection, kind, attribute, [changed_item], [resource_id])
        row: Record = await connection.fetchrow(queries.update_row(kind, list(changed)), resource_id, *changed.values())
        return row

    return await db.write(work)


async def _lock_own_row(connection: Connection, enterprise: str | None, kind: Kind, resource_id: str) -> Record:
    rows = await queries.fetch_by_ids(connection, kind, enterprise, [resource_id], lock="UPDATE")
    if resource_id not in rows:
        raise kind.not_found(f"no {kind.name} {resource_id}")
    row: Record = rows[resource_id]
    return row


async def delete(
    db: Database, enterprise: str | None, kind: Kind, resource_id: str, precondition: Precondition | None = None
) -> None:
    """Delete the resource (softly, but chips), unless something still needs it (409)."""

    async def work(connection: Connection) -> None:
        current = await _lock_own_row(connection, enterprise, kind, resource_id)
        versions.check(precondition, current["version"])
        if kind.before_delete is not None:
            await kind.before_delete.check(connection, resource_id)
        await connection.execute(queries.delete_row(kind), resource_id)

    await db.write(work)
