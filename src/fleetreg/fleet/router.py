"""HTTP routes of the fleet API (docs/fleet-api.md), each declared beside its handler.

Each route parses the request, calls one service function and renders the answer in the seed's
envelope: ``{"data": resource | [resources], "meta": {...}}``, a resource being
``{"type", "id", "attributes"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fleetreg.auth.access import FLEET_READ, FLEET_WRITE, FleetAccess
from fleetreg.fleet import errors, schemas, service
from fleetreg.fleet.formats import ID_PATTERN
from fleetreg.fleet.service import Entity
from fleetreg.problems import AppError, BadRequest, Forbidden
from fleetreg.versions import etag
from fleetreg.web import Documented, Request, Response, Routes, json_response, no_content, params
from fleetreg.web.conditional import if_match

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


Row = Mapping[str, Any]


def _resource(entity: Entity, row: Row) -> dict[str, Any]:
    attributes = {name: row[name] for name in entity.table.attributes}
    attributes["created_at"] = row["created_at"]
    attributes["updated_at"] = row["updated_at"]
    return {"type": entity.table.kind, "id": row["id"], "attributes": attributes}


def _document(entity: Entity, row: Row, status: int = 200) -> Response:
    """One resource in the envelope, with its ETag (its row version)."""
    response = json_response({"data": _resource(entity, row), "meta": {}}, status)
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
            response = _document(entity, rows[0], 201)
            response.set_header("Location", f"{path}/{rows[0]['id']}")
            return response
        return json_response({"data": [_resource(entity, row) for row in rows], "meta": {}}, 201)

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
        data = [_resource(entity, row) for row in result.rows]
        return json_response({"data": data, "meta": _list_meta(page, limit, result.total)})

    async def get_resource(request: Request, caller: FleetAccess, **ids: str) -> Response:
        row = await service.get(request.state.db, caller.enterprise_id, entity, ids[f"{kind}_id"])
        return _document(entity, row)

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
        return _document(entity, row)

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
