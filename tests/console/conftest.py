"""Fixtures of the console's tests: fleet and partner data made through the API, and operators."""

from __future__ import annotations

import itertools

import httpx
import pytest

from tests.support.app import App
from tests.support.console import MakeOperator, OperatorLogin, create_operator
from tests.support.fleet import Fleet


@pytest.fixture
def fleet(client: httpx.AsyncClient) -> Fleet:
    return Fleet(client)


@pytest.fixture
def make_operator(app: App) -> MakeOperator:
    """``await make_operator("enterprise:ID")``: an operator of that role, with a known password."""
    numbers = itertools.count(1)

    async def make(role: str = "admin", email: str | None = None) -> OperatorLogin:
        return await create_operator(app, role, email or f"operator{next(numbers)}@example.com")

    return make
