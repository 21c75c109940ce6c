"""Fixtures of the fleet API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tests.support.app import App, MakeApp, MakeClient
from tests.support.fleet import Fleet
from tests.support.invariants import assert_invariants


@pytest.fixture
def fleet(client: httpx.AsyncClient) -> Fleet:
    """Creates resources through the test's ``client``."""
    return Fleet(client)


@pytest.fixture
async def invariants(db: asyncpg.Connection) -> AsyncIterator[None]:
    """After the test: the four invariants of docs/api.md hold in the database, whatever happened."""
    yield
    await assert_invariants(db)


@pytest.fixture
async def auth_app(make_app: MakeApp) -> App:
    """The app with fleet auth required (``FLEETREG_FLEET_AUTH=required``)."""
    return await make_app(fleet_auth="required")


@pytest.fixture
async def auth_client(make_client: MakeClient, auth_app: App) -> httpx.AsyncClient:
    """A client of ``auth_app`` (requests carry no token unless given one)."""
    return await make_client(auth_app)
