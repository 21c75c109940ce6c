"""What the console's pages read: the API's services for the resources themselves (so that a
resource the operator may not see is the API's 404), and the few reads the API has no operation for
(a vehicle's whole history, a device's chip, search across kinds), always within the operator's scope."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from asyncpg import Record

from fleetreg.console import queries
from fleetreg.console.operators import Operator
from fleetreg.db import Database
from fleetreg.events import feed
from fleetreg.fleet import service as fleet
from fleetreg.fleet.kinds import CHIP, DEVICE, ENTERPRISE, VEHICLE, Kind
from fleetreg.fleet.queries import like_pattern
from fleetreg.problems import BadRequest, NotFound

SEARCH_LIMIT = 10
_CNPJ_LIKE = re.compile(r"[0-9]{2}\.?[0-9]{3}\.?[0-9]{3}/?[0-9]{4}-?[0-9]{2}")


class PageNotFound(NotFound):
    """What an operator asked for does not exist, or is not theirs to see."""


@dataclass
class SearchResults:
    query: str
    enterprises: list[Record] = field(default_factory=list)
    vehicles: list[Record] = field(default_factory=list)
    devices: list[Record] = field(default_factory=list)
    chips: list[Record] = field(default_factory=list)
    customers: list[Record] = field(default_factory=list)
    connectors: list[Record] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((self.enterprises, self.vehicles, self.devices, self.chips, self.customers, self.connectors))


async def search(db: Database, operator: Operator, text: str) -> SearchResults:
    """Everything the operator may see whose name (or plate, CNPJ, IMEI, ICCID, number) holds ``text``."""
    results = SearchResults(text)
    text = text.strip()
    if not text:
        return results
    searches: dict[str, Any] = {}
    if operator.sees_fleet:
        scope = operator.fleet_scope
        bare = text.translate(str.maketrans("", "", "./-")) if _CNPJ_LIKE.fullmatch(text) else text

        async def rows(kind: Kind, value: str) -> list[Record]:
            page = await fleet.list_rows(db, scope, kind, limit=SEARCH_LIMIT, page=0, count=False, search=value)
            return page.rows

        searches |= {
            "enterprises": rows(ENTERPRISE, bare),
            "vehicles": rows(VEHICLE, text),
            "devices": rows(DEVICE, text),
            "chips": rows(CHIP, text),
        }
    if operator.sees_partners:
        contains = like_pattern(text, prefix=True, suffix=True)
        starts = like_pattern(text, prefix=False, suffix=True)
        searches |= {
            "customers": db.fetch(queries.SEARCH_CUSTOMERS, operator.partner_id, contains, SEARCH_LIMIT),
            "connectors": db.fetch(queries.SEARCH_CONNECTORS, operator.partner_id, starts, SEARCH_LIMIT),
        }
    # One statement per kind, at once on connections of their own: the page waits for the slowest.
    for name, found in zip(searches, await asyncio.gather(*searches.values()), strict=True):
        setattr(results, name, found)
    return results


def _fleet_only(operator: Operator) -> None:
    if not operator.sees_fleet:
        raise PageNotFound("this page is not among what you may see")


@dataclass(frozen=True)
class VehicleView:
    vehicle: Record
    enterprise: Record
    associations: list[Record]
    """Every association, oldest first (ended ones too), with device and chip."""

    @property
    def active(self) -> list[Record]:
        rows = [row for row in self.associations if row["ended_at"] is None]
        return sorted(rows, key=lambda row: (not row["is_main_device"], row["created_at"]))


async def vehicle(db: Database, operator: Operator, vehicle_id: str) -> VehicleView:
    _fleet_only(operator)
    row = await fleet.get(db, operator.fleet_scope, VEHICLE, vehicle_id)
    enterprise = await fleet.get(db, operator.fleet_scope, ENTERPRISE, row["enterprise_id"])
    history = await db.fetch(queries.VEHICLE_TIMELINE, vehicle_id, operator.fleet_scope)
    return VehicleView(row, enterprise, history)


@dataclass(frozen=True)
class DeviceView:
    device: Record
    enterprise: Record
    chip: Record | None
    associations: list[Record]


async def device(db: Database, operator: Operator, device_id: str) -> DeviceView:
    _fleet_only(operator)
    row = await fleet.get(db, operator.fleet_scope, DEVICE, device_id)
    enterprise = await fleet.get(db, operator.fleet_scope, ENTERPRISE, row["enterprise_id"])
    chip = await db.fetchrow(queries.CHIP_OF_DEVICE, device_id)
    history = await db.fetch(queries.DEVICE_TIMELINE, device_id, operator.fleet_scope)
    return DeviceView(row, enterprise, chip, history)


@dataclass(frozen=True)
class EnterpriseView:
    enterprise: Record
    vehicles: list[Record]
    devices: list[Record]


async def enterprise(db: Database, operator: Operator, enterprise_id: str) -> EnterpriseView:
    _fleet_only(operator)
    row = await fleet.get(db, operator.fleet_scope, ENTERPRISE, enterprise_id)

    async def members(entity: Kind) -> list[Record]:
        page = await fleet.list_rows(
            db, operator.fleet_scope, entity, limit=50, page=0, count=False, search=None, enterprise_id=enterprise_id
        )
        return page.rows

    return EnterpriseView(row, await members(VEHICLE), await members(DEVICE))


async def chip(db: Database, operator: Operator, chip_id: str) -> Record:
    _fleet_only(operator)
    return await fleet.get(db, operator.fleet_scope, CHIP, chip_id)


# -- partners -------------------------------------------------------------------------------------


async def partners(db: Database, operator: Operator) -> list[Record]:
    if not operator.sees_partners:
        raise PageNotFound("this page is not among what you may see")
    return await db.fetch(queries.PARTNERS, operator.partner_id)


async def partner(db: Database, operator: Operator, partner_id: uuid.UUID) -> Record:
    """The partner, when the operator may see it (an admin any, a partner operator theirs)."""
    if not operator.sees_partners or (operator.partner_id is not None and operator.partner_id != partner_id):
        raise PageNotFound(f"no partner {partner_id}")
    row = await db.fetchrow(queries.PARTNER_BY_ID, partner_id)
    if row is None:
        raise PageNotFound(f"no partner {partner_id}")
    return row


CUSTOMERS_LISTED = 1000


async def customers_of(db: Database, partner_id: uuid.UUID) -> list[Record]:
    """The partner's customers by name, the first ``CUSTOMERS_LISTED``: the names the forms suggest
    (any other name can be typed)."""
    return await db.fetch(queries.ALL_CUSTOMERS_OF_PARTNER, partner_id, CUSTOMERS_LISTED)


async def customer_names(db: Database, partner_id: uuid.UUID, ids: list[str]) -> dict[str, str]:
    """id -> name of the partner's customers among ``ids`` (those a page's connectors are assigned to)."""
    rows = await db.fetch(queries.CUSTOMER_NAMES, partner_id, sorted(set(ids)))
    return {str(row["id"]): row["name"] for row in rows}


async def customer_named(db: Database, partner_id: uuid.UUID, name: str) -> uuid.UUID:
    """The partner's customer of that name (the assign form takes names); 400 when none or several."""
    rows = await db.fetch(queries.CUSTOMERS_NAMED, partner_id, name)
    if len(rows) != 1:
        reason = "no customer" if not rows else "several customers"
        raise BadRequest(f"{reason} of this partner named {name!r}: pick one of the list")
    customer_id: uuid.UUID = rows[0]["id"]
    return customer_id


def scoped(operator: Operator) -> dict[str, Any]:
    """What every page says of the operator (the header)."""
    return {"email": operator.email, "role": operator.role_text}


# -- events ---------------------------------------------------------------------------------------

EVENT_KINDS = {"enterprises": ENTERPRISE, "vehicles": VEHICLE, "devices": DEVICE, "chips": CHIP}
_EVENTS_PER_SUBJECT = 200


@dataclass(frozen=True)
class EventLine:
    """One event as the page shows it: when, what, who, and which attributes changed."""

    sequence: int
    occurred_at: str
    type: str
    subject: str
    who: str
    changes: list[str]


def _who(actor: dict[str, Any], emails: dict[str, str]) -> str:
    kind = str(actor.get("kind", "unknown"))
    if kind == "operator":
        return f"operator {emails.get(actor.get('operator_id', ''), actor.get('operator_id', '?'))}"
    if kind == "client":
        return f"API client {actor.get('client_id', '?')}"
    return {"cli": "the command line", "anonymous": "an API call without a token"}.get(kind, kind)


def _changes(data: dict[str, Any]) -> list[str]:
    # Each side is the resource as the API renders it: its attributes are what changes.
    before, after = (((side or {}).get("attributes") or side or {}) for side in (data.get("before"), data.get("after")))
    lines = []
    for name in sorted({*before, *after}):
        if name in ("updated_at", "created_at"):
            continue
        old, new = before.get(name), after.get(name)
        if old != new:
            lines.append(f"{name}: {old!s} → {new!s}" if before else f"{name}: {new!s}")
    return lines


async def events_of(
    db: Database, operator: Operator, kind_name: str, resource_id: str
) -> tuple[Record, list[EventLine]]:
    """The resource (404 when the operator may not see it) and its events, oldest first; a
    vehicle's or device's include those of its associations."""
    _fleet_only(operator)
    kind = EVENT_KINDS.get(kind_name)
    if kind is None:
        raise PageNotFound(f"no events page for {kind_name!r}")
    row = await fleet.get(db, operator.fleet_scope, kind, resource_id)
    subjects = [resource_id]
    if kind is VEHICLE:
        subjects += [a["id"] for a in await db.fetch(queries.VEHICLE_TIMELINE, resource_id, operator.fleet_scope)]
    elif kind is DEVICE:
        subjects += [a["id"] for a in await db.fetch(queries.DEVICE_TIMELINE, resource_id, operator.fleet_scope)]
    reader = feed.Reader(enterprise_id=operator.enterprise_id)
    events: list[dict[str, Any]] = []
    for subject in subjects:
        page, _ = await feed.read_page(db, reader, None, _EVENTS_PER_SUBJECT, feed.Filters(subject_id=subject))
        events += [orjson.loads(body) for body in page.events]
    events.sort(key=lambda event: event["sequence"])
    operator_ids = sorted({e["actor"]["operator_id"] for e in events if e["actor"].get("operator_id")})
    emails = dict(await db.fetch(queries.OPERATOR_EMAILS, operator_ids)) if operator_ids else {}
    lines = [
        EventLine(
            event["sequence"],
            event["occurred_at"],
            event["type"],
            f"{event['subject']['type']} {event['subject']['id']}",
            _who(event["actor"], {str(key): value for key, value in emails.items()}),
            _changes(event["data"]),
        )
        for event in events
    ]
    return row, lines
