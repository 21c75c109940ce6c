"""Signing in to the console: sessions, cookies, CSRF tokens and the lockout (docs/api.md §8)."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

import asyncpg
import httpx

from tests.support.app import MakeApp, MakeClient
from tests.support.console import MakeOperator, csrf_of, post_form, sign_in, signed_in


async def test_a_page_without_a_session_sends_to_the_sign_in_form_and_back(
    client: httpx.AsyncClient, make_operator: MakeOperator
) -> None:
    login = await make_operator("admin")
    response = await client.get("/console/partners")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=/console/partners"

    signed = await sign_in(client, login.email, login.password, next="/console/partners")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/console/partners"
    page = await client.get("/console/partners")
    assert page.status_code == 200
    assert login.email in page.text


async def test_the_session_cookie_is_http_only_lax_expiring_and_stored_hashed(
    client: httpx.AsyncClient, make_operator: MakeOperator, db: asyncpg.Connection
) -> None:
    login = await make_operator("admin")
    response = await sign_in(client, login.email, login.password)
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("fleetreg_console="))
    attributes = [part.strip() for part in cookie.split(";")]
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Path=/console" in attributes
    assert f"Max-Age={8 * 3600}" in attributes
    assert "Secure" not in attributes  # served over http
    token = unquote(attributes[0].split("=", 1)[1])
    stored = await db.fetchval("SELECT token_hash FROM operator_sessions")
    assert stored == hashlib.sha256(token.encode()).digest()
    assert await db.fetchval("SELECT expires_at - created_at FROM operator_sessions") is not None


async def test_behind_https_the_cookies_are_secure(
    make_app: MakeApp, make_client: MakeClient, make_operator: MakeOperator
) -> None:
    app = await make_app(public_url="https://fleet.example.com")
    login = await make_operator("admin")
    http = await make_client(app)
    form = await http.get("/console/sign-in")
    form_cookie = form.headers["set-cookie"]
    assert "; Secure" in form_cookie
    # httpx sends no Secure cookie to an http:// URL: sent by hand, as a browser over https would.
    secret = form_cookie.split(";")[0].split("=", 1)[1]
    response = await http.post(
        "/console/sign-in",
        data={"csrf": csrf_of(form), "email": login.email, "password": login.password},
        headers={"cookie": f"fleetreg_console_sign_in={secret}"},
    )
    assert response.status_code == 303, response.text
    session_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("fleetreg_console="))
    assert "; Secure" in session_cookie


async def test_a_wrong_password_is_refused_with_the_form_again(
    client: httpx.AsyncClient, make_operator: MakeOperator
) -> None:
    login = await make_operator("admin")
    response = await sign_in(client, login.email, "not the password")
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert "fleetreg_console=" not in " ".join(response.headers.get_list("set-cookie"))
    unknown = await sign_in(client, "nobody@example.com", "not the password")
    assert unknown.status_code == 401
    assert "Wrong email or password." in unknown.text


async def test_repeated_failures_lock_the_account_even_for_the_right_password(
    make_app: MakeApp, make_client: MakeClient, make_operator: MakeOperator, db: asyncpg.Connection
) -> None:
    app = await make_app(console_lockout_failures=3, console_lockout_seconds=600)
    http = await make_client(app)
    login = await make_operator("admin")
    for _ in range(2):
        assert (await sign_in(http, login.email, "wrong password")).status_code == 401
    locking = await sign_in(http, login.email, "wrong password")
    assert locking.status_code == 429
    assert "now locked for 10 min" in locking.text
    refused = await sign_in(http, login.email, login.password)
    assert refused.status_code == 429
    assert "locked" in refused.text
    assert 0 < int(refused.headers["retry-after"]) <= 600
    assert await db.fetchval("SELECT count(*) FROM operator_sessions") == 0
    # Once the lock has expired, the right password works again.
    await db.execute("UPDATE operators SET locked_until = now() - interval '1 second'")
    assert (await sign_in(http, login.email, login.password)).status_code == 303


async def test_failed_sign_ins_are_slowed(
    make_app: MakeApp, make_client: MakeClient, make_operator: MakeOperator
) -> None:
    import time

    app = await make_app(console_lockout_failures=10)
    http = await make_client(app)
    login = await make_operator("admin")
    started = time.monotonic()
    for _ in range(3):
        await sign_in(http, login.email, "wrong password")
    assert time.monotonic() - started >= 0.25 + 0.5 + 1.0


async def test_a_form_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, make_operator: MakeOperator, db: asyncpg.Connection
) -> None:
    login = await make_operator("admin")
    form = await client.get("/console/sign-in")
    refused = await client.post(
        "/console/sign-in", data={"email": login.email, "password": login.password, "csrf": "forged"}
    )
    assert refused.status_code == 403
    assert "Form Refused" in refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert (
        await client.post("/console/sign-in", data={"csrf": csrf_of(form), **{"email": login.email}})
    ).status_code == 401

    await signed_in(client, login)
    for data in ({}, {"csrf": ""}, {"csrf": "0" * 64}):
        response = await client.post("/console/sign-out", data=data)
        assert response.status_code == 403, data
    assert await db.fetchval("SELECT count(*) FROM operator_sessions") == 1
    out = await post_form(client, "/console", "/console/sign-out")
    assert out.status_code == 303
    assert await db.fetchval("SELECT count(*) FROM operator_sessions") == 0
    assert (await client.get("/console")).status_code == 303


async def test_a_csrf_token_of_another_session_is_refused(
    make_client: MakeClient, app: object, make_operator: MakeOperator
) -> None:
    first, second = await make_operator("admin"), await make_operator("admin")
    one = await signed_in(await make_client(app), first)
    other = await signed_in(await make_client(app), second)
    token_of_other = csrf_of(await other.get("/console"))
    response = await one.post("/console/sign-out", data={"csrf": token_of_other})
    assert response.status_code == 403


async def test_a_disabled_operator_is_signed_out_at_once(
    client: httpx.AsyncClient, app: object, make_operator: MakeOperator
) -> None:
    from fleetreg.console import operators
    from tests.support.app import database_of

    login = await make_operator("admin")
    await signed_in(client, login)
    assert (await client.get("/console")).status_code == 200
    await operators.disable_operator(database_of(app), login.email.upper())  # type: ignore[arg-type]
    assert (await client.get("/console")).status_code == 303
    assert (await sign_in(client, login.email, login.password)).status_code == 401
