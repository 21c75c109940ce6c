from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.issue_token_body import IssueTokenBody
from ...models.issue_token_response_200 import IssueTokenResponse200
from ...models.issue_token_response_400 import IssueTokenResponse400
from ...models.issue_token_response_401 import IssueTokenResponse401
from ...models.issue_token_response_429 import IssueTokenResponse429
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: IssueTokenBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/oauth/token",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem | None:
    if response.status_code == 200:
        response_200 = IssueTokenResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = IssueTokenResponse400.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = IssueTokenResponse401.from_dict(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 414:
        response_414 = Problem.from_dict(response.json())

        return response_414

    if response.status_code == 429:
        response_429 = IssueTokenResponse429.from_dict(response.json())

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
) -> Response[IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: IssueTokenBody,
) -> Response[IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem]:
    """Get an access token (OAuth2 client credentials)

     Authenticate the client with HTTP Basic (client_id:client_secret) or with the client_id and
    client_secret form fields. Errors follow RFC 6749 section 5.2.

    Args:
        body (IssueTokenBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: IssueTokenBody,
) -> IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem | None:
    """Get an access token (OAuth2 client credentials)

     Authenticate the client with HTTP Basic (client_id:client_secret) or with the client_id and
    client_secret form fields. Errors follow RFC 6749 section 5.2.

    Args:
        body (IssueTokenBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: IssueTokenBody,
) -> Response[IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem]:
    """Get an access token (OAuth2 client credentials)

     Authenticate the client with HTTP Basic (client_id:client_secret) or with the client_id and
    client_secret form fields. Errors follow RFC 6749 section 5.2.

    Args:
        body (IssueTokenBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: IssueTokenBody,
) -> IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem | None:
    """Get an access token (OAuth2 client credentials)

     Authenticate the client with HTTP Basic (client_id:client_secret) or with the client_id and
    client_secret form fields. Errors follow RFC 6749 section 5.2.

    Args:
        body (IssueTokenBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IssueTokenResponse200 | IssueTokenResponse400 | IssueTokenResponse401 | IssueTokenResponse429 | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
