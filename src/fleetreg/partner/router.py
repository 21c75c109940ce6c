"""HTTP routes of the partner API (../shared/API.md section 2, docs/partner-api.md).

The connector routes are registered before the customer routes: ``/v2/customers/connectors`` must
never be read as ``/v2/customers/{customer-id}`` with the id "connectors".
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from fleetreg.auth.dependencies import require_scope
from fleetreg.auth.tokens import Principal
from fleetreg.db import Database
from fleetreg.partner import service
from fleetreg.partner.schemas import (
    LIMIT_DEFAULT,
    Connector,
    ConnectorAssignment,
    ConnectorList,
    ConnectorTypes,
    Customer,
    CustomerInput,
    CustomerList,
    Limit,
    NewConnector,
    Offset,
    QueryBool,
    TextFilter,
    Uuid,
)
from fleetreg.problems import PROBLEM_JSON, MethodNotAllowed
from fleetreg.web import JSONBytes, StrictRoute, dumps, json_response

router = APIRouter(route_class=StrictRoute)

CONNECTORS = "/v2/customers/connectors"
CUSTOMERS = "/v2/customers"

_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _problems(**descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for the problems particular to an operation (``_404="..."``) and ``default``.
    ``fleetreg.openapi`` adds the statuses every operation shares (400, 401, 403, 413, 415, 429, 500,
    503) and renders each problem as ``application/problem+json`` with the ``Problem`` schema."""
    responses: dict[int | str, dict[str, Any]] = {
        int(key.lstrip("_")): {"description": text, "content": _PROBLEM} for key, text in descriptions.items()
    }
    responses["default"] = {
        "description": "An error occurred - see status code and problem response for more information.",
        "content": _PROBLEM,
    }
    return responses


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _partner(principal: Principal) -> uuid.UUID:
    assert principal.partner_id is not None  # require_scope admits only partner-bound clients
    return principal.partner_id


ConnectorId = Annotated[Uuid, Path(description="The identifier of the connector.")]
CustomerId = Annotated[Uuid, Path(description="The identifier of the customer.")]
LimitParam = Annotated[Limit, Query(description="Limits the amount of resources in result (0..1000).")]
OffsetParam = Annotated[Offset, Query(description="Offset of resources in result (int64, >= 0).")]

_NOT_FOUND_CONNECTOR = "Connector Not Found: no connector with this id for the calling partner."
_NOT_FOUND_CUSTOMER = "Customer Not Found: no customer with this id for the calling partner."
_UNKNOWN_CUSTOMER = "Unknown Customer: `customer_id` names no customer of the calling partner."


# -- connectors -----------------------------------------------------------------------------------


@router.get(
    CONNECTORS,
    tags=["connectors"],
    summary="Retrieve connectors",
    description="Retrieve a list of connectors, ordered by name, then id.",
    response_model=ConnectorList,
    responses=_problems(),
)
async def list_connectors(
    request: Request,
    principal: Annotated[Principal, require_scope("connectors:read")],
    assigned: Annotated[
        QueryBool | None,
        Query(
            description="If true, only connectors assigned to a customer; if false, only unassigned ones.",
        ),
    ] = None,
    customer_id: Annotated[Uuid | None, Query(description="Filter connectors by a customer identifier.")] = None,
    limit: LimitParam = LIMIT_DEFAULT,
    name: Annotated[
        TextFilter | None, Query(description="Filter connectors by name (its human-readable identifier), exactly.")
    ] = None,
    offset: OffsetParam = 0,
    connector_type: Annotated[
        ConnectorTypes | None,
        Query(
            alias="type",
            description="Filter connectors by one or more type (repeat the parameter: type=physical&type=virtual).",
            json_schema_extra={"uniqueItems": True},
        ),
    ] = None,
) -> Response:
    return await connector_list(
        _db(request), _partner(principal), assigned, customer_id, limit, name, offset, connector_type
    )


async def connector_list(
    db: Database,
    partner_id: uuid.UUID,
    assigned: bool | None,
    customer_id: uuid.UUID | None,
    limit: int,
    name: str | None,
    offset: int,
    connector_type: Sequence[str] | None,
) -> Response:
    """The answer to a valid connector list request (also served by ``partner.fastlane``)."""
    filters = service.connector_filters(assigned=assigned, customer_id=customer_id, name=name, types=connector_type)
    items, total = await service.list_connectors(db, partner_id, filters, limit=limit, offset=offset)
    query: dict[str, Any] = {}
    if assigned is not None:
        query["assigned"] = assigned
    if customer_id is not None:
        query["customer_id"] = customer_id
    query["limit"] = limit
    if name is not None:
        query["name"] = name
    query["offset"] = offset
    if connector_type is not None:
        query["type"] = connector_type
    # The items arrive as JSON already (partner.queries.connector_page_query says why).
    return JSONBytes(b'{"query":%b,"result":[%b],"total":%d}' % (dumps(query), items, total))


@router.post(
    CONNECTORS,
    tags=["connectors"],
    summary="Add a connector",
    description="Add a connector to the partner's pool, optionally assigned to a customer at once. "
    "`Location` names the new connector.",
    status_code=201,
    response_model=Connector,
    response_description="The connector, as created; `Location` names it.",
    responses=_problems(
        _409="Connector Name Taken: the partner already has a connector with this name.", _422=_UNKNOWN_CUSTOMER
    ),
)
async def create_connector(
    request: Request, principal: Annotated[Principal, require_scope("connectors:provision")], body: NewConnector
) -> Response:
    connector = await service.create_connector(_db(request), _partner(principal), body)
    response = json_response(connector, 201)
    response.headers["Location"] = f"{CONNECTORS}/{connector['id']}"
    return response


@router.api_route(CONNECTORS, methods=["PUT", "PATCH", "DELETE"], include_in_schema=False)
async def connectors_collection_other_methods(request: Request) -> Response:
    # Without this, DELETE /v2/customers/connectors would reach DELETE /v2/customers/{customer-id}
    # and be told that "connectors" is not a UUID.
    raise MethodNotAllowed(f"{request.method} is not allowed here; use GET, POST", headers={"Allow": "GET, POST"})


@router.get(
    f"{CONNECTORS}/{{connector_id}}",
    tags=["connectors"],
    summary="Retrieve a single connector",
    description="Retrieve a single connector by its identifier.",
    response_model=Connector,
    responses=_problems(_404=_NOT_FOUND_CONNECTOR),
)
async def get_connector(
    request: Request, principal: Annotated[Principal, require_scope("connectors:read")], connector_id: ConnectorId
) -> Response:
    return JSONBytes(await service.get_connector(_db(request), _partner(principal), connector_id))


@router.put(
    f"{CONNECTORS}/{{connector_id}}",
    tags=["connectors"],
    summary="Update a connector",
    description="Update connector settings: assign the connector to a customer of the partner, or unassign it "
    "with `null`.",
    response_model=Connector,
    responses=_problems(_404=_NOT_FOUND_CONNECTOR, _422=_UNKNOWN_CUSTOMER),
)
async def assign_connector(
    request: Request,
    principal: Annotated[Principal, require_scope("connectors:write")],
    connector_id: ConnectorId,
    body: ConnectorAssignment,
) -> Response:
    connector = await service.assign_connector(_db(request), _partner(principal), connector_id, body.customer_id)
    return json_response(connector)


@router.delete(
    f"{CONNECTORS}/{{connector_id}}",
    tags=["connectors"],
    summary="Remove a connector",
    description="Remove a connector from the partner's pool, whether assigned or not.",
    status_code=204,
    response_class=Response,
    response_description="Deleted.",
    responses=_problems(_404=_NOT_FOUND_CONNECTOR),
)
async def delete_connector(
    request: Request,
    principal: Annotated[Principal, require_scope("connectors:provision")],
    connector_id: ConnectorId,
) -> Response:
    await service.delete_connector(_db(request), _partner(principal), connector_id)
    return Response(status_code=204)


# -- customers ------------------------------------------------------------------------------------


@router.get(
    CUSTOMERS,
    tags=["customers"],
    summary="Retrieve customers",
    description="Retrieve a list of customers, ordered by name, then id.",
    response_model=CustomerList,
    responses=_problems(),
)
async def list_customers(
    request: Request,
    principal: Annotated[Principal, require_scope("customers:read")],
    limit: LimitParam = LIMIT_DEFAULT,
    name: Annotated[TextFilter | None, Query(description="Filter customers by name, exactly.")] = None,
    offset: OffsetParam = 0,
) -> Response:
    rows, total = await service.list_customers(_db(request), _partner(principal), name=name, limit=limit, offset=offset)
    query: dict[str, Any] = {"limit": limit}
    if name is not None:
        query["name"] = name
    query["offset"] = offset
    return json_response({"query": query, "result": rows, "total": total})


@router.post(
    CUSTOMERS,
    tags=["customers"],
    summary="Create a customer",
    description="`Location` names the new customer.",
    status_code=201,
    response_model=Customer,
    response_description="The customer, as created; `Location` names it.",
    responses=_problems(),
)
async def create_customer(
    request: Request, principal: Annotated[Principal, require_scope("customers:write")], body: CustomerInput
) -> Response:
    customer = await service.create_customer(_db(request), _partner(principal), body.name)
    response = json_response(customer, 201)
    response.headers["Location"] = f"{CUSTOMERS}/{customer['id']}"
    return response


@router.get(
    f"{CUSTOMERS}/{{customer_id}}",
    tags=["customers"],
    summary="Retrieve a single customer",
    response_model=Customer,
    responses=_problems(_404=_NOT_FOUND_CUSTOMER),
)
async def get_customer(
    request: Request, principal: Annotated[Principal, require_scope("customers:read")], customer_id: CustomerId
) -> Response:
    return json_response(await service.get_customer(_db(request), _partner(principal), customer_id))


@router.put(
    f"{CUSTOMERS}/{{customer_id}}",
    tags=["customers"],
    summary="Update a customer",
    description="Replace the customer's writable members (its name).",
    response_model=Customer,
    responses=_problems(_404=_NOT_FOUND_CUSTOMER),
)
async def rename_customer(
    request: Request,
    principal: Annotated[Principal, require_scope("customers:write")],
    customer_id: CustomerId,
    body: CustomerInput,
) -> Response:
    return json_response(await service.rename_customer(_db(request), _partner(principal), customer_id, body.name))


@router.delete(
    f"{CUSTOMERS}/{{customer_id}}",
    tags=["customers"],
    summary="Delete a customer",
    description="Delete a customer that has no connectors assigned.",
    status_code=204,
    response_class=Response,
    response_description="Deleted.",
    responses=_problems(
        _404=_NOT_FOUND_CUSTOMER, _409="Customer Has Connectors: unassign or remove its connectors first."
    ),
)
async def delete_customer(
    request: Request, principal: Annotated[Principal, require_scope("customers:write")], customer_id: CustomerId
) -> Response:
    await service.delete_customer(_db(request), _partner(principal), customer_id)
    return Response(status_code=204)
