"""HTTP routes of the fleet API (docs/fleet-api.md), each declared beside its handler.

Each route parses the request, calls one service function and renders the answer in the seed's
envelope: ``{"data": resource | [resources], "meta": {...}}``, a resource being
``{"type", "id", "attributes"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from asyncpg import Record

from fleetreg.auth.access import FLEET_READ, FLEET_WRITE, FleetAccess
from fleetreg.fleet import errors, schemas, service
from fleetreg.fleet.formats import ID_PATTERN
from fleetreg.fleet.listing import (
    ASSOCIATION_LIST_PARAMETERS,
    DEEP_PARAMETERS,
    ObjectParameters,
    parse_object_parameters,
)
from fleetreg.fleet.queries import Table
from fleetreg.fleet.service import Entity
from fleetreg.problems import AppError, BadRequest, Forbidden
from fleetreg.versions import etag
from fleetreg.web import Documented, Request, Response, Routes, json_response, no_content, params
from fleetreg.web.conditional import if_match
from fleetreg.web.params import DeepObjects

routes = Routes()


# -- parameters -------------------------------------------------------------------------------------------


def _fleet_id(description: str) -> params.Param:
    return params.pattern(
        ID_PATTERN.strip("^$"), "must be 15 ASCII letters or digits", description=description, example="Ab3dE5gH7jK9mN1"
    )


LIMIT = params.integer(1, 100, default=25, description="Items per page, 1 to 100.")
# Any page a JSON number of 64 bits can say; one past the data is simply empty.
PAGE = params.integer(0, params.INT64_MAX, default=0, description="Page number, from 0.")
COUNT = params.boolean(default=False, description="true: meta.count gives the total of matches.")
SEARCH = params.text(max_length=100, description="Case-insensitive 'contains' over the text attributes.")
AS_OF = params.instant(description="An RFC 3339 instant: the associations active then, instead of now.")
ENTERPRISE_FILTER = _fleet_id("Only those of this enterprise.")
LISTING = {"limit": LIMIT, "page": PAGE, "count": COUNT, "search": SEARCH}


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


def _document(table: Table, row: Record, status: int = 200) -> Response:
    """One resource in the envelope, with its ETag (its row version)."""
    response = json_response({"data": _resource(table, row), "meta": {}}, status)
    response.set_header("ETag", etag(row["version"]))
    return response


def _list_meta(page: int, limit: int, total: int | None) -> dict[str, int]:
    meta = {"page": page, "limit": limit}
    if total is not None:
        meta["count"] = total
    return meta


# -- the entities: one set of handlers serves the four kinds ------------------------------------------------


def _new_items(data: Any) -> tuple[list[service.NewItem], bool]:
    """(items, whether the body held an array)."""
    if isinstance(data, list):
        return [
            service.NewItem(f"/data/{number}", item.id, item.attributes.model_dump())
            for number, item in enumerate(data)
        ], True
    return [service.NewItem("/data", data.id, data.attributes.model_dump())], False


def _changes(path_id: str, data: Any) -> Mapping[str, Any]:
    if data.id is not None and data.id != path_id:
        raise BadRequest.from_errors([{"pointer": "/data/id", "detail": f"must be the id in the path, {path_id}"}])
    if data.attributes is None:
        return {}
    changes: dict[str, Any] = data.attributes.model_dump(include=data.attributes.model_fields_set)
    return changes


def _entity_routes(
    *,
    path: str,
    entity: Entity,
    tag: str,
    create: type[Any],
    patch: type[Any],
    document: type[Any],
    list_document: type[Any],
    create_problems: Sequence[type[AppError]],
    update_problems: Sequence[type[AppError]],
    delete_problems: Sequence[type[AppError]],
    filters: Mapping[str, params.Param] | None = None,
    notes: Mapping[str, str],
) -> None:
    """The five routes of one kind: create (one or up to 1000), list, get, patch, delete."""
    kind = entity.table.kind
    item_path = f"{path}/{{{kind}_id}}"
    item_id = {f"{kind}_id": _fleet_id(f"The {kind}'s id.")}
    filters = dict(filters or {})

    async def create_resources(request: Request, caller: FleetAccess, body: Any) -> Response:
        items, many = _new_items(body.data)
        rows = await service.create(request.state.db, caller.enterprise_id, entity, items)
        if not many:
            response = _document(entity.table, rows[0], 201)
            response.set_header("Location", f"{path}/{rows[0]['id']}")
            return response
        return json_response({"data": [_resource(entity.table, row) for row in rows], "meta": {}}, 201)

    async def list_resources(
        request: Request, caller: FleetAccess, limit: int, page: int, count: bool, search: str | None, **filtered: Any
    ) -> Response:
        result = await service.list_rows(
            request.state.db,
            caller.enterprise_id,
            entity,
            limit=limit,
            page=page,
            count=count,
            search=search,
            enterprise_id=filtered.get("enterprise_id"),
        )
        data = [_resource(entity.table, row) for row in result.rows]
        return json_response({"data": data, "meta": _list_meta(page, limit, result.total)})

    async def get_resource(request: Request, caller: FleetAccess, **ids: str) -> Response:
        row = await service.get(request.state.db, caller.enterprise_id, entity, ids[f"{kind}_id"])
        return _document(entity.table, row)

    async def update_resource(request: Request, caller: FleetAccess, body: Any, **ids: str) -> Response:
        resource_id = ids[f"{kind}_id"]
        row = await service.update(
            request.state.db,
            caller.enterprise_id,
            entity,
            resource_id,
            _changes(resource_id, body.data),
            if_match(request),
        )
        return _document(entity.table, row)

    async def delete_resource(request: Request, caller: FleetAccess, **ids: str) -> Response:
        await service.delete(request.state.db, caller.enterprise_id, entity, ids[f"{kind}_id"], if_match(request))
        return no_content()

    routes.add(
        "POST",
        path,
        create_resources,
        operation_id=f"create_{tag}",
        summary=f"Create one {kind} or up to 1000 (all or none)",
        description=notes["create"],
        tags=[tag],
        access=FLEET_WRITE,
        body=create,
        responses={201: Documented(document, "Created")},
        problems=create_problems,
    )
    routes.add(
        "GET",
        path,
        list_resources,
        operation_id=f"list_{tag}",
        summary=f"List {tag}, oldest first",
        description=notes["list"],
        tags=[tag],
        access=FLEET_READ,
        query={**filters, **LISTING},
        responses={200: list_document},
    )
    routes.add(
        "GET",
        item_path,
        get_resource,
        operation_id=f"get_{kind}",
        summary=f"Get a {kind}",
        tags=[tag],
        access=FLEET_READ,
        path_params=item_id,
        responses={200: document},
        problems=(entity.not_found,),
        conditional=True,
    )
    routes.add(
        "PATCH",
        item_path,
        update_resource,
        operation_id=f"update_{kind}",
        summary=f"Change attributes of a {kind}",
        description=notes.get("update", ""),
        tags=[tag],
        access=FLEET_WRITE,
        path_params=item_id,
        body=patch,
        responses={200: document},
        problems=(entity.not_found, *update_problems),
        conditional=True,
    )
    routes.add(
        "DELETE",
        item_path,
        delete_resource,
        operation_id=f"delete_{kind}",
        summary=f"Delete a {kind}",
        description=notes["delete"],
        tags=[tag],
        access=FLEET_WRITE,
        path_params=item_id,
        responses={204: Documented(description="Deleted")},
        problems=(entity.not_found, *delete_problems),
        conditional=True,
    )


_entity_routes(
    path="/v2/enterprises",
    entity=service.ENTERPRISE,
    tag="enterprises",
    create=schemas.EnterpriseCreate,
    patch=schemas.EnterprisePatch,
    document=schemas.EnterpriseDocument,
    list_document=schemas.EnterpriseList,
    create_problems=(Forbidden, errors.IdInUse, errors.CnpjTaken),
    update_problems=(errors.CnpjTaken,),
    delete_problems=(errors.EnterpriseInUse,),
    notes={
        "create": "An enterprise has a `name` and a `cnpj` (numeric or alphanumeric, with or without `.`, `/`, "
        "`-`, any case; stored bare and upper-case), unique among live enterprises. A client bound to an "
        "enterprise cannot create enterprises (403).",
        "list": "Live enterprises, oldest first. `search` looks into name and CNPJ.",
        "delete": "Deleted softly: its id stays taken. 409 while it has live vehicles or devices.",
    },
)
_entity_routes(
    path="/v2/vehicles",
    entity=service.VEHICLE,
    tag="vehicles",
    create=schemas.VehicleCreate,
    patch=schemas.VehiclePatch,
    document=schemas.VehicleDocument,
    list_document=schemas.VehicleList,
    create_problems=(errors.EnterpriseNotFound, errors.IdInUse),
    update_problems=(errors.EnterpriseNotFound, errors.VehicleInUse),
    delete_problems=(errors.VehicleInUse,),
    filters={"enterprise_id": ENTERPRISE_FILTER},
    notes={
        "create": "A vehicle has an `enterprise_id`, a `name`, and optionally a `plate` and a `vin` (17 letters "
        "or digits without I, O, Q; stored upper-case).",
        "list": "Live vehicles, oldest first. `search` looks into name, plate and VIN.",
        "update": "`plate` and `vin` may be set to null. `enterprise_id` can change only while the vehicle has "
        "never had an association (409 otherwise).",
        "delete": "Deleted softly: its id stays taken and its association history stays. 409 while it has "
        "active associations.",
    },
)
_entity_routes(
    path="/v2/devices",
    entity=service.DEVICE,
    tag="devices",
    create=schemas.DeviceCreate,
    patch=schemas.DevicePatch,
    document=schemas.DeviceDocument,
    list_document=schemas.DeviceList,
    create_problems=(errors.EnterpriseNotFound, errors.IdInUse, errors.ImeiTaken),
    update_problems=(errors.EnterpriseNotFound, errors.DeviceInUse, errors.ImeiTaken),
    delete_problems=(errors.DeviceInUse,),
    filters={"enterprise_id": ENTERPRISE_FILTER},
    notes={
        "create": "A device has an `enterprise_id`, a `name`, an `imei` (15 digits, Luhn-valid, unique among "
        "live devices) and a `code`.",
        "list": "Live devices, oldest first. `search` looks into name, IMEI and code.",
        "update": "`enterprise_id` can change only while the device has never had an association (409 otherwise).",
        "delete": "Deleted softly: its id stays taken and its association history stays. 409 while it has an "
        "active association or holds a chip.",
    },
)
_entity_routes(
    path="/v2/chips",
    entity=service.CHIP,
    tag="chips",
    create=schemas.ChipCreate,
    patch=schemas.ChipPatch,
    document=schemas.ChipDocument,
    list_document=schemas.ChipList,
    create_problems=(errors.DeviceNotFound, errors.IdInUse, errors.IccidTaken, errors.DeviceHasChip),
    update_problems=(errors.DeviceNotFound, errors.IccidTaken, errors.DeviceHasChip),
    delete_problems=(),
    notes={
        "create": "A chip (SIM) has a `serial` (ICCID: 19 or 20 digits, Luhn-valid, unique), a `number` "
        "(E.164), `carrier`, `service_provider`, `batch`, and optionally the `device_id` it is installed in (a "
        "device holds one chip at most). A client bound to an enterprise must give `device_id`.",
        "list": "Chips, oldest first; for a client bound to an enterprise, those installed in its devices. "
        "`search` looks into serial, number, carrier, service provider and batch.",
        "update": "`device_id` installs the chip in that device (which must hold no other) or, null, removes it.",
        "delete": "Deleted for real (nothing refers to a chip), installed or not.",
    },
)


# -- associations -----------------------------------------------------------------------------------------

ASSOCIATIONS = "/v2/vehicles/associations/devices"
VEHICLE_ID = {"vehicle_id": _fleet_id("The vehicle's id.")}
ASSOCIATION_ID = {"association_id": _fleet_id("The association's id.")}


@routes.post(
    ASSOCIATIONS,
    operation_id="create_associations",
    tags=["associations"],
    summary="Associate devices with vehicles (all or none)",
    access=FLEET_WRITE,
    body=schemas.AssociationCreate,
    responses={200: schemas.AssociationsDocument},
    problems=(
        errors.VehicleNotFound,
        errors.DeviceNotFound,
        errors.DeviceAlreadyAssociated,
        errors.VehicleAlreadyHasMainDevice,
        errors.EnterpriseMismatch,
        errors.MainDeviceRequired,
    ),
)
async def create_associations(request: Request, caller: FleetAccess, body: schemas.AssociationCreate) -> Response:
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
    rows = await service.create_associations(request.state.db, caller.enterprise_id, items)
    return json_response({"data": [_association(row) for row in rows], "meta": {}})


@routes.delete(
    ASSOCIATIONS,
    operation_id="end_associations",
    tags=["associations"],
    summary="End associations (all or none)",
    access=FLEET_WRITE,
    body=schemas.AssociationEnd,
    responses={200: schemas.AssociationsDocument},
    problems=(errors.AssociationNotFound, errors.MainDeviceRequired),
)
async def end_associations(request: Request, caller: FleetAccess, body: schemas.AssociationEnd) -> Response:
    """Ends the associations (they stay in the history with `ended_at`). `Association Not Found` for
    an unknown or already ended one; `One Vehicle-Device Association Must Be Main` when a main one
    would end while other associations of its vehicle stay active."""
    references = [service.AssociationReference(f"/data/{number}", item.id) for number, item in enumerate(body.data)]
    rows = await service.end_associations(request.state.db, caller.enterprise_id, references)
    return json_response({"data": [_association(row) for row in rows], "meta": {}})


@routes.patch(
    "/v2/vehicles/{vehicle_id}/associations/devices/{association_id}",
    operation_id="update_association",
    tags=["associations"],
    summary="Make an association the vehicle's main one",
    access=FLEET_WRITE,
    path_params={**VEHICLE_ID, **ASSOCIATION_ID},
    body=schemas.AssociationPatch,
    responses={200: schemas.AssociationDocument},
    problems=(errors.AssociationNotFound, errors.MainDeviceRequired),
)
async def update_association(
    request: Request, caller: FleetAccess, vehicle_id: str, association_id: str, body: schemas.AssociationPatch
) -> Response:
    """`is_main_device: true` makes it the main one and the previous main a secondary, at once;
    `false` on the main one is 400 (make another one main instead)."""
    changes = _changes(association_id, body.data)
    row = await service.update_association(
        request.state.db, caller.enterprise_id, vehicle_id, association_id, changes.get("is_main_device")
    )
    return json_response({"data": _association(row), "meta": {}})


@routes.get(
    "/v2/vehicles/{vehicle_id}/associations/devices",
    operation_id="list_vehicle_associations",
    tags=["associations"],
    summary="A vehicle's active associations, with chip, device and enterprise fields",
    access=FLEET_READ,
    path_params=VEHICLE_ID,
    query={"search": SEARCH, "limit": LIMIT, "page": PAGE, "count": COUNT, "as_of": AS_OF},
    deep=DeepObjects(
        names=DEEP_PARAMETERS,
        parse=parse_object_parameters,
        argument="objects",
        parameters=tuple(ASSOCIATION_LIST_PARAMETERS),
    ),
    responses={200: schemas.VehicleAssociationList},
    problems=(errors.VehicleNotFound,),
)
async def list_vehicle_associations(
    request: Request,
    caller: FleetAccess,
    vehicle_id: str,
    search: str | None,
    limit: int,
    page: int,
    count: bool,
    as_of: datetime | None,
    objects: ObjectParameters,
) -> Response:
    """The vehicle's associations active now (or at `as_of`), one SQL statement per request.
    `search` (at most 100 characters) looks into the chip, device and enterprise text fields."""
    query = service.AssociationListQuery(vehicle_id, objects, search, limit, page, count, as_of)
    result = await service.list_vehicle_associations(request.state.db, caller.enterprise_id, query)
    return json_response(
        {
            "data": [_vehicle_association(row, objects) for row in result.rows],
            "meta": _list_meta(page, limit, result.total),
        }
    )


def _vehicle_association(row: Record, objects: ObjectParameters) -> dict[str, Any]:
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


@routes.get(
    "/v2/devices/{device_id}/associations",
    operation_id="list_device_associations",
    tags=["associations"],
    summary="A device's associations over time, newest first",
    access=FLEET_READ,
    path_params={"device_id": _fleet_id("The device's id.")},
    query={"as_of": AS_OF, "limit": LIMIT, "page": PAGE, "count": COUNT},
    responses={200: schemas.AssociationHistory},
    problems=(errors.DeviceNotFound,),
)
async def device_history(
    request: Request,
    caller: FleetAccess,
    device_id: str,
    as_of: datetime | None,
    limit: int,
    page: int,
    count: bool,
) -> Response:
    """Every association the device has had, ended ones included. With `as_of`, the one active at
    that instant (none or one): which vehicle the device was on then."""
    result = await service.device_history(
        request.state.db, caller.enterprise_id, device_id, as_of=as_of, limit=limit, page=page, count=count
    )
    return json_response(
        {"data": [_association(row) for row in result.rows], "meta": _list_meta(page, limit, result.total)}
    )
