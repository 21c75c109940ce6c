from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.association_end import AssociationEnd
from ...models.associations_document import AssociationsDocument
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: AssociationEnd,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "delete",
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
    body: AssociationEnd,
    idempotency_key: str | Unset = UNSET,
) -> Response[AssociationsDocument | Problem]:
    """End associations (all or none)

     Ends the associations (they stay in the history with `ended_at`). `Association Not Found` for
    an unknown or already ended one; `One Vehicle-Device Association Must Be Main` when a main one
    would end while other associations of its vehicle stay active. An item's `ended_at` backdates
    its end: not in the future and after its start (and after it became main), else 400.

    Args:
        idempotency_key (str | Unset):
        body (AssociationEnd):

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
    body: AssociationEnd,
    idempotency_key: str | Unset = UNSET,
) -> AssociationsDocument | Problem | None:
    """End associations (all or none)

     Ends the associations (they stay in the history with `ended_at`). `Association Not Found` for
    an unknown or already ended one; `One Vehicle-Device Association Must Be Main` when a main one
    would end while other associations of its vehicle stay active. An item's `ended_at` backdates
    its end: not in the future and after its start (and after it became main), else 400.

    Args:
        idempotency_key (str | Unset):
        body (AssociationEnd):

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
    body: AssociationEnd,
    idempotency_key: str | Unset = UNSET,
) -> Response[AssociationsDocument | Problem]:
    """End associations (all or none)

     Ends the associations (they stay in the history with `ended_at`). `Association Not Found` for
    an unknown or already ended one; `One Vehicle-Device Association Must Be Main` when a main one
    would end while other associations of its vehicle stay active. An item's `ended_at` backdates
    its end: not in the future and after its start (and after it became main), else 400.

    Args:
        idempotency_key (str | Unset):
        body (AssociationEnd):

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
    body: AssociationEnd,
    idempotency_key: str | Unset = UNSET,
) -> AssociationsDocument | Problem | None:
    """End associations (all or none)

     Ends the associations (they stay in the history with `ended_at`). `Association Not Found` for
    an unknown or already ended one; `One Vehicle-Device Association Must Be Main` when a main one
    would end while other associations of its vehicle stay active. An item's `ended_at` backdates
    its end: not in the future and after its start (and after it became main), else 400.

    Args:
        idempotency_key (str | Unset):
        body (AssociationEnd):

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
