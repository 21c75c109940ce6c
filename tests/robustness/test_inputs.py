"""Inputs that are valid JSON or a valid URL but that PostgreSQL cannot take: refused as 400 naming the
member or parameter, before any SQL runs (so that no database error, and none of its wording about
query arguments, reaches the client).

Found by probing what the fuzzer's alphabet leaves out: a NUL character, a lone UTF-16 surrogate
(``"\\ud800"`` is legal in JSON) and RFC 3339 instants past year 9999 or before year 1 in UTC used to
reach asyncpg and come back as a generic 400 without ``errors``, its detail quoting the driver.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.support.problems import assert_problem

UNKNOWN = "ZZZZZZZZZZZZZZZ"
NUL = "\\u0000"
SURROGATE = "\\ud800"  # as written in the JSON text


def assert_names(response: httpx.Response, **where: str) -> dict[str, Any]:
    body = assert_problem(response, 400, "Bad Request")
    (kind, name), *_ = where.items()
    assert [error.get(kind) for error in body["errors"]] == [name], body
    assert "query argument" not in response.text
    return body


# Each body has one text member holding "@", replaced by the character under test.
BODIES = [
    ("/v2/enterprises", '{"data": {"attributes": {"name": "a@b", "cnpj": "11222333000181"}}}', "/data/attributes/name"),
    (
        "/v2/vehicles",
        f'{{"data": [{{"attributes": {{"enterprise_id": "{UNKNOWN}", "name": "T", "plate": "P@"}}}}]}}',
        "/data/0/attributes/plate",
    ),
    (
        "/v2/devices",
        f'{{"data": {{"attributes": {{"enterprise_id": "{UNKNOWN}", "name": "D", "imei": "490154203237518", '
        '"code": "@"}}}',
        "/data/attributes/code",
    ),
    (
        "/v2/chips",
        '{"data": {"attributes": {"serial": "8955010012345678908", "number": "+5511987654321", "carrier": "V@", '
        '"service_provider": "V", "batch": "B"}}}',
        "/data/attributes/carrier",
    ),
]


@pytest.mark.parametrize("character", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize(("path", "template", "pointer"), BODIES, ids=[path for path, _, _ in BODIES])
async def test_unstorable_text_in_a_body_is_400_naming_the_member(
    client: httpx.AsyncClient, path: str, template: str, pointer: str, character: str
) -> None:
    body = template.replace("@", character)
    response = await client.post(path, content=body, headers={"content-type": "application/json"})
    assert_names(response, pointer=pointer)


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/v2/enterprises?search=a%00b", "search"),
        ("/v2/chips?search=%00", "search"),
        (f"/v2/vehicles/{UNKNOWN}/associations/devices?search=a%00", "search"),
        (f"/v2/vehicles/{UNKNOWN}/associations/devices?filters[device.name][eq]=a%00b", "filters[device.name][eq]"),
        (
            f"/v2/vehicles/{UNKNOWN}/associations/devices?filters=%7B%22device.name%22%3A%7B%22ilk%22%3A%22a%5Cud800%22%7D%7D",
            "filters",
        ),
        (f"/v2/devices/{UNKNOWN}/associations?as_of=9999-12-31T23:59:59-01:00", "as_of"),
        (f"/v2/devices/{UNKNOWN}/associations?as_of=0001-01-01T00:00:00%2B01:00", "as_of"),
        (f"/v2/vehicles/{UNKNOWN}/associations/devices?as_of=9999-12-31T23:30:00-00:31", "as_of"),
    ],
)
async def test_unstorable_query_values_are_400_naming_the_parameter(
    client: httpx.AsyncClient, url: str, parameter: str
) -> None:
    body = assert_names(await client.get(url), parameter=parameter)
    assert body["errors"][0]["detail"]


async def test_the_last_and_first_instants_are_fine(client: httpx.AsyncClient) -> None:
    for instant in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59%2B01:00"):
        response = await client.get(f"/v2/devices/{UNKNOWN}/associations?as_of={instant}")
        assert response.status_code == 404, response.text  # past validation, to the device lookup


@pytest.mark.parametrize("how", ["form", "basic"])
async def test_a_client_id_with_a_nul_is_an_unknown_client(client: httpx.AsyncClient, how: str) -> None:
    # It used to reach the database and come back as a problem+json 400, not RFC 6749's JSON error.
    form = {"content-type": "application/x-www-form-urlencoded"}
    if how == "form":
        body, headers = "grant_type=client_credentials&client_id=cl_a%00b&client_secret=x", form
    else:
        basic = base64.b64encode(b"cl_a\x00b:x").decode()
        body, headers = "grant_type=client_credentials", {**form, "Authorization": f"Basic {basic}"}
    response = await client.post("/oauth/token", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "invalid_client"


# [[[...]]] 1,300 deep, URL-encoded: past Python's recursion limit, within the 8 KiB request line
# (docs/api.md §7; a longer line is 414 before anything parses it).
NESTED = "%5B" * 1300 + "%5D" * 1300


@pytest.mark.parametrize(
    "query",
    [
        f"filters=%7B%22device.name%22%3A{NESTED}%7D",
        f"includes={NESTED}",
        f"attributes={NESTED}",
        f"includes[device]={NESTED}",
        "filters=" + "%7B%22a%22%3A" * 400 + "1" + "%7D" * 400,  # {"a":{"a":...}} parses, then is walked
    ],
    ids=["filters", "includes", "attributes", "includes[device]", "objects"],
)
async def test_json_nested_deep_in_a_parameter_is_400(client: httpx.AsyncClient, query: str) -> None:
    # It used to raise RecursionError while parsing or walking the value: a 500.
    response = await client.get(f"/v2/vehicles/{UNKNOWN}/associations/devices?{query}")
    body = assert_problem(response, 400, "Bad Request")
    assert body["errors"][0]["parameter"] == query.split("=", 1)[0]
