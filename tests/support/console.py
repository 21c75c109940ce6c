"""The operator console as its tests use it: operators made as ``fleetreg operators create`` makes
them, a signed-in HTTP client, and the CSRF token a page's forms carry."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from fleetreg.console import operators
from tests.support.app import App, database_of

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass(frozen=True)
class OperatorLogin:
    id: str
    email: str
    password: str
    role: str


MakeOperator = Callable[..., Awaitable[OperatorLogin]]


async def create_operator(app: App, role: str, email: str, password: str = PASSWORD) -> OperatorLogin:
    made = await operators.create_operator(database_of(app), email, operators.parse_role(role), password)
    return OperatorLogin(str(made.id), email, password, role)


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of the first form of ``page``."""
    found = _CSRF.search(page.text)
    assert found is not None, f"no CSRF token on {page.url}"
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, email: str, password: str, **extra: str) -> httpx.Response:
    """Fill the sign-in form as a browser does (its cookie and CSRF token); the POST's answer."""
    form = await http.get("/console/sign-in")
    assert form.status_code == 200, form.text
    return await http.post(
        "/console/sign-in", data={"csrf": csrf_of(form), "email": email, "password": password, **extra}
    )


async def signed_in(http: httpx.AsyncClient, login: OperatorLogin) -> httpx.AsyncClient:
    response = await sign_in(http, login.email, login.password)
    assert response.status_code == 303, response.text
    return http


async def post_form(http: httpx.AsyncClient, page_url: str, action: str, **fields: Any) -> httpx.Response:
    """Post the form ``action`` of the page at ``page_url`` with its CSRF token."""
    page = await http.get(page_url)
    assert page.status_code == 200, page.text
    return await http.post(action, data={"csrf": csrf_of(page), **fields})
