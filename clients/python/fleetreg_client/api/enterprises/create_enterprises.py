from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.enterprise_create import EnterpriseCreate
from ...models.enterprise_document import EnterpriseDocument
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: EnterpriseCreate,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/enterprises",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> EnterpriseDocument | Problem | None:
    if response.status_code == 201:
        response_201 = EnterpriseDocument.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

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
) -> Response[EnterpriseDocument | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: EnterpriseCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[EnterpriseDocument | Problem]:
    """Create one enterprise or up to 1000 (all or none)

     An enterprise has a `name` and a `cnpj` (numeric or alphanumeric, with or without `.`, `/`, `-`, any
    case; stored bare and upper-case), unique among live enterprises. A client bound to an enterprise
    cannot create enterprises (403).

    Args:
        idempotency_key (str | Unset):
        body (EnterpriseCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EnterpriseDocument | Problem]
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
    body: EnterpriseCreate,
    idempotency_key: str | Unset = UNSET,
) -> EnterpriseDocument | Problem | None:
    """Create one enterprise or up to 1000 (all or none)

     An enterprise has a `name` and a `cnpj` (numeric or alphanumeric, with or without `.`, `/`, `-`, any
    case; stored bare and upper-case), unique among live enterprises. A client bound to an enterprise
    cannot create enterprises (403).

    Args:
        idempotency_key (str | Unset):
        body (EnterpriseCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EnterpriseDocument | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: EnterpriseCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[EnterpriseDocument | Problem]:
    """Create one enterprise or up to 1000 (all or none)

     An enterprise has a `name` and a `cnpj` (numeric or alphanumeric, with or without `.`, `/`, `-`, any
    case; stored bare and upper-case), unique among live enterprises. A client bound to an enterprise
    cannot create enterprises (403).

    Args:
        idempotency_key (str | Unset):
        body (EnterpriseCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EnterpriseDocument | Problem]
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
    body: EnterpriseCreate,
    idempotency_key: str | Unset = UNSET,
) -> EnterpriseDocument | Problem | None:
    """Create one enterprise or up to 1000 (all or none)

     An enterprise has a `name` and a `cnpj` (numeric or alphanumeric, with or without `.`, `/`, `-`, any
    case; stored bare and upper-case), unique among live enterprises. A client bound to an enterprise
    cannot create enterprises (403).

    Args:
        idempotency_key (str | Unset):
        body (EnterpriseCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EnterpriseDocument | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
