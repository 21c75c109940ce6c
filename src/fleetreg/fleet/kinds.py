"""The fleet's four kinds of resource, each declared once: its attributes (format, whether optional,
what it references, what must be unique), how it is stored (table, soft delete, search text, who sees
it, how it is counted) and the rules only it has, as named hooks.

Everything else derives from these declarations: the SQL (``fleet.queries``), the checks of the
service (``fleet.service``), the request and response models (``fleet.schemas``), the routes
(``fleet.router``), the CSV imports and exports (``fleet.imports``, ``fleet.exports``). Adding an
attribute is one line here (and the migration).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fleetreg.db import Connection
from fleetreg.fleet import errors, fields, queries
from fleetreg.fleet.fields import Format
from fleetreg.problems import AppError, BadRequest, Forbidden, entry


@dataclass(frozen=True)
class Reference:
    """The attribute names a row of ``target``, which must be live and visible to the caller; the
    row is locked (``lock``) while the referring row is written."""

    target: Kind
    lock: str


@dataclass(frozen=True)
class Unique:
    """The attribute is unique among the live rows."""

    taken: type[AppError]
    label: str
    taken_detail: str
    """Why the API refuses the value; format with ``{value}``."""
    import_detail: str | None = None
    """Why an import refuses it (``{value}``, and ``{holder}``: the row holding it); derived when None."""


@dataclass(frozen=True)
class Attribute:
    name: str
    format: Format
    optional: bool = False
    """May be left out on create (then null) and set to null by a change."""
    description: str | None = None
    change_description: str | None = None
    """What setting it in a PATCH does, when it says more than ``description``."""
    reference: Reference | None = None
    unique: Unique | None = None


@dataclass(frozen=True)
class NewItem:
    """One resource to create: where it is in the body, its id if given, all of its attributes."""

    pointer: str
    id: str | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class Guard:
    """A rule on a create request, checked before anything is read (the caller may not do this)."""

    check: Callable[[str | None, Sequence[NewItem]], None]
    problem: type[AppError]


@dataclass(frozen=True)
class Rule:
    """A rule on one stored row, checked under its lock: raises ``problem`` when the change may not
    happen (the row still has associations, a chip, members...)."""

    check: Callable[[Connection, str], Awaitable[None]]
    problem: type[AppError]


@dataclass(frozen=True)
class Notes:
    """The routes' descriptions in OpenAPI."""

    create: str
    list: str
    delete: str
    update: str = ""


@dataclass(frozen=True, eq=False)
class Kind:
    name: str
    """The resource's ``type``: "vehicle"."""
    plural: str
    """Its table, path segment (``/v2/vehicles``), OpenAPI tag and fleet_totals kind."""
    title: str
    """The prefix of its OpenAPI schema names: "Vehicle"."""
    attributes: tuple[Attribute, ...]
    not_found: type[AppError]
    soft_delete: bool
    search_text: str
    """The text ``search`` looks into, over alias ``t`` (the expression of the trigram index)."""
    scope: str
    """Condition over alias ``t``: the row is seen by a caller bound to ``{enterprise}``."""
    counted_per_enterprise: bool
    """fleet_totals holds one counter per enterprise (else one overall)."""
    notes: Notes
    guard: Guard | None = None
    before_move: Rule | None = None
    """Checked when a change gives the row another ``enterprise_id``."""
    before_delete: Rule | None = None
    list_filters: tuple[str, ...] = field(default=())
    """Attributes a list may be filtered by (``?enterprise_id=``)."""

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(attribute.name for attribute in self.attributes)

    @property
    def references(self) -> tuple[Attribute, ...]:
        return tuple(attribute for attribute in self.attributes if attribute.reference is not None)

    @property
    def unique(self) -> tuple[Attribute, ...]:
        return tuple(attribute for attribute in self.attributes if attribute.unique is not None)

    # -- SQL fragments ---------------------------------------------------------------------------------

    @property
    def live(self) -> str:
        return "t.deleted_at IS NULL" if self.soft_delete else "true"

    @property
    def columns(self) -> str:
        """The rendered columns, and ``version``: the row's version (xmin), its ETag."""
        attributes = (f"t.{name}" for name in self.attribute_names)
        return ", ".join(["t.id", *attributes, "t.created_at", "t.updated_at", "t.xmin::text AS version"])

    def visible_to(self, placeholder: str) -> str:
        """The row is seen by the caller whose enterprise is ``placeholder`` (NULL: every row)."""
        return f"({placeholder}::text IS NULL OR {self.scope.format(enterprise=placeholder)})"

    def scoped_to(self, placeholder: str) -> str:
        """The row is seen by a caller bound to the enterprise ``placeholder`` (never NULL)."""
        return self.scope.format(enterprise=placeholder)

    # -- what OpenAPI lists for each write ----------------------------------------------------------------

    @property
    def create_problems(self) -> tuple[type[AppError], ...]:
        guard = (self.guard.problem,) if self.guard is not None and self.guard.problem is not BadRequest else ()
        references = tuple(a.reference.target.not_found for a in self.references if a.reference)
        return (*guard, *references, errors.IdInUse, *(a.unique.taken for a in self.unique if a.unique))

    @property
    def update_problems(self) -> tuple[type[AppError], ...]:
        references = tuple(a.reference.target.not_found for a in self.references if a.reference)
        move = (self.before_move.problem,) if self.before_move is not None else ()
        return (self.not_found, *references, *move, *(a.unique.taken for a in self.unique if a.unique))

    @property
    def delete_problems(self) -> tuple[type[AppError], ...]:
        return (self.not_found, *((self.before_delete.problem,) if self.before_delete is not None else ()))


# -- the rules only some kinds have ---------------------------------------------------------------------


def _unbound_only(enterprise: str | None, _items: Sequence[NewItem]) -> None:
    if enterprise is not None:
        raise Forbidden("a client bound to an enterprise cannot create enterprises")


def _installed_when_bound(enterprise: str | None, items: Sequence[NewItem]) -> None:
    """A bound caller sees a chip only in its devices: one it creates must be installed in one."""
    if enterprise is None:
        return
    missing = [
        entry(f"{item.pointer}/attributes/device_id", "a client bound to an enterprise creates chips installed")
        for item in items
        if item.attributes.get("device_id") is None
    ]
    if missing:
        raise BadRequest.from_errors(missing)


async def _enterprise_empty(connection: Connection, enterprise_id: str) -> None:
    members = await connection.fetchrow(queries.ENTERPRISE_HAS_LIVE_MEMBERS, enterprise_id)
    if members["vehicles"] or members["devices"]:
        what = " and ".join(kind for kind in ("vehicles", "devices") if members[kind])
        raise errors.EnterpriseInUse(f"enterprise {enterprise_id} still has {what}; delete or move them first")


def _stays_in_its_enterprise(noun: str, partner: str, history: str, in_use: type[AppError]) -> Rule:
    """A vehicle or device that has had associations (even ended ones, which record its enterprise)
    cannot move to another enterprise. ``history`` gives the row's ``ever``."""

    async def check(connection: Connection, resource_id: str) -> None:
        if (await connection.fetchrow(history, resource_id))["ever"]:
            raise in_use(
                f"{noun} {resource_id} has had {partner} associations, whose history records its enterprise: "
                "it cannot move to another enterprise",
                errors=[entry("/data/attributes/enterprise_id", f"the {noun} has association history")],
            )

    return Rule(check, in_use)


async def _vehicle_without_active_associations(connection: Connection, vehicle_id: str) -> None:
    counts = await connection.fetchrow(queries.VEHICLE_ASSOCIATION_COUNTS, vehicle_id)
    if counts["active"]:
        raise errors.VehicleInUse(
            f"vehicle {vehicle_id} has {counts['active']} active device associations; end them first"
        )


async def _device_free(connection: Connection, device_id: str) -> None:
    state = await connection.fetchrow(queries.DEVICE_ASSOCIATIONS_AND_CHIP, device_id)
    reasons = []
    if state["active_vehicle"] is not None:
        reasons.append(f"is associated with vehicle {state['active_vehicle']}")
    if state["chip_id"] is not None:
        reasons.append(f"holds chip {state['chip_id']}")
    if reasons:
        raise errors.DeviceInUse(f"device {device_id} {' and '.join(reasons)}; end or remove that first")


# -- the kinds -------------------------------------------------------------------------------------------

ENTERPRISE = Kind(
    name="enterprise",
    plural="enterprises",
    title="Enterprise",
    attributes=(
        Attribute("name", fields.NAME),
        Attribute(
            "cnpj",
            fields.CNPJ,
            description="Accepted with or without . / - and in lower case; stored bare, upper case.",
            unique=Unique(errors.CnpjTaken, "CNPJ", "another enterprise has the CNPJ {value}"),
        ),
    ),
    not_found=errors.EnterpriseNotFound,
    soft_delete=True,
    search_text="enterprise_search_text(t.name, t.cnpj)",
    scope="t.id = {enterprise}",
    counted_per_enterprise=False,
    guard=Guard(_unbound_only, Forbidden),
    before_delete=Rule(_enterprise_empty, errors.EnterpriseInUse),
    notes=Notes(
        create="An enterprise has a `name` and a `cnpj` (numeric or alphanumeric, with or without `.`, `/`, "
        "`-`, any case; stored bare and upper-case), unique among live enterprises. A client bound to an "
        "enterprise cannot create enterprises (403).",
        list="Live enterprises, oldest first. `search` looks into name and CNPJ.",
        delete="Deleted softly: its id stays taken. 409 while it has live vehicles or devices.",
    ),
)
_IN_ENTERPRISE = Reference(ENTERPRISE, "KEY SHARE")

VEHICLE = Kind(
    name="vehicle",
    plural="vehicles",
    title="Vehicle",
    attributes=(
        Attribute("enterprise_id", fields.ID, reference=_IN_ENTERPRISE),
        Attribute("name", fields.NAME),
        Attribute("plate", fields.PLATE, optional=True),
        Attribute(
            "vin", fields.VIN, optional=True, description="17 letters or digits without I, O, Q; stored in upper case."
        ),
    ),
    not_found=errors.VehicleNotFound,
    soft_delete=True,
    search_text="vehicle_search_text(t.name, t.plate, t.vin)",
    scope="t.enterprise_id = {enterprise}",
    counted_per_enterprise=True,
    before_move=_stays_in_its_enterprise("vehicle", "device", queries.VEHICLE_ASSOCIATION_COUNTS, errors.VehicleInUse),
    before_delete=Rule(_vehicle_without_active_associations, errors.VehicleInUse),
    list_filters=("enterprise_id",),
    notes=Notes(
        create="A vehicle has an `enterprise_id`, a `name`, and optionally a `plate` and a `vin` (17 letters "
        "or digits without I, O, Q; stored upper-case).",
        list="Live vehicles, oldest first. `search` looks into name, plate and VIN.",
        update="`plate` and `vin` may be set to null. `enterprise_id` can change only while the vehicle has "
        "never had an association (409 otherwise).",
        delete="Deleted softly: its id stays taken and its association history stays. 409 while it has "
        "active associations.",
    ),
)

DEVICE = Kind(
    name="device",
    plural="devices",
    title="Device",
    attributes=(
        Attribute("enterprise_id", fields.ID, reference=_IN_ENTERPRISE),
        Attribute("name", fields.NAME),
        Attribute("imei", fields.IMEI, unique=Unique(errors.ImeiTaken, "IMEI", "another device has the IMEI {value}")),
        Attribute("code", fields.SHORT_TEXT),
    ),
    not_found=errors.DeviceNotFound,
    soft_delete=True,
    search_text="device_search_text(t.name, t.imei, t.code)",
    scope="t.enterprise_id = {enterprise}",
    counted_per_enterprise=True,
    before_move=_stays_in_its_enterprise("device", "vehicle", queries.DEVICE_ASSOCIATIONS_AND_CHIP, errors.DeviceInUse),
    before_delete=Rule(_device_free, errors.DeviceInUse),
    list_filters=("enterprise_id",),
    notes=Notes(
        create="A device has an `enterprise_id`, a `name`, an `imei` (15 digits, Luhn-valid, unique among "
        "live devices) and a `code`.",
        list="Live devices, oldest first. `search` looks into name, IMEI and code.",
        update="`enterprise_id` can change only while the device has never had an association (409 otherwise).",
        delete="Deleted softly: its id stays taken and its association history stays. 409 while it has an "
        "active association or holds a chip.",
    ),
)

# A chip belongs to no enterprise: a bound caller sees it while it sits in one of its live devices.
CHIP = Kind(
    name="chip",
    plural="chips",
    title="Chip",
    attributes=(
        Attribute(
            "serial", fields.ICCID, unique=Unique(errors.IccidTaken, "serial", "another chip has the serial {value}")
        ),
        Attribute("number", fields.E164),
        Attribute("carrier", fields.SHORT_TEXT),
        Attribute("service_provider", fields.SHORT_TEXT),
        Attribute("batch", fields.SHORT_TEXT),
        Attribute(
            "device_id",
            fields.ID,
            optional=True,
            description="The device the chip is installed in.",
            change_description="A device id installs the chip there; null removes it.",
            reference=Reference(DEVICE, "NO KEY UPDATE"),
            unique=Unique(
                errors.DeviceHasChip,
                "device",
                "device {value} holds another chip already",
                import_detail="device {value} holds chip {holder} already",
            ),
        ),
    ),
    not_found=errors.ChipNotFound,
    soft_delete=False,
    search_text="chip_search_text(t.serial, t.number, t.carrier, t.service_provider, t.batch)",
    scope="t.device_id IN (SELECT d.id FROM devices AS d "
    "WHERE d.enterprise_id = {enterprise} AND d.deleted_at IS NULL)",
    counted_per_enterprise=False,
    guard=Guard(_installed_when_bound, BadRequest),
    notes=Notes(
        create="A chip (SIM) has a `serial` (ICCID: 19 or 20 digits, Luhn-valid, unique), a `number` "
        "(E.164), `carrier`, `service_provider`, `batch`, and optionally the `device_id` it is installed in (a "
        "device holds one chip at most). A client bound to an enterprise must give `device_id`.",
        list="Chips, oldest first; for a client bound to an enterprise, those installed in its devices. "
        "`search` looks into serial, number, carrier, service provider and batch.",
        update="`device_id` installs the chip in that device (which must hold no other) or, null, removes it.",
        delete="Deleted for real (nothing refers to a chip), installed or not.",
    ),
)

KINDS = (ENTERPRISE, VEHICLE, DEVICE, CHIP)
