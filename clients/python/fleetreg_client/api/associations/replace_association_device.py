from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.association_replace import AssociationReplace
from ...models.problem import Problem
from ...models.replacement_document import ReplacementDocument
from ...types import UNSET, Response, Unset


def _get_kwargs(
    vehicle_id: str,
    association_id: str,
    *,
    body: AssociationReplace,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/vehicles/{vehicle_id}/associations/devices/{association_id}/replace".format(
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
) -> Problem | ReplacementDocument | None:
    if response.status_code == 200:
        response_200 = ReplacementDocument.from_dict(response.json())

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
) -> Response[Problem | ReplacementDocument]:
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
    body: AssociationReplace,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | ReplacementDocument]:
    """Replace the device of an association (one transaction)

     Ends the association and starts one for `device_id` on the same vehicle with the same
    `is_main_device`, at the same instant, in one transaction. With `move_chip: true` the old
    device's chip is installed in the new one (409 `Device Already Holds A Chip` when the new one
    holds one; with no chip on the old device there is nothing to move). Checked in this order:
    `Association Not Found` (not an active association of this vehicle), `Device Not Found`,
    `Vehicle And Device Are in Different Enterprises`, `Device(s) Already Associated With Another
    Vehicle` (also the same device), `Device Already Holds A Chip`.

    Args:
        vehicle_id (str):
        association_id (str):
        idempotency_key (str | Unset):
        body (AssociationReplace):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReplacementDocument]
    """

    kwargs = _get_kwargs(
        vehicle_id=vehicle_id,
        association_id=association_id,
        body=body,
        idempotency_key=idempotency_key,
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
    body: AssociationReplace,
    idempotency_key: str | Unset = UNSET,
) -> Problem | ReplacementDocument | None:
    """Replace the device of an association (one transaction)

     Ends the association and starts one for `device_id` on the same vehicle with the same
    `is_main_device`, at the same instant, in one transaction. With `move_chip: true` the old
    device's chip is installed in the new one (409 `Device Already Holds A Chip` when the new one
    holds one; with no chip on the old device there is nothing to move). Checked in this order:
    `Association Not Found` (not an active association of this vehicle), `Device Not Found`,
    `Vehicle And Device Are in Different Enterprises`, `Device(s) Already Associated With Another
    Vehicle` (also the same device), `Device Already Holds A Chip`.

    Args:
        vehicle_id (str):
        association_id (str):
        idempotency_key (str | Unset):
        body (AssociationReplace):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReplacementDocument
    """

    return sync_detailed(
        vehicle_id=vehicle_id,
        association_id=association_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    vehicle_id: str,
    association_id: str,
    *,
    client: AuthenticatedClient,
    body: AssociationReplace,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | ReplacementDocument]:
    """Replace the device of an association (one transaction)

     Ends the association and starts one for `device_id` on the same vehicle with the same
    `is_main_device`, at the same instant, in one transaction. With `move_chip: true` the old
    device's chip is installed in the new one (409 `Device Already Holds A Chip` when the new one
    holds one; with no chip on the old device there is nothing to move). Checked in this order:
    `Association Not Found` (not an active association of this vehicle), `Device Not Found`,
    `Vehicle And Device Are in Different Enterprises`, `Device(s) Already Associated With Another
    Vehicle` (also the same device), `Device Already Holds A Chip`.

    Args:
        vehicle_id (str):
        association_id (str):
        idempotency_key (str | Unset):
        body (AssociationReplace):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReplacementDocument]
    """

    kwargs = _get_kwargs(
        vehicle_id=vehicle_id,
        association_id=association_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    vehicle_id: str,
    association_id: str,
    *,
    client: AuthenticatedClient,
    body: AssociationReplace,
    idempotency_key: str | Unset = UNSET,
) -> Problem | ReplacementDocument | None:
    """Replace the device of an association (one transaction)

     Ends the association and starts one for `device_id` on the same vehicle with the same
    `is_main_device`, at the same instant, in one transaction. With `move_chip: true` the old
    device's chip is installed in the new one (409 `Device Already Holds A Chip` when the new one
    holds one; with no chip on the old device there is nothing to move). Checked in this order:
    `Association Not Found` (not an active association of this vehicle), `Device Not Found`,
    `Vehicle And Device Are in Different Enterprises`, `Device(s) Already Associated With Another
    Vehicle` (also the same device), `Device Already Holds A Chip`.

    Args:
        vehicle_id (str):
        association_id (str):
        idempotency_key (str | Unset):
        body (AssociationReplace):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReplacementDocument
    """

    return (
        await asyncio_detailed(
            vehicle_id=vehicle_id,
            association_id=association_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
