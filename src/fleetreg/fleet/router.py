"""HTTP routes of the fleet's kinds (docs/fleet-api.md): for each kind of ``fleet.kinds``, create (one
or up to 1000), list, get, patch and delete, their parameters, bodies, problems and descriptions all
derived from its declaration. (The associations' routes are in ``fleet/associations/routes.py``.)
"""

from __future__ import annotations

from typing import Any

from fleetreg.auth.access import FLEET_READ, FLEET_WRITE, FleetAccess
from fleetreg.fleet import service
from fleetreg.fleet.http import LISTING, Row, changes, fleet_id, list_meta
from fleetreg.fleet.kinds import KINDS, Kind, NewItem
from fleetreg.fleet.schemas import MODELS
from fleetreg.versions import etag
from fleetreg.web import Documented, Request, Response, Routes, json_response, no_content
from fleetreg.web.conditional import if_match

routes = Routes()


def _resource(kind: Kind, row: Row) -> dict[str, Any]:
    attributes = {name: row[name] for name in kind.attribute_names}
    attributes["created_at"] = row["created_at"]
    attributes["updated_at"] = row["updated_at"]
    return {"type": kind.name, "id": row["id"], "attributes": attributes}


def _document(kind: Kind, row: Row, status: int = 200) -> Response:
    """One resource in the envelope, with its ETag (its row version)."""
    response = json_response({"data": _resource(kind, row), "meta": {}}, status)
    response.set_header("ETag", etag(row["version"]))
    return response


def _new_items(data: Any) -> tuple[list[NewItem], bool]:
    """(items, whether the body held an array)."""
    if isinstance(data, list):
        return [NewItem(f"/data/{n}", new.id, new.attributes.model_dump()) for n, new in enumerate(data)], True
    return [NewItem("/data", data.id, data.attributes.model_dump())], False


def _kind_routes(kind: Kind) -> None:
    path = f"/v2/{kind.plural}"
    item_path = f"{path}/{{{kind.name}_id}}"
    item_id = {f"{kind.name}_id": fleet_id(f"The {kind.name}'s id.")}
    filters = {name: fleet_id(f"Only those of this {name.removesuffix('_id')}.") for name in kind.list_filters}
    models = MODELS[kind]
    common: dict[str, Any] = {"tags": [kind.plural]}

    @routes.post(
        path,
        operation_id=f"create_{kind.plural}",
        summary=f"Create one {kind.name} or up to 1000 (all or none)",
        description=kind.notes.create,
        access=FLEET_WRITE,
        body=models.create,
        responses={201: Documented(models.document, "Created")},
        problems=kind.create_problems,
        **common,
    )
    async def create_resources(request: Request, caller: FleetAccess, body: Any) -> Response:
        items, many = _new_items(body.data)
        rows = await service.create(request.state.db, caller.enterprise_id, kind, items)
        if not many:
            response = _document(kind, rows[0], 201)
            response.set_header("Location", f"{path}/{rows[0]['id']}")
            return response
        return json_response({"data": [_resource(kind, row) for row in rows], "meta": {}}, 201)

    @routes.get(
        path,
        operation_id=f"list_{kind.plural}",
        summary=f"List {kind.plural}, oldest first",
        description=kind.notes.list,
        access=FLEET_READ,
        query={**filters, **LISTING},
        responses={200: models.list},
        **common,
    )
    async def list_resources(
        request: Request, caller: FleetAccess, limit: int, page: int, count: bool, search: str | None, **filtered: Any
    ) -> Response:
        result = await service.list_rows(
            request.state.db,
            caller.enterprise_id,
            kind,
            limit=limit,
            page=page,
            count=count,
            search=search,
            enterprise_id=filtered.get("enterprise_id"),
        )
        data = [_resource(kind, row) for row in result.rows]
        return json_response({"data": data, "meta": list_meta(page, limit, result.total)})

    @routes.get(
        item_path,
        operation_id=f"get_{kind.name}",
        summary=f"Get a {kind.name}",
        access=FLEET_READ,
        path_params=item_id,
        responses={200: models.document},
        problems=(kind.not_found,),
        conditional=True,
        **common,
    )
    async def get_resource(request: Request, caller: FleetAccess, **ids: str) -> Response:
        row = await service.get(request.state.db, caller.enterprise_id, kind, ids[f"{kind.name}_id"])
        return _document(kind, row)

    @routes.patch(
        item_path,
        operation_id=f"update_{kind.name}",
        summary=f"Change attributes of a {kind.name}",
        description=kind.notes.update,
        access=FLEET_WRITE,
        path_params=item_id,
        body=models.patch,
        responses={200: models.document},
        problems=kind.update_problems,
        conditional=True,
        **common,
    )
    async def update_resource(request: Request, caller: FleetAccess, body: Any, **ids: str) -> Response:
        resource_id = ids[f"{kind.name}_id"]
        given = changes(resource_id, body.data)
        row = await service.update(request.state.db, caller.enterprise_id, kind, resource_id, given, if_match(request))
        return _document(kind, row)

    @routes.delete(
        item_path,
        operation_id=f"delete_{kind.name}",
        summary=f"Delete a {kind.name}",
        description=kind.notes.delete,
        access=FLEET_WRITE,
        path_params=item_id,
        responses={204: Documented(description="Deleted")},
        problems=kind.delete_problems,
        conditional=True,
        **common,
    )
    async def delete_resource(request: Request, caller: FleetAccess, **ids: str) -> Response:
        await service.delete(request.state.db, caller.enterprise_id, kind, ids[f"{kind.name}_id"], if_match(request))
        return no_content()


for _kind in KINDS:
    _kind_routes(_kind)
