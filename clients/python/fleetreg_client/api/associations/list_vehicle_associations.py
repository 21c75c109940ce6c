import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.list_vehicle_associations_attributes_item import ListVehicleAssociationsAttributesItem
from ...models.problem import Problem
from ...models.vehicle_association_list import VehicleAssociationList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    vehicle_id: str,
    *,
    search: str | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    attributes: list[ListVehicleAssociationsAttributesItem] | Unset = UNSET,
    includes: str | Unset = UNSET,
    filters: str | Unset = UNSET,
    sort: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["search"] = search

    params["limit"] = limit

    params["page"] = page

    params["count"] = count

    json_as_of: str | Unset = UNSET
    if not isinstance(as_of, Unset):
        json_as_of = as_of.isoformat()
    params["as_of"] = json_as_of

    json_known_at: str | Unset = UNSET
    if not isinstance(known_at, Unset):
        json_known_at = known_at.isoformat()
    params["known_at"] = json_known_at

    json_attributes: list[str] | Unset = UNSET
    if not isinstance(attributes, Unset):
        json_attributes = []
        for attributes_item_data in attributes:
            attributes_item = attributes_item_data.value
            json_attributes.append(attributes_item)

    params["attributes"] = json_attributes

    params["includes"] = includes

    params["filters"] = filters

    params["sort"] = sort

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/vehicles/{vehicle_id}/associations/devices".format(
            vehicle_id=quote(str(vehicle_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | VehicleAssociationList | None:
    if response.status_code == 200:
        response_200 = VehicleAssociationList.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

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

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | VehicleAssociationList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    vehicle_id: str,
    *,
    client: AuthenticatedClient,
    search: str | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    attributes: list[ListVehicleAssociationsAttributesItem] | Unset = UNSET,
    includes: str | Unset = UNSET,
    filters: str | Unset = UNSET,
    sort: str | Unset = UNSET,
) -> Response[Problem | VehicleAssociationList]:
    """A vehicle's active associations, with chip, device and enterprise fields

     The vehicle's associations active now (or at `as_of`; with `known_at`, as fleetreg had them
    recorded then), one SQL statement per request.
    `search` (at most 100 characters) looks into the chip, device and enterprise text fields.

    Args:
        vehicle_id (str):
        search (str | Unset):
        limit (int | Unset):  Default: 25.
        page (int | Unset):  Default: 0.
        count (bool | Unset):  Default: False.
        as_of (datetime.datetime | Unset):
        known_at (datetime.datetime | Unset):
        attributes (list[ListVehicleAssociationsAttributesItem] | Unset):
        includes (str | Unset):
        filters (str | Unset):
        sort (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | VehicleAssociationList]
    """

    kwargs = _get_kwargs(
        vehicle_id=vehicle_id,
        search=search,
        limit=limit,
        page=page,
        count=count,
        as_of=as_of,
        known_at=known_at,
        attributes=attributes,
        includes=includes,
        filters=filters,
        sort=sort,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    vehicle_id: str,
    *,
    client: AuthenticatedClient,
    search: str | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    attributes: list[ListVehicleAssociationsAttributesItem] | Unset = UNSET,
    includes: str | Unset = UNSET,
    filters: str | Unset = UNSET,
    sort: str | Unset = UNSET,
) -> Problem | VehicleAssociationList | None:
    """A vehicle's active associations, with chip, device and enterprise fields

     The vehicle's associations active now (or at `as_of`; with `known_at`, as fleetreg had them
    recorded then), one SQL statement per request.
    `search` (at most 100 characters) looks into the chip, device and enterprise text fields.

    Args:
        vehicle_id (str):
        search (str | Unset):
        limit (int | Unset):  Default: 25.
        page (int | Unset):  Default: 0.
        count (bool | Unset):  Default: False.
        as_of (datetime.datetime | Unset):
        known_at (datetime.datetime | Unset):
        attributes (list[ListVehicleAssociationsAttributesItem] | Unset):
        includes (str | Unset):
        filters (str | Unset):
        sort (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | VehicleAssociationList
    """

    return sync_detailed(
        vehicle_id=vehicle_id,
        client=client,
        search=search,
        limit=limit,
        page=page,
        count=count,
        as_of=as_of,
        known_at=known_at,
        attributes=attributes,
        includes=includes,
        filters=filters,
        sort=sort,
    ).parsed


async def asyncio_detailed(
    vehicle_id: str,
    *,
    client: AuthenticatedClient,
    search: str | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    attributes: list[ListVehicleAssociationsAttributesItem] | Unset = UNSET,
    includes: str | Unset = UNSET,
    filters: str | Unset = UNSET,
    sort: str | Unset = UNSET,
) -> Response[Problem | VehicleAssociationList]:
    """A vehicle's active associations, with chip, device and enterprise fields

     The vehicle's associations active now (or at `as_of`; with `known_at`, as fleetreg had them
    recorded then), one SQL statement per request.
    `search` (at most 100 characters) looks into the chip, device and enterprise text fields.

    Args:
        vehicle_id (str):
        search (str | Unset):
        limit (int | Unset):  Default: 25.
        page (int | Unset):  Default: 0.
        count (bool | Unset):  Default: False.
        as_of (datetime.datetime | Unset):
        known_at (datetime.datetime | Unset):
        attributes (list[ListVehicleAssociationsAttributesItem] | Unset):
        includes (str | Unset):
        filters (str | Unset):
        sort (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | VehicleAssociationList]
    """

    kwargs = _get_kwargs(
        vehicle_id=vehicle_id,
        search=search,
        limit=limit,
        page=page,
        count=count,
        as_of=as_of,
        known_at=known_at,
        attributes=attributes,
        includes=includes,
        filters=filters,
        sort=sort,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    vehicle_id: str,
    *,
    client: AuthenticatedClient,
    search: str | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    attributes: list[ListVehicleAssociationsAttributesItem] | Unset = UNSET,
    includes: str | Unset = UNSET,
    filters: str | Unset = UNSET,
    sort: str | Unset = UNSET,
) -> Problem | VehicleAssociationList | None:
    """A vehicle's active associations, with chip, device and enterprise fields

     The vehicle's associations active now (or at `as_of`; with `known_at`, as fleetreg had them
    recorded then), one SQL statement per request.
    `search` (at most 100 characters) looks into the chip, device and enterprise text fields.

    Args:
        vehicle_id (str):
        search (str | Unset):
        limit (int | Unset):  Default: 25.
        page (int | Unset):  Default: 0.
        count (bool | Unset):  Default: False.
        as_of (datetime.datetime | Unset):
        known_at (datetime.datetime | Unset):
        attributes (list[ListVehicleAssociationsAttributesItem] | Unset):
        includes (str | Unset):
        filters (str | Unset):
        sort (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | VehicleAssociationList
    """

    return (
        await asyncio_detailed(
            vehicle_id=vehicle_id,
            client=client,
            search=search,
            limit=limit,
            page=page,
            count=count,
            as_of=as_of,
            known_at=known_at,
            attributes=attributes,
            includes=includes,
            filters=filters,
            sort=sort,
        )
    ).parsed
