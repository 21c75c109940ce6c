from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.connector_list import ConnectorList
from ...models.list_connectors_type_item import ListConnectorsTypeItem
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    assigned: bool | Unset = UNSET,
    customer_id: UUID | Unset = UNSET,
    limit: int | Unset = 25,
    name: str | Unset = UNSET,
    offset: int | Unset = 0,
    type_: list[ListConnectorsTypeItem] | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["assigned"] = assigned

    json_customer_id: str | Unset = UNSET
    if not isinstance(customer_id, Unset):
        json_customer_id = str(customer_id)
    params["customer_id"] = json_customer_id

    params["limit"] = limit

    params["name"] = name

    params["offset"] = offset

    json_type_: list[str] | Unset = UNSET
    if not isinstance(type_, Unset):
        json_type_ = []
        for type_item_data in type_:
            type_item = type_item_data.value
            json_type_.append(type_item)

    params["type"] = json_type_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/customers/connectors",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ConnectorList | Problem:
    if response.status_code == 200:
        response_200 = ConnectorList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 414:
        response_414 = Problem.from_dict(response.json())

        return response_414

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 431:
        response_431 = Problem.from_dict(response.json())

        return response_431

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ConnectorList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    assigned: bool | Unset = UNSET,
    customer_id: UUID | Unset = UNSET,
    limit: int | Unset = 25,
    name: str | Unset = UNSET,
    offset: int | Unset = 0,
    type_: list[ListConnectorsTypeItem] | Unset = UNSET,
) -> Response[ConnectorList | Problem]:
    """Retrieve connectors

     Retrieve a list of connectors, ordered by name, then id. `total` counts every match,
    whatever `limit`; `query` echoes every applied parameter, defaults included.

    Args:
        assigned (bool | Unset):
        customer_id (UUID | Unset):
        limit (int | Unset):  Default: 25.
        name (str | Unset):
        offset (int | Unset):  Default: 0.
        type_ (list[ListConnectorsTypeItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectorList | Problem]
    """

    kwargs = _get_kwargs(
        assigned=assigned,
        customer_id=customer_id,
        limit=limit,
        name=name,
        offset=offset,
        type_=type_,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    assigned: bool | Unset = UNSET,
    customer_id: UUID | Unset = UNSET,
    limit: int | Unset = 25,
    name: str | Unset = UNSET,
    offset: int | Unset = 0,
    type_: list[ListConnectorsTypeItem] | Unset = UNSET,
) -> ConnectorList | Problem | None:
    """Retrieve connectors

     Retrieve a list of connectors, ordered by name, then id. `total` counts every match,
    whatever `limit`; `query` echoes every applied parameter, defaults included.

    Args:
        assigned (bool | Unset):
        customer_id (UUID | Unset):
        limit (int | Unset):  Default: 25.
        name (str | Unset):
        offset (int | Unset):  Default: 0.
        type_ (list[ListConnectorsTypeItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectorList | Problem
    """

    return sync_detailed(
        client=client,
        assigned=assigned,
        customer_id=customer_id,
        limit=limit,
        name=name,
        offset=offset,
        type_=type_,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    assigned: bool | Unset = UNSET,
    customer_id: UUID | Unset = UNSET,
    limit: int | Unset = 25,
    name: str | Unset = UNSET,
    offset: int | Unset = 0,
    type_: list[ListConnectorsTypeItem] | Unset = UNSET,
) -> Response[ConnectorList | Problem]:
    """Retrieve connectors

     Retrieve a list of connectors, ordered by name, then id. `total` counts every match,
    whatever `limit`; `query` echoes every applied parameter, defaults included.

    Args:
        assigned (bool | Unset):
        customer_id (UUID | Unset):
        limit (int | Unset):  Default: 25.
        name (str | Unset):
        offset (int | Unset):  Default: 0.
        type_ (list[ListConnectorsTypeItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectorList | Problem]
    """

    kwargs = _get_kwargs(
        assigned=assigned,
        customer_id=customer_id,
        limit=limit,
        name=name,
        offset=offset,
        type_=type_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    assigned: bool | Unset = UNSET,
    customer_id: UUID | Unset = UNSET,
    limit: int | Unset = 25,
    name: str | Unset = UNSET,
    offset: int | Unset = 0,
    type_: list[ListConnectorsTypeItem] | Unset = UNSET,
) -> ConnectorList | Problem | None:
    """Retrieve connectors

     Retrieve a list of connectors, ordered by name, then id. `total` counts every match,
    whatever `limit`; `query` echoes every applied parameter, defaults included.

    Args:
        assigned (bool | Unset):
        customer_id (UUID | Unset):
        limit (int | Unset):  Default: 25.
        name (str | Unset):
        offset (int | Unset):  Default: 0.
        type_ (list[ListConnectorsTypeItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectorList | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            assigned=assigned,
            customer_id=customer_id,
            limit=limit,
            name=name,
            offset=offset,
            type_=type_,
        )
    ).parsed
