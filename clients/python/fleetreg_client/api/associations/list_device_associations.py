import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.association_history import AssociationHistory
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    device_id: str,
    *,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_as_of: str | Unset = UNSET
    if not isinstance(as_of, Unset):
        json_as_of = as_of.isoformat()
    params["as_of"] = json_as_of

    json_known_at: str | Unset = UNSET
    if not isinstance(known_at, Unset):
        json_known_at = known_at.isoformat()
    params["known_at"] = json_known_at

    params["limit"] = limit

    params["page"] = page

    params["count"] = count

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/devices/{device_id}/associations".format(
            device_id=quote(str(device_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AssociationHistory | Problem | None:
    if response.status_code == 200:
        response_200 = AssociationHistory.from_dict(response.json())

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
) -> Response[AssociationHistory | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    device_id: str,
    *,
    client: AuthenticatedClient,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
) -> Response[AssociationHistory | Problem]:
    """A device's associations over time, newest first

     Every association the device has had, ended ones included. With `as_of`, the one active at
    that instant (none or one): which vehicle the device was on then. With `known_at`, as fleetreg
    had it recorded then (alone, it is also `as_of`).

    Args:
        device_id (str):
        as_of (datetime.datetime | Unset):
        known_at (datetime.datetime | Unset):
        limit (int | Unset):  Default: 25.
        page (int | Unset):  Default: 0.
        count (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AssociationHistory | Problem]
    """

    kwargs = _get_kwargs(
        device_id=device_id,
        as_of=as_of,
        known_at=known_at,
        limit=limit,
        page=page,
        count=count,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    device_id: str,
    *,
    client: AuthenticatedClient,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
) -> AssociationHistory | Problem | None:
    """A device's associations over time, newest first

     Every association the device has had, ended ones included. With `as_of`, the one active at
    that instant (none or one): which vehicle the device was on then. With `known_at`, as fleetreg
    had it recorded then (alone, it is also `as_of`).

    Args:
        device_id (str):
        as_of (datetime.datetime | Unset):
        known_at (datetime.datetime | Unset):
        limit (int | Unset):  Default: 25.
        page (int | Unset):  Default: 0.
        count (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AssociationHistory | Problem
    """

    return sync_detailed(
        device_id=device_id,
        client=client,
        as_of=as_of,
        known_at=known_at,
        limit=limit,
        page=page,
        count=count,
    ).parsed


async def asyncio_detailed(
    device_id: str,
    *,
    client: AuthenticatedClient,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
) -> Response[AssociationHistory | Problem]:
    """A device's associations over time, newest first

     Every association the device has had, ended ones included. With `as_of`, the one active at
    that instant (none or one): which vehicle the device was on then. With `known_at`, as fleetreg
    had it recorded then (alone, it is also `as_of`).

    Args:
        device_id (str):
        as_of (datetime.datetime | Unset):
        known_at (datetime.datetime | Unset):
        limit (int | Unset):  Default: 25.
        page (int | Unset):  Default: 0.
        count (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AssociationHistory | Problem]
    """

    kwargs = _get_kwargs(
        device_id=device_id,
        as_of=as_of,
        known_at=known_at,
        limit=limit,
        page=page,
        count=count,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    device_id: str,
    *,
    client: AuthenticatedClient,
    as_of: datetime.datetime | Unset = UNSET,
    known_at: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 25,
    page: int | Unset = 0,
    count: bool | Unset = False,
) -> AssociationHistory | Problem | None:
    """A device's associations over time, newest first

     Every association the device has had, ended ones included. With `as_of`, the one active at
    that instant (none or one): which vehicle the device was on then. With `known_at`, as fleetreg
    had it recorded then (alone, it is also `as_of`).

    Args:
        device_id (str):
        as_of (datetime.datetime | Unset):
        known_at (datetime.datetime | Unset):
        limit (int | Unset):  Default: 25.
        page (int | Unset):  Default: 0.
        count (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AssociationHistory | Problem
    """

    return (
        await asyncio_detailed(
            device_id=device_id,
            client=client,
            as_of=as_of,
            known_at=known_at,
            limit=limit,
            page=page,
            count=count,
        )
    ).parsed
