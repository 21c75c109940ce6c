from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.stream_events_type_item import StreamEventsTypeItem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    type_: list[StreamEventsTypeItem] | Unset = UNSET,
    subject_id: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_type_: list[str] | Unset = UNSET
    if not isinstance(type_, Unset):
        json_type_ = []
        for type_item_data in type_:
            type_item = type_item_data.value
            json_type_.append(type_item)

    params["type"] = json_type_

    params["subject_id"] = subject_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/events/stream",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | str | None:
    if response.status_code == 200:
        response_200 = response.text
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

    if response.status_code == 410:
        response_410 = Problem.from_dict(response.json())

        return response_410

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    type_: list[StreamEventsTypeItem] | Unset = UNSET,
    subject_id: str | Unset = UNSET,
) -> Response[Problem | str]:
    """Stream the change events (Server-Sent Events)

     The same events as `GET /v2/events`, pushed as they commit. Without `Last-Event-ID` the stream
    starts with the events committed from now on.

    Args:
        type_ (list[StreamEventsTypeItem] | Unset):
        subject_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        type_=type_,
        subject_id=subject_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    type_: list[StreamEventsTypeItem] | Unset = UNSET,
    subject_id: str | Unset = UNSET,
) -> Problem | str | None:
    """Stream the change events (Server-Sent Events)

     The same events as `GET /v2/events`, pushed as they commit. Without `Last-Event-ID` the stream
    starts with the events committed from now on.

    Args:
        type_ (list[StreamEventsTypeItem] | Unset):
        subject_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return sync_detailed(
        client=client,
        type_=type_,
        subject_id=subject_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    type_: list[StreamEventsTypeItem] | Unset = UNSET,
    subject_id: str | Unset = UNSET,
) -> Response[Problem | str]:
    """Stream the change events (Server-Sent Events)

     The same events as `GET /v2/events`, pushed as they commit. Without `Last-Event-ID` the stream
    starts with the events committed from now on.

    Args:
        type_ (list[StreamEventsTypeItem] | Unset):
        subject_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        type_=type_,
        subject_id=subject_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    type_: list[StreamEventsTypeItem] | Unset = UNSET,
    subject_id: str | Unset = UNSET,
) -> Problem | str | None:
    """Stream the change events (Server-Sent Events)

     The same events as `GET /v2/events`, pushed as they commit. Without `Last-Event-ID` the stream
    starts with the events committed from now on.

    Args:
        type_ (list[StreamEventsTypeItem] | Unset):
        subject_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return (
        await asyncio_detailed(
            client=client,
            type_=type_,
            subject_id=subject_id,
        )
    ).parsed
