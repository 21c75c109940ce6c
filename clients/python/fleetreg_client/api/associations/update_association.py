from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.association_document import AssociationDocument
from ...models.association_patch import AssociationPatch
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    vehicle_id: str,
    association_id: str,
    *,
    body: AssociationPatch,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v2/vehicles/{vehicle_id}/associations/devices/{association_id}".format(
            vehicle_id=quote(str(vehicle_id), safe=""),
            association_id=quote(str(association_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AssociationDocument | Problem | None:
    if response.status_code == 200:
        response_200 = AssociationDocument.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 414:
        response_414 = Problem.from_dict(response.json())

        return response_414

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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
) -> Response[AssociationDocument | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    vehicle_id: str,
    association_id: str,
    *,
    client: AuthenticatedClient,
    body: AssociationPatch,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[AssociationDocument | Problem]:
    """Make an association the vehicle's main one

     `is_main_device: true` makes it the main one and the previous main a secondary, at once;
    `false` on the main one is 400 (make another one main instead).

    Args:
        vehicle_id (str):
        association_id (str):
        idempotency_key (str | Unset):
        if_match (str | Unset):
        body (AssociationPatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AssociationDocument | Problem]
    """

    kwargs = _get_kwargs(
        vehicle_id=vehicle_id,
        association_id=association_id,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    vehicle_id: str,
    association_id: str,
    *,
    client: AuthenticatedClient,
    body: AssociationPatch,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> AssociationDocument | Problem | None:
    """Make an association the vehicle's main one

     `is_main_device: true` makes it the main one and the previous main a secondary, at once;
    `false` on the main one is 400 (make another one main instead).

    Args:
        vehicle_id (str):
        association_id (str):
        idempotency_key (str | Unset):
        if_match (str | Unset):
        body (AssociationPatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AssociationDocument | Problem
    """

    return sync_detailed(
        vehicle_id=vehicle_id,
        association_id=association_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    vehicle_id: str,
    association_id: str,
    *,
    client: AuthenticatedClient,
    body: AssociationPatch,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[AssociationDocument | Problem]:
    """Make an association the vehicle's main one

     `is_main_device: true` makes it the main one and the previous main a secondary, at once;
    `false` on the main one is 400 (make another one main instead).

    Args:
        vehicle_id (str):
        association_id (str):
        idempotency_key (str | Unset):
        if_match (str | Unset):
        body (AssociationPatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AssociationDocument | Problem]
    """

    kwargs = _get_kwargs(
        vehicle_id=vehicle_id,
        association_id=association_id,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    vehicle_id: str,
    association_id: str,
    *,
    client: AuthenticatedClient,
    body: AssociationPatch,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> AssociationDocument | Problem | None:
    """Make an association the vehicle's main one

     `is_main_device: true` makes it the main one and the previous main a secondary, at once;
    `false` on the main one is 400 (make another one main instead).

    Args:
        vehicle_id (str):
        association_id (str):
        idempotency_key (str | Unset):
        if_match (str | Unset):
        body (AssociationPatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AssociationDocument | Problem
    """

    return (
        await asyncio_detailed(
            vehicle_id=vehicle_id,
            association_id=association_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            if_match=if_match,
        )
    ).parsed
