"""HTTP routes of the fleet API (see ../shared/API.md, section 3, and docs/fleet-api.md).

Each route parses the request (schemas), calls one service function and renders the answer in the
seed's envelope: ``{"data": resource | [resources], "meta": {...}}``, a resource being
``{"type", "id", "attributes"}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from asyncpg import Record
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from fleetreg.auth.dependencies import FleetAccess, fleet_access
from fleetreg.db import Database
from fleetreg.fleet import errors, formats, schemas, service
from fleetreg.fleet.formats import ID_PATTERN
from fleetreg.fleet.listing import (
    CHIP_FIELDS,
    DEEP_PARAMETERS,
    FILTER_FIELDS,
    INCLUDABLE,
    OPERATORS,
    SORT_FIELDS,
    parse_object_parameters,
)
from fleetreg.fleet.queries import Table
from fleetreg.fleet.service import Entity
from fleetreg.problems import AppError, BadRequest, Forbidden
from fleetreg.web import JSONBytes, StrictRoute, deep_object_params, json_response

router = APIRouter(route_class=StrictRoute)

Reader = Annotated[FleetAccess, fleet_access(write=False)]
Writer = Annotated[FleetAccess, fleet_access(write=True)]


# -- parameters -------------------------------------------------------------------------------------------


def _strict_bool(value: Any) -> Any:
    if value in ("true", "false"):
        return value == "true"
    if isinstance(value, bool):
        return value
    raise PydanticCustomError("boolean", "must be true or false")


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str):
        if not _RFC3339.fullmatch(value):
            raise PydanticCustomError("rfc3339", "must be an RFC 3339 time with its offset, e.g. 2026-11-22T10:00:00Z")
        # Python's datetime keeps microseconds: drop digits beyond them rather than refuse them.
        value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    return value


def _in_range(value: datetime | None) -> datetime | None:
    # 9999-12-31T23:59:59-01:00 is a valid RFC 3339 time past the last instant PostgreSQL (and Python) know.
    if value is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise PydanticCustomError("rfc3339", "must be between years 0001 and 9999 in UTC") from None
    return value


def _storable(value: str | None) -> str | None:
    if value is not None and (reason := formats.unstorable(value)):
        raise PydanticCustomError("text", reason)
    return value


def _id_path(description: str) -> Any:
    return Path(pattern=ID_PATTERN, description=description, examples=["Ab3dE5gH7jK9mN1"])


Limit = Annotated[int, Query(ge=1, le=100, description="Items per page, 1 to 100.")]
# Any page a JSON number of 64 bits can say; one past the data is simply empty.
PageNumber = Annotated[int, Query(ge=0, le=2**63 - 1, description="Page number, from 0.")]
Count = Annotated[
    bool, Query(description="true: meta.count gives the total of matches."), BeforeValidator(_strict_bool)
]
Search = Annotated[
    str | None,
    Query(max_length=100, description="Case-insensitive 'contains' over the text attributes."),
    AfterValidator(_storable),
]
AsOf = Annotated[
    datetime | None,
    Query(description="An RFC 3339 instant: the associations active then, instead of now."),
    BeforeValidator(_rfc3339),
    AfterValidator(_in_range),
]
EnterpriseFilter = Annotated[str | None, Query(pattern=ID_PATTERN, description="Only those of this enterprise.")]
EnterpriseId = Annotated[str, _id_path("The enterprise's id.")]
VehicleId = Annotated[str, _id_path("The vehicle's id.")]
DeviceId = Annotated[str, _id_path("The device's id.")]
ChipId = Annotated[str, _id_path("The chip's id.")]
AssociationId = Annotated[str, _id_path("The association's id.")]


# -- rendering --------------------------------------------------------------------------------------------


def _resource(table: Table, row: Record) -> dict[str, Any]:
    attributes = {name: row[name] for name in table.attributes}
    attributes["created_at"] = row["created_at"]
    attributes["updated_at"] = row["updated_at"]
    return {"type": table.kind, "id": row["id"], "attributes": attributes}


def _association(row: Record) -> dict[str, Any]:
    return {
        "type": "device_association",
        "id": row["id"],
        "attributes": {
            "vehicle_id": row["vehicle_id"],
            "device_id": row["device_id"],
            "is_main_device": row["is_main_device"],
            "created_at": row["created_at"],
            "ended_at": row["ended_at"],
        },
    }


def _list_meta(page: int, limit: int, total: int | None) -> dict[str, int]:
    meta = {"page": page, "limit": limit}
    if total is not None:
        meta["count"] = total
    return meta


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


# -- OpenAPI: the problems each operation may answer with ----------------------------------------------
# (fleetreg.openapi gives every problem response the Problem schema and adds the generic statuses.)


def _problems(*kinds: type[AppError]) -> dict[int | str, dict[str, Any]]:
    titles: dict[int, list[str]] = {}
    every: tuple[type[AppError], ...] = (BadRequest, *kinds)
    for kind in every:
        titles.setdefault(kind.status, [])
        if kind.title not in titles[kind.status]:
            titles[kind.status].append(kind.title)
    return {
        status: {"description": ("One of: " if len(names) > 1 else "") + ", ".join(f"'{title}'" for title in names)}
        for status, names in sorted(titles.items())
    }


def _documented(model: type[Any], status: int = 200, *problems: type[AppError]) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": model, "description": "Created" if status == 201 else "OK"}, **_problems(*problems)}


# -- entities: shared handlers -------------------------------------------------------------------------------


def _new_items(data: Any) -> tuple[list[service.NewItem], bool]:
    """(items, whether the body held an array)."""
    if isinstance(data, list):
        return [
            service.NewItem(f"/data/{number}", item.id, item.attributes.model_dump())
            for number, item in enumerate(data)
        ], True
    return [service.NewItem("/data", data.id, data.attributes.model_dump())], False


async def _create(request: Request, access: FleetAccess, entity: Entity, data: Any, path: str) -> JSONBytes:
    items, many = _new_items(data)
    rows = await service.create(_db(request), access.enterprise_id, entity, items)
    resources = [_resource(entity.table, row) for row in rows]
    response = json_response({"data": resources if many else resources[0], "meta": {}}, 201)
    if not many:
        response.headers["Location"] = f"{path}/{rows[0]['id']}"
    return response


def _changes(path_id: str, data: Any) -> Mapping[str, Any]:
    if data.id is not None and data.id != path_id:
        raise BadRequest.from_errors([{"pointer": "/data/id", "detail": f"must be the id in the path, {path_id}"}])
    if data.attributes is None:
        return {}
    changes: dict[str, Any] = data.attributes.model_dump(include=data.attributes.model_fields_set)
    return changes


async def _update(request: Request, access: FleetAccess, entity: Entity, resource_id: str, data: Any) -> JSONBytes:
    row = await service.update(_db(request), access.enterprise_id, entity, resource_id, _changes(resource_id, data))
    return json_response({"data": _resource(entity.table, row), "meta": {}})


async def _get(request: Request, access: FleetAccess, entity: Entity, resource_id: str) -> JSONBytes:
    row = await service.get(_db(request), access.enterprise_id, entity, resource_id)
    return json_response({"data": _resource(entity.table, row), "meta": {}})


async def _list(
    request: Request,
    access: FleetAccess,
    entity: Entity,
    *,
    limit: int,
    page: int,
    count: bool,
    search: str | None,
    enterprise_id: str | None = None,
) -> JSONBytes:
    result = await service.list_rows(
        _db(request),
        access.enterprise_id,
        entity,
        limit=limit,
        page=page,
        count=count,
        search=search,
        enterprise_id=enterprise_id,
    )
    data = [_resource(entity.table, row) for row in result.rows]
    return json_response({"data": data, "meta": _list_meta(page, limit, result.total)})


async def _delete(request: Request, access: FleetAccess, entity: Entity, resource_id: str) -> Response:
    await service.delete(_db(request), access.enterprise_id, entity, resource_id)
    return Response(status_code=204)


def _register(
    *,
    path: str,
    entity: Entity,
    tag: str,
    create: Callable[..., Any],
    get: Callable[..., Any],
    update: Callable[..., Any],
    delete: Callable[..., Any],
    document: type[Any],
    listing: Callable[..., Any],
    list_document: type[Any],
    create_problems: Sequence[type[AppError]],
    update_problems: Sequence[type[AppError]],
    delete_problems: Sequence[type[AppError]],
) -> None:
    kind = entity.table.kind
    item_path = f"{path}/{{{kind}_id}}"
    router.add_api_route(
        path,
        create,
        methods=["POST"],
        status_code=201,
        tags=[tag],
        summary=f"Create one {kind} or up to 1000 (all or none)",
        response_class=JSONBytes,
        responses=_documented(document, 201, *create_problems),
    )
    router.add_api_route(
        path,
        listing,
        methods=["GET"],
        tags=[tag],
        summary=f"List {tag}, oldest first",
        response_class=JSONBytes,
        responses=_documented(list_document, 200),
    )
    router.add_api_route(
        item_path,
        get,
        methods=["GET"],
        tags=[tag],
        summary=f"Get a {kind}",
        response_class=JSONBytes,
        responses=_documented(document, 200, entity.not_found),
    )
    router.add_api_route(
        item_path,
        update,
        methods=["PATCH"],
        tags=[tag],
        summary=f"Change attributes of a {kind}",
        response_class=JSONBytes,
        responses=_documented(document, 200, entity.not_found, *update_problems),
    )
    router.add_api_route(
        item_path,
        delete,
        methods=["DELETE"],
        status_code=204,
        tags=[tag],
        summary=f"Delete a {kind}",
        response_class=Response,
        responses={204: {"description": "Deleted"}, **_problems(entity.not_found, *delete_problems)},
    )


# -- enterprises ------------------------------------------------------------------------------------------


async def create_enterprises(request: Request, access: Writer, body: schemas.EnterpriseCreate) -> JSONBytes:
    """An enterprise has a `name` and a `cnpj` (numeric or alphanumeric, with or without `.`, `/`,
    `-`, any case; stored bare and upper-case), unique among live enterprises. A client bound to an
    enterprise cannot create enterprises (403)."""
    return await _create(request, access, service.ENTERPRISE, body.data, "/v2/enterprises")


async def list_enterprises(
    request: Request,
    access: Reader,
    limit: Limit = 25,
    page: PageNumber = 0,
    count: Count = False,
    search: Search = None,
) -> JSONBytes:
    """Live enterprises, oldest first. `search` looks into name and CNPJ."""
    return await _list(request, access, service.ENTERPRISE, limit=limit, page=page, count=count, search=search)


async def get_enterprise(request: Request, access: Reader, enterprise_id: EnterpriseId) -> JSONBytes:
    return await _get(request, access, service.ENTERPRISE, enterprise_id)


async def update_enterprise(
    request: Request, access: Writer, enterprise_id: EnterpriseId, body: schemas.EnterprisePatch
) -> JSONBytes:
    return await _update(request, access, service.ENTERPRISE, enterprise_id, body.data)


async def delete_enterprise(request: Request, access: Writer, enterprise_id: EnterpriseId) -> Response:
    """Deleted softly: its id stays taken. 409 while it has live vehicles or devices."""
    return await _delete(request, access, service.ENTERPRISE, enterprise_id)


_register(
    path="/v2/enterprises",
    entity=service.ENTERPRISE,
    tag="enterprises",
    create=create_enterprises,
    get=get_enterprise,
    update=update_enterprise,
    delete=delete_enterprise,
    document=schemas.EnterpriseDocument,
    listing=list_enterprises,
    list_document=schemas.EnterpriseList,
    create_problems=(Forbidden, errors.IdInUse, errors.CnpjTaken),
    update_problems=(errors.CnpjTaken,),
    delete_problems=(errors.EnterpriseInUse,),
)


# -- vehicles ---------------------------------------------------------------------------------------------


async def create_vehicles(request: Request, access: Writer, body: schemas.VehicleCreate) -> JSONBytes:
    """A vehicle has an `enterprise_id`, a `name`, and optionally a `plate` and a `vin` (17 letters or
    digits without I, O, Q; stored upper-case)."""
    return await _create(request, access, service.VEHICLE, body.data, "/v2/vehicles")


async def list_vehicles(
    request: Request,
    access: Reader,
    enterprise_id: EnterpriseFilter = None,
    limit: Limit = 25,
    page: PageNumber = 0,
    count: Count = False,
    search: Search = None,
) -> JSONBytes:
    """Live vehicles, oldest first. `search` looks into name, plate and VIN."""
    return await _list(
        request,
        access,
        service.VEHICLE,
        limit=limit,
        page=page,
        count=count,
        search=search,
        enterprise_id=enterprise_id,
    )


async def get_vehicle(request: Request, access: Reader, vehicle_id: VehicleId) -> JSONBytes:
    return await _get(request, access, service.VEHICLE, vehicle_id)


async def update_vehicle(
    request: Request, access: Writer, vehicle_id: VehicleId, body: schemas.VehiclePatch
) -> JSONBytes:
    """`plate` and `vin` may be set to null. `enterprise_id` can change only while the vehicle has
    never had an association (409 otherwise)."""
    return await _update(request, access, service.VEHICLE, vehicle_id, body.data)


async def delete_vehicle(request: Request, access: Writer, vehicle_id: VehicleId) -> Response:
    """Deleted softly: its id stays taken and its association history stays. 409 while it has active
    associations."""
    return await _delete(request, access, service.VEHICLE, vehicle_id)


_register(
    path="/v2/vehicles",
    entity=service.VEHICLE,
    tag="vehicles",
    create=create_vehicles,
    get=get_vehicle,
    update=update_vehicle,
    delete=delete_vehicle,
    document=schemas.VehicleDocument,
    listing=list_vehicles,
    list_document=schemas.VehicleList,
    create_problems=(errors.EnterpriseNotFound, errors.IdInUse),
    update_problems=(errors.EnterpriseNotFound, errors.VehicleInUse),
    delete_problems=(errors.VehicleInUse,),
)


# -- devices ----------------------------------------------------------------------------------------------


async def create_devices(request: Request, access: Writer, body: schemas.DeviceCreate) -> JSONBytes:
    """A device has an `enterprise_id`, a `name`, an `imei` (15 digits, Luhn-valid, unique among live
    devices) and a `code`."""
    return await _create(request, access, service.DEVICE, body.data, "/v2/devices")


async def list_devices(
    request: Request,
    access: Reader,
    enterprise_id: EnterpriseFilter = None,
    limit: Limit = 25,
    page: PageNumber = 0,
    count: Count = False,
    search: Search = None,
) -> JSONBytes:
    """Live devices, oldest first. `search` looks into name, IMEI and code."""
    return await _list(
        request, access, service.DEVICE, limit=limit, page=page, count=count, search=search, enterprise_id=enterprise_id
    )


async def get_device(request: Request, access: Reader, device_id: DeviceId) -> JSONBytes:
    return await _get(request, access, service.DEVICE, device_id)


async def update_device(request: Request, access: Writer, device_id: DeviceId, body: schemas.DevicePatch) -> JSONBytes:
    """`enterprise_id` can change only while the device has never had an association (409 otherwise)."""
    return await _update(request, access, service.DEVICE, device_id, body.data)


async def delete_device(request: Request, access: Writer, device_id: DeviceId) -> Response:
    """Deleted softly: its id stays taken and its association history stays. 409 while it has an
    active association or holds a chip."""
    return await _delete(request, access, service.DEVICE, device_id)


_register(
    path="/v2/devices",
    entity=service.DEVICE,
    tag="devices",
    create=create_devices,
    get=get_device,
    update=update_device,
    delete=delete_device,
    document=schemas.DeviceDocument,
    listing=list_devices,
    list_document=schemas.DeviceList,
    create_problems=(errors.EnterpriseNotFound, errors.IdInUse, errors.ImeiTaken),
    update_problems=(errors.EnterpriseNotFound, errors.DeviceInUse, errors.ImeiTaken),
    delete_problems=(errors.DeviceInUse,),
)


# -- chips ------------------------------------------------------------------------------------------------


async def create_chips(request: Request, access: Writer, body: schemas.ChipCreate) -> JSONBytes:
    """A chip (SIM) has a `serial` (ICCID: 19 or 20 digits, Luhn-valid, unique), a `number` (E.164),
    `carrier`, `service_provider`, `batch`, and optionally the `device_id` it is installed in (a
    device holds one chip at most). A client bound to an enterprise must give `device_id`."""
    return await _create(request, access, service.CHIP, body.data, "/v2/chips")


async def list_chips(
    request: Request,
    access: Reader,
    limit: Limit = 25,
    page: PageNumber = 0,
    count: Count = False,
    search: Search = None,
) -> JSONBytes:
    """Chips, oldest first; for a client bound to an enterprise, those installed in its devices.
    `search` looks into serial, number, carrier, service provider and batch."""
    return await _list(request, access, service.CHIP, limit=limit, page=page, count=count, search=search)


async def get_chip(request: Request, access: Reader, chip_id: ChipId) -> JSONBytes:
    return await _get(request, access, service.CHIP, chip_id)


async def update_chip(request: Request, access: Writer, chip_id: ChipId, body: schemas.ChipPatch) -> JSONBytes:
    """`device_id` installs the chip in that device (which must hold no other) or, null, removes it."""
    return await _update(request, access, service.CHIP, chip_id, body.data)


async def delete_chip(request: Request, access: Writer, chip_id: ChipId) -> Response:
    """Deleted for real (nothing refers to a chip), installed or not."""
    return await _delete(request, access, service.CHIP, chip_id)


_register(
    path="/v2/chips",
    entity=service.CHIP,
    tag="chips",
    create=create_chips,
    get=get_chip,
    update=update_chip,
    delete=delete_chip,
    document=schemas.ChipDocument,
    listing=list_chips,
    list_document=schemas.ChipList,
    create_problems=(errors.DeviceNotFound, errors.IdInUse, errors.IccidTaken, errors.DeviceHasChip),
    update_problems=(errors.DeviceNotFound, errors.IccidTaken, errors.DeviceHasChip),
    delete_problems=(),
)


# -- associations -----------------------------------------------------------------------------------------

_ASSOCIATE_PROBLEMS = (
    errors.VehicleNotFound,
    errors.DeviceNotFound,
    errors.DeviceAlreadyAssociated,
    errors.VehicleAlreadyHasMainDevice,
    errors.EnterpriseMismatch,
    errors.MainDeviceRequired,
)


@router.post(
    "/v2/vehicles/associations/devices",
    tags=["associations"],
    summary="Associate devices with vehicles (all or none)",
    response_class=JSONBytes,
    responses=_documented(schemas.AssociationsDocument, 200, *_ASSOCIATE_PROBLEMS),
)
async def create_associations(request: Request, access: Writer, body: schemas.AssociationCreate) -> JSONBytes:
    """Creates one association per item (1 to 1000). All or none: when any item cannot be
    associated, nothing is, and the problem's `errors` names every offending item by its JSON
    pointer. Checked in this order, the first failing rule is reported: `Vehicle Not Found`,
    `Device Not Found`, `Vehicle And Device Are in Different Enterprises`, `Device(s) Already
    Associated With Another Vehicle` (also a device already on this vehicle, or listed twice),
    `Vehicle Already Has Main Device` (also two mains for one vehicle), `One Vehicle-Device
    Association Must Be Main` (a vehicle would get associations but no main)."""
    items = [
        service.AssociationItem(f"/data/{number}", item.vehicle_id, item.device_id, item.is_main_device)
        for number, item in enumerate(body.data)
    ]
    rows = await service.create_associations(_db(request), access.enterprise_id, items)
    return json_response({"data": [_association(row) for row in rows], "meta": {}})


@router.delete(
    "/v2/vehicles/associations/devices",
    tags=["associations"],
    summary="End associations (all or none)",
    response_class=JSONBytes,
    responses=_documented(schemas.AssociationsDocument, 200, errors.AssociationNotFound, errors.MainDeviceRequired),
)
async def end_associations(request: Request, access: Writer, body: schemas.AssociationEnd) -> JSONBytes:
    """Ends the associations (they stay in the history with `ended_at`). `Association Not Found` for
    an unknown or already ended one; `One Vehicle-Device Association Must Be Main` when a main one
    would end while other associations of its vehicle stay active."""
    references = [service.AssociationReference(f"/data/{number}", item.id) for number, item in enumerate(body.data)]
    rows = await service.end_associations(_db(request), access.enterprise_id, references)
    return json_response({"data": [_association(row) for row in rows], "meta": {}})


@router.patch(
    "/v2/vehicles/{vehicle_id}/associations/devices/{association_id}",
    tags=["associations"],
    summary="Make an association the vehicle's main one",
    response_class=JSONBytes,
    responses=_documented(schemas.AssociationDocument, 200, errors.AssociationNotFound, errors.MainDeviceRequired),
)
async def update_association(
    request: Request,
    access: Writer,
    vehicle_id: VehicleId,
    association_id: AssociationId,
    body: schemas.AssociationPatch,
) -> JSONBytes:
    """`is_main_device: true` makes it the main one and the previous main a secondary, at once;
    `false` on the main one is 400 (make another one main instead)."""
    changes = _changes(association_id, body.data)
    row = await service.update_association(
        _db(request), access.enterprise_id, vehicle_id, association_id, changes.get("is_main_device")
    )
    return json_response({"data": _association(row), "meta": {}})


def _deep_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "style": "deepObject",
        "explode": True,
        "description": description,
        "schema": schema,
    }


_NAMES = {"type": "array", "items": {"type": "string"}}
_ASSOCIATION_LIST_PARAMETERS = [
    _deep_parameter(
        "attributes",
        "Chip fields to return: attributes[]=serial&attributes[]=number, attributes=serial,number, or a JSON "
        f"array; absent or null: all. One of {', '.join(CHIP_FIELDS)}.",
        {"type": "array", "items": {"type": "string", "enum": list(CHIP_FIELDS)}},
    ),
    _deep_parameter(
        "includes",
        "Related fields to add: includes[device][]=name|imei|code, includes[enterprise][]=name|cnpj, or one JSON "
        'object ({"device": ["name"]}).',
        {
            "type": "object",
            "properties": {
                entity: {"type": "array", "items": {"type": "string", "enum": list(fields)}}
                for entity, fields in INCLUDABLE.items()
            },
        },
    ),
    _deep_parameter(
        "filters",
        "filters[<field>][<op>]=value, all combined with AND, or one JSON object "
        '({"device.name": {"eq": "x"}}). eq and neq are exact; ilk (contains), sw (starts with) and ew (ends '
        "with) ignore case and take % and _ literally. neq also matches an association whose device has no chip. "
        f"Fields: {', '.join(FILTER_FIELDS)}.",
        {
            "type": "object",
            "properties": {
                name: {"type": "object", "properties": {op: {"type": "string"} for op in OPERATORS}}
                for name in FILTER_FIELDS
            },
        },
    ),
    _deep_parameter(
        "sort",
        "sort[number]=1|-1, sort[serial]=1|-1, applied in the given order (or one JSON object); associations "
        "without a chip come last. Then: main first, created_at, id.",
        {"type": "object", "properties": {name: {"type": "integer", "enum": [1, -1]} for name in SORT_FIELDS}},
    ),
]


@router.get(
    "/v2/vehicles/{vehicle_id}/associations/devices",
    tags=["associations"],
    summary="A vehicle's active associations, with chip, device and enterprise fields",
    response_class=JSONBytes,
    responses=_documented(schemas.VehicleAssociationList, 200, errors.VehicleNotFound),
    openapi_extra={"parameters": _ASSOCIATION_LIST_PARAMETERS},
)
@deep_object_params(*DEEP_PARAMETERS)
async def list_vehicle_associations(
    request: Request,
    access: Reader,
    vehicle_id: VehicleId,
    search: Search = None,
    limit: Limit = 25,
    page: PageNumber = 0,
    count: Count = False,
    as_of: AsOf = None,
) -> JSONBytes:
    """The vehicle's associations active now (or at `as_of`), one SQL statement per request.
    `search` (at most 100 characters) looks into the chip, device and enterprise text fields."""
    objects = parse_object_parameters(request.query_params.multi_items())
    query = service.AssociationListQuery(vehicle_id, objects, search, limit, page, count, as_of)
    result = await service.list_vehicle_associations(_db(request), access.enterprise_id, query)
    return json_response(
        {
            "data": [_vehicle_association(row, objects) for row in result.rows],
            "meta": _list_meta(page, limit, result.total),
        }
    )


def _vehicle_association(row: Record, objects: Any) -> dict[str, Any]:
    item = _association(row)
    if row["chip_id"] is None:
        item["attributes"]["chip"] = None
    else:
        item["attributes"]["chip"] = {name: row[name] for name in objects.chip_fields}
    if objects.device_fields is not None:
        item["device"] = {name: row[f"device_{name}"] for name in objects.device_fields}
    if objects.enterprise_fields is not None:
        item["enterprise"] = {name: row[f"enterprise_{name}"] for name in objects.enterprise_fields}
    return item


@router.get(
    "/v2/devices/{device_id}/associations",
    tags=["associations"],
    summary="A device's associations over time, newest first",
    response_class=JSONBytes,
    responses=_documented(schemas.AssociationHistory, 200, errors.DeviceNotFound),
)
async def device_history(
    request: Request,
    access: Reader,
    device_id: DeviceId,
    as_of: AsOf = None,
    limit: Limit = 25,
    page: PageNumber = 0,
    count: Count = False,
) -> JSONBytes:
    """Every association the device has had, ended ones included. With `as_of`, the one active at
    that instant (none or one): which vehicle the device was on then."""
    result = await service.device_history(
        _db(request), access.enterprise_id, device_id, as_of=as_of, limit=limit, page=page, count=count
    )
    return json_response(
        {"data": [_association(row) for row in result.rows], "meta": _list_meta(page, limit, result.total)}
    )
