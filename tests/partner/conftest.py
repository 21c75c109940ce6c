"""Fixtures of the partner API tests: two partners, each with a client holding every partner scope."""

from __future__ import annotations

import httpx
import pytest

from tests.support.auth import MakeApiClient
from tests.support.partner import Partner


@pytest.fixture
async def acme(client: httpx.AsyncClient, make_api_client: MakeApiClient) -> Partner:
    """A partner, "acme", with a client holding every partner scope."""
    return Partner(client, await make_api_client(partner="acme"))


@pytest.fixture
async def globex(client: httpx.AsyncClient, make_api_client: MakeApiClient) -> Partner:
    """Another partner, "globex", with a client holding every partner scope."""
    return Partner(client, await make_api_client(partner="globex"))
