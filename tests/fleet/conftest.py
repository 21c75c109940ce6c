"""Fixtures of the fleet API tests: ``fleet``, a helper that creates enterprises, vehicles, devices,
chips and associations through the API with valid, unique data, and checks problems."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from fleet_helpers import Fleet, assert_invariants

from fleetreg.app import create_app
from fleetreg.settings import Settings


@pytest.fixture
def fleet(client: httpx.AsyncClient) -> Fleet:
    return Fleet(client)


@pytest.fixture
async def invariants(db: asyncpg.Connection) -> AsyncIterator[None]:
    """After the test: the four invariants of API.md hold in the database, whatever happened."""
    yield
    await assert_invariants(db)


@pytest.fixture
def auth_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, data_dir=tmp_path / "data", db_pool_min=1, db_pool_max=5, fleet_auth="required"
    )


@pytest.fixture
async def auth_app(auth_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(auth_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def auth_client(auth_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=auth_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fleetreg.test") as http:
        yield http
