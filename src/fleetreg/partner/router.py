"""HTTP routes of the partner API (docs/partner-api.md): each route declared beside its handler."""

from __future__ import annotations

import uuid
from typing import Any

from fleetreg.auth.access import partner_scope
from fleetreg.auth.tokens import Principal
from fleetreg.partner import service
from fleetreg.partner.errors import (
    ConnectorNameTaken,
    ConnectorNotFound,
    CustomerHasConnectors,
    CustomerNotFound,
    UnknownCustomer,
)
from fleetreg.partner.schemas import (
    CONNECTOR_TYPES,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    Connector,
    ConnectorAssignment,
    ConnectorList,
    Customer,
    CustomerInput,
    CustomerList,
    NewConnector,
)
from fleetreg.versions import etag
from fleetreg.web import Documented, Request, Response, Routes, dumps, json_response, no_content, params
from fleetreg.web.conditional import if_match

# The original document gives a ``default`` response on every operation.
routes = Routes(default_response="An error occurred - see status code and problem response for more information.")

CONNECTORS = "/v2/customers/connectors"
CUSTOMERS = "/v2/customers"
CONNECTOR = f"{CONNECTORS}/{{connector-id}}"
CUSTOMER = f"{CUSTOMERS}/{{customer-id}}"

CONNECTOR_ID = {"connector-id": params.uuid_param(description="The identifier of the connector.")}
CUSTOMER_ID = {"customer-id": params.uuid_param(description="The identifier of the customer.")}
LIMIT = params.integer(
    0, LIMIT_MAX, default=LIMIT_DEFAULT, description="Limits the amount of resources in result (0..1000)."
)
OFFSET = params.integer(0, params.INT64_MAX, default=0, description="Offset of resources in result (int64, >= 0).")

_CREATED = {"Location": {"description": "The new resource.", "required": True, "schema": {"type": "string"}}}


def _partner(caller: Principal) -> uuid.UUID:
    assert caller.partner_id is not None  # partner_scope admits only partner-bound clients
    return caller.partner_id


def _resource(row: dict[str, Any], status: int = 200) -> Response:
    """A single resource as JSON, with its ETag (its row version, which the body does not show)."""
    version = row.pop("version")
    return json_response(row, status, headers=[(b"etag", etag(version).encode())])


# -- connectors -----------------------------------------------------------------------------------


@routes.get(
    CONNECTORS,
    operation_id="list_connectors",
    tags=["connectors"],
    summary="Retrieve connectors",
    access=partner_scope("connectors:read"),
    query={
        "assigned": params.boolean(
            description="If true, only connectors assigned to a customer; if false, only unassigned ones."
        ),
        "customer_id": params.uuid_param(description="Filter connectors by a customer identifier."),
        "limit": LIMIT,
        "name": params.text(description="Filter connectors by name (its human-readable identifier), exactly."),
        "offset": OFFSET,
        "type": params.choice(
            CONNECTOR_TYPES,
            repeatable=True,
            alias="connector_type",
            description="Filter connectors by one or more type (repeat the parameter: type=physical&type=virtual).",
        ),
    },
    responses={200: ConnectorList},
)
async def list_connectors(
    request: Request,
    caller: Principal,
    assigned: bool | None,
    customer_id: uuid.UUID | None,
    limit: int,
    name: str | None,
    offset: int,
    connector_type: list[str] | None,
) -> Response:
    """Retrieve a list of connectors, ordered by name, then id. `total` counts every match,
    whatever `limit`; `query` echoes every applied parameter, defaults included."""
    filters = service.connector_filters(assigned=assigned, customer_id=customer_id, name=name, types=connector_type)
    items, total = await service.list_connectors(
        request.state.db, _partner(caller), filters, limit=limit, offset=offset
    )
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
    return Response(b'{"query":%b,"result":[%b],"total":%d}' % (dumps(query), items, total))


@routes.post(
    CONNECTORS,
    operation_id="create_connector",
    tags=["connectors"],
    summary="Add a connector",
    access=partner_scope("connectors:provision"),
    body=NewConnector,
    responses={201: Documented(Connector, "The connector, as created; `Location` names it.", headers=_CREATED)},
    problems=(ConnectorNameTaken, UnknownCustomer),
)
async def create_connector(request: Request, caller: Principal, body: NewConnector) -> Response:
    """Add a connector to the partner's pool, optionally assigned to a customer at once."""
    connector = await service.create_connector(request.state.db, _partner(caller), body)
    response = _resource(connector, 201)
    response.set_header("Location", f"{CONNECTORS}/{connector['id']}")
    return response


@routes.get(
    CONNECTOR,
    operation_id="get_connector",
    tags=["connectors"],
    summary="Retrieve a single connector",
    access=partner_scope("connectors:read"),
    path_params=CONNECTOR_ID,
    responses={200: Connector},
    problems=(ConnectorNotFound,),
    conditional=True,
)
async def get_connector(request: Request, caller: Principal, connector_id: uuid.UUID) -> Response:
    """Retrieve a single connector by its identifier."""
    body, version = await service.get_connector(request.state.db, _partner(caller), connector_id)
    return Response(body, headers=[(b"etag", etag(version).encode())])


@routes.put(
    CONNECTOR,
    operation_id="assign_connector",
    tags=["connectors"],
    summary="Update a connector",
    access=partner_scope("connectors:write"),
    path_params=CONNECTOR_ID,
    body=ConnectorAssignment,
    responses={200: Connector},
    problems=(ConnectorNotFound, UnknownCustomer),
    conditional=True,
)
async def assign_connector(
    request: Request, caller: Principal, connector_id: uuid.UUID, body: ConnectorAssignment
) -> Response:
    """Update connector settings: assign the connector to a customer of the partner, or unassign it
    with `null`."""
    connector = await service.assign_connector(
        request.state.db, _partner(caller), connector_id, body.customer_id, if_match(request)
    )
    return _resource(connector)


@routes.delete(
    CONNECTOR,
    operation_id="delete_connector",
    tags=["connectors"],
    summary="Remove a connector",
    access=partner_scope("connectors:provision"),
    path_params=CONNECTOR_ID,
    responses={204: Documented(description="Deleted.")},
    problems=(ConnectorNotFound,),
    conditional=True,
)
async def delete_connector(request: Request, caller: Principal, connector_id: uuid.UUID) -> Response:
    """Remove a connector from the partner's pool, whether assigned or not."""
    await service.delete_connector(request.state.db, _partner(caller), connector_id, if_match(request))
    return no_content()


# -- customers ------------------------------------------------------------------------------------


@routes.get(
    CUSTOMERS,
    operation_id="list_customers",
    tags=["customers"],
    summary="Retrieve customers",
    access=partner_scope("customers:read"),
    query={"limit": LIMIT, "name": params.text(description="Filter customers by name, exactly."), "offset": OFFSET},
    responses={200: CustomerList},
)
async def list_customers(request: Request, caller: Principal, limit: int, name: str | None, offset: int) -> Response:
    """Retrieve a list of customers, ordered by name, then id."""
    rows, total = await service.list_customers(
        request.state.db, _partner(caller), name=name, limit=limit, offset=offset
    )
    query: dict[str, Any] = {"limit": limit}
    if name is not None:
        query["name"] = name
    query["offset"] = offset
    return json_response({"query": query, "result": rows, "total": total})


@routes.post(
    CUSTOMERS,
    operation_id="create_customer",
    tags=["customers"],
    summary="Create a customer",
    access=partner_scope("customers:write"),
    body=CustomerInput,
    responses={201: Documented(Customer, "The customer, as created; `Location` names it.", headers=_CREATED)},
)
async def create_customer(request: Request, caller: Principal, body: CustomerInput) -> Response:
    """`Location` names the new customer."""
    customer = await service.create_customer(request.state.db, _partner(caller), body.name)
    response = _resource(customer, 201)
    response.set_header("Location", f"{CUSTOMERS}/{customer['id']}")
    return response


@routes.get(
    CUSTOMER,
    operation_id="get_customer",
    tags=["customers"],
    summary="Retrieve a single customer",
    access=partner_scope("customers:read"),
    path_params=CUSTOMER_ID,
    responses={200: Customer},
    problems=(CustomerNotFound,),
    conditional=True,
)
async def get_customer(request: Request, caller: Principal, customer_id: uuid.UUID) -> Response:
    return _resource(await service.get_customer(request.state.db, _partner(caller), customer_id))


@routes.put(
    CUSTOMER,
    operation_id="rename_customer",
    tags=["customers"],
    summary="Update a customer",
    access=partner_scope("customers:write"),
    path_params=CUSTOMER_ID,
    body=CustomerInput,
    responses={200: Customer},
    problems=(CustomerNotFound,),
    conditional=True,
)
async def rename_customer(request: Request, caller: Principal, customer_id: uuid.UUID, body: CustomerInput) -> Response:
    """Replace the customer's writable members (its name)."""
    customer = await service.rename_customer(
        request.state.db, _partner(caller), customer_id, body.name, if_match(request)
    )
    return _resource(customer)


@routes.delete(
    CUSTOMER,
    operation_id="delete_customer",
    tags=["customers"],
    summary="Delete a customer",
    access=partner_scope("customers:write"),
    path_params=CUSTOMER_ID,
    responses={204: Documented(description="Deleted.")},
    problems=(CustomerNotFound, CustomerHasConnectors),
    conditional=True,
)
async def delete_customer(request: Request, caller: Principal, customer_id: uuid.UUID) -> Response:
    """Delete a customer that has no connectors assigned."""
    await service.delete_customer(request.state.db, _partner(caller), customer_id, if_match(request))
    return no_content()
