"""SQL of the device associations: creating, ending, promoting, and the two lists (a vehicle's
associations with chip, device and enterprise fields; a device's history).

Visibility as in ``fleet.queries``: every statement takes the caller's enterprise (NULL: all).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any

from fleetreg.fleet.kinds import DEVICE, VEHICLE
from fleetreg.fleet.queries import like_pattern


def association_columns(known_at: str | None = None) -> str:
    """The rendered columns over alias ``a``, and ``version`` (its ETag). With ``known_at`` (a
    placeholder), as fleetreg had them recorded then: an end recorded later is not shown."""
    if known_at is None:
        ended = "a.ended_at, a.end_recorded_at"
    else:
        known = f"a.end_recorded_at <= {known_at}"
        ended = (
            f"CASE WHEN {known} THEN a.ended_at END AS ended_at, "
            f"CASE WHEN {known} THEN a.end_recorded_at END AS end_recorded_at"
        )
    return (
        f"a.id, a.vehicle_id, a.device_id, a.is_main_device, a.created_at, {ended}, a.recorded_at, "
        "a.xmin::text AS version"
    )


ASSOCIATION_COLUMNS = association_columns()

ACTIVE_ASSOCIATIONS_OF_DEVICES = """
SELECT device_id, vehicle_id FROM device_associations WHERE device_id = ANY($1::text[]) AND ended_at IS NULL
"""
ACTIVE_ASSOCIATIONS_OF_VEHICLES = """
SELECT id, vehicle_id, is_main_device FROM device_associations
WHERE vehicle_id = ANY($1::text[]) AND ended_at IS NULL
"""
# The recorded associations a backdated start contradicts: for each item $1..$4 (vehicle, device,
# main, started_at) given a start, those of its device ending after it, and when it is main, the
# vehicle's main ones whose main period ends after it. (Active ones are refused before this.)
HISTORY_CONFLICTS = """
WITH item AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::timestamptz[]) WITH ORDINALITY
        AS item (vehicle_id, device_id, is_main_device, started_at, position)
    WHERE started_at IS NOT NULL
)
SELECT item.position, a.id, a.vehicle_id, a.device_id, a.created_at, a.ended_at
FROM item JOIN device_associations AS a ON a.device_id = item.device_id
WHERE a.ended_at > item.started_at
UNION
SELECT item.position, a.id, a.vehicle_id, a.device_id, a.created_at, a.ended_at
FROM item JOIN device_associations AS a ON a.vehicle_id = item.vehicle_id AND a.is_main_device
WHERE item.is_main_device AND a.ended_at > greatest(item.started_at, coalesce(a.main_since, a.created_at))
ORDER BY position, created_at, id
"""
# Each association starts at $6 (its backdated start) or at the clock's time, taken once its vehicle
# and device are locked: a device's next association therefore starts after its previous one ended
# (now(), the transaction's start, could be earlier than an end committed meanwhile). The clock is
# read once per row (a subquery's volatile column is not pulled up), so that one bulk's rows keep
# their order in time, and a row's start and its recording are the same instant.
INSERT_ASSOCIATIONS = f"""
INSERT INTO device_associations AS a
    (id, enterprise_id, vehicle_id, device_id, is_main_device, created_at, recorded_at)
SELECT id, enterprise_id, vehicle_id, device_id, is_main_device, coalesce(started_at, now), now
FROM (
    SELECT item.*, clock_timestamp() AS now
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::timestamptz[])
        AS item (id, enterprise_id, vehicle_id, device_id, is_main_device, started_at)
) AS item
RETURNING {ASSOCIATION_COLUMNS}
"""
# Locks the vehicles of the associations among $1 visible to the caller $2, in id order (the one lock
# order), before any of the associations is touched.
LOCK_VEHICLES_OF_ASSOCIATIONS = """
SELECT v.id FROM vehicles AS v
WHERE v.id IN (SELECT a.vehicle_id FROM device_associations AS a
               WHERE a.id = ANY($1::text[]) AND ($2::text IS NULL OR a.enterprise_id = $2))
ORDER BY v.id FOR NO KEY UPDATE OF v
"""
# The associations among $1 visible to the caller $2 (ended ones too: the caller learns "not found").
ASSOCIATIONS_BY_IDS = f"""
SELECT {ASSOCIATION_COLUMNS}, a.main_since FROM device_associations AS a
WHERE a.id = ANY($1::text[]) AND ($2::text IS NULL OR a.enterprise_id = $2)
"""
# Ends the active associations among $1 visible to $3, each at its $2 (a backdated end, after its
# start and after it became main) or at the clock's time; those that cannot end so are left alone.
END_ASSOCIATIONS = f"""
UPDATE device_associations AS a
SET ended_at = coalesce(item.ended_at, clock.now), end_recorded_at = clock.now
FROM unnest($1::text[], $2::timestamptz[]) AS item (id, ended_at), (SELECT clock_timestamp() AS now) AS clock
WHERE a.id = item.id AND a.ended_at IS NULL AND ($3::text IS NULL OR a.enterprise_id = $3)
  AND (item.ended_at IS NULL OR item.ended_at > coalesce(a.main_since, a.created_at))
RETURNING {ASSOCIATION_COLUMNS}
"""
ACTIVE_ASSOCIATION_OF_VEHICLE = f"""
SELECT {ASSOCIATION_COLUMNS} FROM device_associations AS a
WHERE a.id = $1 AND a.vehicle_id = $2 AND a.ended_at IS NULL
"""
# Two statements, in this order: the unique index "one active main per vehicle" is checked row by row.
# A demoted association's main period is not kept; a promoted one is main from now on.
DEMOTE_MAIN_OF_VEHICLE = """
UPDATE device_associations SET is_main_device = false, main_since = NULL
WHERE vehicle_id = $1 AND ended_at IS NULL AND is_main_device
"""
PROMOTE_ASSOCIATION = f"""
UPDATE device_associations AS a SET is_main_device = true, main_since = clock_timestamp()
WHERE a.id = $1 RETURNING {ASSOCIATION_COLUMNS}
"""


# The chips held by the devices $1, locked (a replacement moves one).
LOCK_CHIPS_OF_DEVICES = "SELECT id, device_id FROM chips WHERE device_id = ANY($1::text[]) ORDER BY id FOR UPDATE"
MOVE_CHIP = "UPDATE chips SET device_id = $2, updated_at = now() WHERE id = $1"
ANNOUNCE_REPLACEMENT = "SELECT events_replacing($1)"


def active_at(as_of: str | None, known_at: str | None = None) -> str:
    """Condition over alias ``a``: active now, or at the instant ``as_of`` (a placeholder); with
    ``known_at``, as fleetreg had recorded it by then (a start recorded later is not there yet, an
    end recorded later had not happened)."""
    if as_of is None:
        return "a.ended_at IS NULL"
    if known_at is None:
        return f"a.created_at <= {as_of} AND (a.ended_at IS NULL OR a.ended_at > {as_of})"
    return (
        f"a.recorded_at <= {known_at} AND a.created_at <= {as_of} "
        f"AND (a.ended_at IS NULL OR a.ended_at > {as_of} OR a.end_recorded_at > {known_at})"
    )


@functools.cache
def device_history(*, as_of: bool, known_at: bool, count: bool) -> str:
    """The associations of the device $2 (live, visible to $1), newest first: a page ($3 limit,
    $4 offset), each row with the total (NULL unless counted); one row of NULLs but the total when the
    page is empty; no row when the device is not found. With ``as_of``, $5 is the instant; with
    ``known_at``, $6 is the instant of what fleetreg had recorded."""
    total = "(SELECT count(*) FROM matches)" if count else "NULL::bigint"
    known = "$6" if known_at else None
    return f"""
WITH device AS (
    SELECT t.id FROM devices AS t WHERE t.id = $2 AND t.deleted_at IS NULL AND {DEVICE.visible_to("$1")}
),
matches AS (
    SELECT {association_columns(known)} FROM device_associations AS a JOIN device ON a.device_id = device.id
    WHERE {active_at("$5", known) if as_of else "true"}
),
page AS (
    SELECT * FROM matches ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4
)
SELECT {total} AS total, page.* FROM device LEFT JOIN page ON true
ORDER BY page.created_at DESC, page.id DESC
"""


class Arguments:
    """Positional parameters of a statement built piece by piece: ``args.add(value)`` gives "$n"."""

    def __init__(self, *initial: Any) -> None:
        self.values: list[Any] = list(initial)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


# The filterable fields of the vehicle's association list, as columns of the query below.
ASSOCIATION_LIST_FIELDS = {
    "chips.serial": "c.serial",
    "chips.number": "c.number",
    "chips.carrier": "c.carrier",
    "chips.service_provider": "c.service_provider",
    "chips.batch": "c.batch",
    "device.name": "d.name",
    "device.imei": "d.imei",
    "device.code": "d.code",
    "enterprise.name": "e.name",
    "enterprise.cnpj": "e.cnpj",
}
ASSOCIATION_LIST_SORTS = {"number": "number", "serial": "serial"}
# The joined objects of that query beyond the chip: each joined only when a request includes, filters
# or searches its fields (a join per row and five columns fewer when none does).
ASSOCIATION_LIST_JOINS = {
    "device": (
        "JOIN devices AS d ON d.id = a.device_id",
        "d.name AS device_name, d.imei AS device_imei, d.code AS device_code",
    ),
    "enterprise": (
        "JOIN enterprises AS e ON e.id = a.enterprise_id",
        "e.name AS enterprise_name, e.cnpj AS enterprise_cnpj",
    ),
}


def vehicle_associations(
    *,
    enterprise: str | None,
    vehicle_id: str,
    as_of: Any,
    known_at: Any = None,
    filters: Sequence[tuple[str, str, str]],
    search: str | None,
    includes: Collection[str],
    sort: Sequence[tuple[str, int]],
    limit: int,
    offset: int,
    count: bool,
) -> tuple[str, list[Any]]:
    """One statement for the whole list request: the vehicle's associations active now (or at
    ``as_of``) matching every filter and the search, one page of them in the requested order, with
    chip, device and enterprise fields, and the total when ``count``.

    Rows: none when the vehicle is not found; else one per item, or one row of NULLs but the total
    when the page is empty. ``filters`` are (field, op, value) with fields of
    ``ASSOCIATION_LIST_FIELDS``; ``sort`` keys are from ``ASSOCIATION_LIST_SORTS``; ``includes`` names
    the objects of ``ASSOCIATION_LIST_JOINS`` whose columns the rows must have.
    """
    args = Arguments(enterprise, vehicle_id)
    known = args.add(known_at) if known_at is not None else None
    conditions = [active_at(args.add(as_of) if as_of is not None else None, known)]
    for name, op, value in filters:
        column = ASSOCIATION_LIST_FIELDS[name]
        if op == "eq":
            conditions.append(f"{column} = {args.add(value)}")
        elif op == "neq":
            conditions.append(f"{column} IS DISTINCT FROM {args.add(value)}")
        else:
            pattern = like_pattern(value, prefix=op in ("ilk", "ew"), suffix=op in ("ilk", "sw"))
            conditions.append(f"{column} ILIKE {args.add(pattern)}")
    if search is not None:
        pattern = args.add(like_pattern(search, prefix=True, suffix=True))
        conditions.append(
            "(" + " OR ".join(f"{column} ILIKE {pattern}" for column in ASSOCIATION_LIST_FIELDS.values()) + ")"
        )
    order = [
        f"m.{ASSOCIATION_LIST_SORTS[key]} {'ASC' if direction > 0 else 'DESC'} NULLS LAST" for key, direction in sort
    ]
    order += ["m.is_main_device DESC", "m.created_at", "m.id"]
    total = "(SELECT count(*) FROM matches)" if count else "NULL::bigint"
    searched = ASSOCIATION_LIST_JOINS if search is not None else ()
    joined = {*includes, *searched, *(name.split(".")[0] for name, _, _ in filters)}
    joins = [join for name, join in ASSOCIATION_LIST_JOINS.items() if name in joined]
    joined_columns = "".join(f", {columns}" for _, columns in joins)
    sql = f"""
WITH vehicle AS (
    SELECT t.id FROM vehicles AS t WHERE t.id = $2 AND t.deleted_at IS NULL AND {VEHICLE.visible_to("$1")}
),
matches AS (
    SELECT {association_columns(known)},
           c.id AS chip_id, c.serial, c.number, c.carrier, c.service_provider, c.batch{joined_columns}
    FROM vehicle AS v
    JOIN device_associations AS a ON a.vehicle_id = v.id
    {"".join(f"{join} " for join, _ in joins)}LEFT JOIN chips AS c ON c.device_id = a.device_id
    WHERE {" AND ".join(conditions)}
),
page AS (
    SELECT m.*, row_number() OVER (ORDER BY {", ".join(order)}) AS position FROM matches AS m
    ORDER BY position LIMIT {args.add(limit)} OFFSET {args.add(offset)}
)
SELECT {total} AS total, page.* FROM vehicle LEFT JOIN page ON true
ORDER BY page.position
"""
    return sql, args.values
