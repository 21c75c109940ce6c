"""Fixtures of the event tests: a partner with every partner scope, and a fleet builder."""

from __future__ import annotations

import httpx
import pytest

from tests.support.auth import MakeApiClient
from tests.support.fleet import Fleet
from tests.support.partner import Partner


@pytest.fixture
async def acme(client: httpx.AsyncClient, make_api_client: MakeApiClient) -> Partner:
    """A partner, "acme", with a client holding every partner scope (events:read among them)."""
    return Partner(client, await make_api_client(partner="acme"))


@pytest.fixture
async def globex(client: httpx.AsyncClient, make_api_client: MakeApiClient) -> Partner:
    return Partner(client, await make_api_client(partner="globex"))


@pytest.fixture
def fleet(client: httpx.AsyncClient) -> Fleet:
    return Fleet(client)
