"""Fixtures of the partner API tests: two partners, each with a client holding every partner scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from partner_support import Partner


@pytest.fixture
async def acme(client: httpx.AsyncClient, make_api_client: Callable[..., Awaitable[Any]]) -> Partner:
    return Partner(client, await make_api_client(partner="acme"))


@pytest.fixture
async def globex(client: httpx.AsyncClient, make_api_client: Callable[..., Awaitable[Any]]) -> Partner:
    return Partner(client, await make_api_client(partner="globex"))
