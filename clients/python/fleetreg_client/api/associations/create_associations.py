from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.association_create import AssociationCreate
from ...models.associations_document import AssociationsDocument
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: AssociationCreate,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/vehicles/associations/devices",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AssociationsDocument | Problem | None:
    if response.status_code == 200:
        response_200 = AssociationsDocument.from_dict(response.json())

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
) -> Response[AssociationsDocument | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: AssociationCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[AssociationsDocument | Problem]:
    """Associate devices with vehicles (all or none)

     Creates one association per item (1 to 1000). All or none: when any item cannot be
    associated, nothing is, and the problem's `errors` names every offending item by its JSON
    pointer. Checked in this order, the first failing rule is reported: `Vehicle Not Found`,
    `Device Not Found`, `Vehicle And Device Are in Different Enterprises`, `Device(s) Already
    Associated With Another Vehicle` (also a device already on this vehicle, or listed twice),
    `Vehicle Already Has Main Device` (also two mains for one vehicle), `One Vehicle-Device
    Association Must Be Main` (a vehicle would get associations but no main), then `History Conflict`
    (409) for a backdated `started_at` that overlaps the recorded past of the device, or of the
    vehicle's main devices for a main one (`conflicts` lists those associations). A `started_at` in
    the future is 400.

    Args:
        idempotency_key (str | Unset):
        body (AssociationCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AssociationsDocument | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: AssociationCreate,
    idempotency_key: str | Unset = UNSET,
) -> AssociationsDocument | Problem | None:
    """Associate devices with vehicles (all or none)

     Creates one association per item (1 to 1000). All or none: when any item cannot be
    associated, nothing is, and the problem's `errors` names every offending item by its JSON
    pointer. Checked in this order, the first failing rule is reported: `Vehicle Not Found`,
    `Device Not Found`, `Vehicle And Device Are in Different Enterprises`, `Device(s) Already
    Associated With Another Vehicle` (also a device already on this vehicle, or listed twice),
    `Vehicle Already Has Main Device` (also two mains for one vehicle), `One Vehicle-Device
    Association Must Be Main` (a vehicle would get associations but no main), then `History Conflict`
    (409) for a backdated `started_at` that overlaps the recorded past of the device, or of the
    vehicle's main devices for a main one (`conflicts` lists those associations). A `started_at` in
    the future is 400.

    Args:
        idempotency_key (str | Unset):
        body (AssociationCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AssociationsDocument | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: AssociationCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[AssociationsDocument | Problem]:
    """Associate devices with vehicles (all or none)

     Creates one association per item (1 to 1000). All or none: when any item cannot be
    associated, nothing is, and the problem's `errors` names every offending item by its JSON
    pointer. Checked in this order, the first failing rule is reported: `Vehicle Not Found`,
    `Device Not Found`, `Vehicle And Device Are in Different Enterprises`, `Device(s) Already
    Associated With Another Vehicle` (also a device already on this vehicle, or listed twice),
    `Vehicle Already Has Main Device` (also two mains for one vehicle), `One Vehicle-Device
    Association Must Be Main` (a vehicle would get associations but no main), then `History Conflict`
    (409) for a backdated `started_at` that overlaps the recorded past of the device, or of the
    vehicle's main devices for a main one (`conflicts` lists those associations). A `started_at` in
    the future is 400.

    Args:
        idempotency_key (str | Unset):
        body (AssociationCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AssociationsDocument | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: AssociationCreate,
    idempotency_key: str | Unset = UNSET,
) -> AssociationsDocument | Problem | None:
    """Associate devices with vehicles (all or none)

     Creates one association per item (1 to 1000). All or none: when any item cannot be
    associated, nothing is, and the problem's `errors` names every offending item by its JSON
    pointer. Checked in this order, the first failing rule is reported: `Vehicle Not Found`,
    `Device Not Found`, `Vehicle And Device Are in Different Enterprises`, `Device(s) Already
    Associated With Another Vehicle` (also a device already on this vehicle, or listed twice),
    `Vehicle Already Has Main Device` (also two mains for one vehicle), `One Vehicle-Device
    Association Must Be Main` (a vehicle would get associations but no main), then `History Conflict`
    (409) for a backdated `started_at` that overlaps the recorded past of the device, or of the
    vehicle's main devices for a main one (`conflicts` lists those associations). A `started_at` in
    the future is 400.

    Args:
        idempotency_key (str | Unset):
        body (AssociationCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AssociationsDocument | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
