"""HTTP routes of the device associations (docs/fleet-api.md), each declared beside its handler, in
the fleet's envelope (``fleet.router``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fleetreg.auth.access import FLEET_READ, FLEET_WRITE, FleetAccess
from fleetreg.fleet import errors
from fleetreg.fleet.associations import schemas, service
from fleetreg.fleet.associations.parameters import (
    ASSOCIATION_LIST_PARAMETERS,
    DEEP_PARAMETERS,
    ObjectParameters,
    parse_object_parameters,
)
from fleetreg.fleet.http import AS_OF, COUNT, LIMIT, PAGE, SEARCH, Row, changes, fleet_id, list_meta
from fleetreg.web import Request, Response, Routes, json_response
from fleetreg.web.params import DeepObjects

routes = Routes()


def _association(row: Row) -> dict[str, Any]:
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


ASSOCIATIONS = "/v2/vehicles/associations/devices"
VEHICLE_ID = {"vehicle_id": fleet_id("The vehicle's id.")}
ASSOCIATION_ID = {"association_id": fleet_id("The association's id.")}


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
    given = changes(association_id, body.data)
    row = await service.update_association(
        request.state.db, caller.enterprise_id, vehicle_id, association_id, given.get("is_main_device")
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
            "meta": list_meta(page, limit, result.total),
        }
    )


def _vehicle_association(row: Row, objects: ObjectParameters) -> dict[str, Any]:
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
    path_params={"device_id": fleet_id("The device's id.")},
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
        {"data": [_association(row) for row in result.rows], "meta": list_meta(page, limit, result.total)}
    )
