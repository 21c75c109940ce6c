"""The console's pages over HTTP: what each operator sees (others' resources are 404 on every page),
the API's rules and errors as readable pages, the CSV upload, and that /openapi.json leaves them out."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.app import App, MakeClient, openapi_of
from tests.support.auth import MakeApiClient
from tests.support.console import MakeOperator, csrf_of, post_form, signed_in
from tests.support.fleet import Fleet
from tests.support.partner import Partner


@dataclass
class World:
    """Two enterprises and two partners, each with something of everything."""

    fleets: dict[str, dict[str, Any]]
    partners: dict[str, dict[str, Any]]


async def _enterprise(fleet: Fleet, name: str, plate: str) -> dict[str, Any]:
    enterprise = await fleet.enterprise(name=name)
    vehicle = await fleet.vehicle(enterprise["id"], name=f"{name} truck", plate=plate)
    main = await fleet.device(enterprise["id"], name=f"{name} tracker")
    spare = await fleet.device(enterprise["id"], name=f"{name} spare")
    chip = await fleet.chip(main["id"])
    (association,) = await fleet.associate((vehicle["id"], main["id"], True))
    return {
        "enterprise": enterprise,
        "vehicle": vehicle,
        "device": main,
        "spare": spare,
        "chip": chip,
        "association": association,
    }


async def _partner(partner: Partner, name: str) -> dict[str, Any]:
    customer = await partner.customer(f"{name} customer")
    connector = await partner.connector(f"{name}-connector-1")
    return {"id": str(partner.id), "customer": customer, "connector": connector}


@pytest.fixture
async def world(fleet: Fleet, client: httpx.AsyncClient, make_api_client: MakeApiClient) -> World:
    fleets = {
        "north": await _enterprise(fleet, "North", "NTH1A23"),
        "south": await _enterprise(fleet, "South", "STH9Z87"),
    }
    acme = Partner(client, await make_api_client(partner="acme"))
    globex = Partner(client, await make_api_client(partner="globex"))
    return World(fleets, {"acme": await _partner(acme, "acme"), "globex": await _partner(globex, "globex")})


def fleet_pages(of: dict[str, Any]) -> list[str]:
    return [
        f"/console/vehicles/{of['vehicle']['id']}",
        f"/console/devices/{of['device']['id']}",
        f"/console/chips/{of['chip']['id']}",
        f"/console/enterprises/{of['enterprise']['id']}",
    ]


def partner_pages(of: dict[str, Any]) -> list[str]:
    return [f"/console/partners/{of['id']}/connectors"]


def fleet_actions(of: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    vehicle, association = of["vehicle"]["id"], of["association"]["id"]
    return [
        (f"/console/vehicles/{vehicle}/associations", {"device_id": of["spare"]["id"]}),
        (f"/console/vehicles/{vehicle}/associations/{association}/end", {}),
        (f"/console/vehicles/{vehicle}/associations/{association}/promote", {}),
        (f"/console/vehicles/{vehicle}/associations/{association}/replace", {"device_id": of["spare"]["id"]}),
    ]


def partner_actions(of: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    return [
        (
            f"/console/partners/{of['id']}/connectors/{of['connector']['id']}/assign",
            {"customer": of["customer"]["name"]},
        )
    ]


async def _client_of(make_client: MakeClient, app: App, make_operator: MakeOperator, role: str) -> httpx.AsyncClient:
    return await signed_in(await make_client(app), await make_operator(role))


async def test_an_admin_sees_every_page(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator
) -> None:
    http = await _client_of(make_client, app, make_operator, "admin")
    for of in world.fleets.values():
        for url in fleet_pages(of):
            response = await http.get(url)
            assert response.status_code == 200, url
    for of in world.partners.values():
        for url in partner_pages(of):
            assert (await http.get(url)).status_code == 200, url
    assert (await http.get("/console/upload")).status_code == 200
    listed = await http.get("/console/partners")
    assert "acme" in listed.text
    assert "globex" in listed.text


async def test_an_enterprise_operator_sees_only_that_enterprise(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator, db: asyncpg.Connection
) -> None:
    north, south = world.fleets["north"], world.fleets["south"]
    http = await _client_of(make_client, app, make_operator, f"enterprise:{north['enterprise']['id']}")
    for url in fleet_pages(north):
        assert (await http.get(url)).status_code == 200, url
    pages = [*fleet_pages(south), *(url for of in world.partners.values() for url in partner_pages(of))]
    pages.append("/console/partners")
    for url in pages:
        response = await http.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("text/html"), url
        assert "South truck" not in response.text
    csrf = csrf_of(await http.get("/console"))
    before = await db.fetch("SELECT * FROM device_associations ORDER BY id")
    for url, fields in [*fleet_actions(south), *(a for of in world.partners.values() for a in partner_actions(of))]:
        response = await http.post(url, data={"csrf": csrf, **fields})
        assert response.status_code == 404, url
    assert await db.fetch("SELECT * FROM device_associations ORDER BY id") == before
    assert await db.fetchval("SELECT count(*) FROM connectors WHERE customer_id IS NOT NULL") == 0
    found = await http.get("/console", params={"q": "STH9Z87"})
    assert "South truck" not in found.text
    assert "Nothing matches" in found.text
    assert "North truck" in (await http.get("/console", params={"q": "NTH1A23"})).text


async def test_a_partner_operator_sees_only_that_partner(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator, db: asyncpg.Connection
) -> None:
    http = await _client_of(make_client, app, make_operator, "partner:acme")
    assert (await http.get(partner_pages(world.partners["acme"])[0])).status_code == 200
    overview = await http.get("/console/partners")
    assert overview.status_code == 303
    assert overview.headers["location"] == f"/console/partners/{world.partners['acme']['id']}/connectors"
    pages = [*partner_pages(world.partners["globex"]), "/console/upload"]
    pages += [url for of in world.fleets.values() for url in fleet_pages(of)]
    for url in pages:
        assert (await http.get(url)).status_code == 404, url
    csrf = csrf_of(await http.get("/console"))
    actions = [
        *partner_actions(world.partners["globex"]),
        *(a for of in world.fleets.values() for a in fleet_actions(of)),
    ]
    for url, fields in actions:
        assert (await http.post(url, data={"csrf": csrf, **fields})).status_code == 404, url
    assert await db.fetchval("SELECT count(*) FROM connectors WHERE customer_id IS NOT NULL") == 0
    found = await http.get("/console", params={"q": "acme-conn"})
    assert "acme-connector-1" in found.text
    hidden = await http.get("/console", params={"q": "globex-conn"})
    assert "globex-connector-1" not in hidden.text
    assert "Nothing matches" in hidden.text
    assert "Nothing matches" in (await http.get("/console", params={"q": "North"})).text


async def test_search_finds_every_kind_by_its_keys(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator
) -> None:
    http = await _client_of(make_client, app, make_operator, "admin")
    north = world.fleets["north"]
    cnpj = north["enterprise"]["attributes"]["cnpj"]
    formatted = f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"
    expectations = {
        "NTH1A23": f"/console/vehicles/{north['vehicle']['id']}",
        "North truck": f"/console/vehicles/{north['vehicle']['id']}",
        north["device"]["attributes"]["imei"]: f"/console/devices/{north['device']['id']}",
        north["chip"]["attributes"]["serial"]: f"/console/chips/{north['chip']['id']}",
        north["chip"]["attributes"]["number"]: f"/console/chips/{north['chip']['id']}",
        formatted: f"/console/enterprises/{north['enterprise']['id']}",
        "acme customer": "/console/partners/",
        "globex-connector": "globex-connector-1",
    }
    for query, expected in expectations.items():
        response = await http.get("/console", params={"q": query})
        assert expected in response.text, query
    fragment = await http.get("/console", params={"q": "NTH1A23", "partial": "true"})
    assert "<html" not in fragment.text
    assert "North truck" in fragment.text


async def test_the_vehicle_page_marks_the_main_device_and_draws_the_timeline(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator, fleet: Fleet
) -> None:
    north = world.fleets["north"]
    vehicle_id = north["vehicle"]["id"]
    http = await _client_of(make_client, app, make_operator, "admin")
    added = await post_form(
        http,
        f"/console/vehicles/{vehicle_id}",
        f"/console/vehicles/{vehicle_id}/associations",
        device_id=north["spare"]["id"],
    )
    assert added.status_code == 303
    page = await http.get(f"/console/vehicles/{vehicle_id}")
    assert page.text.count('class="is-main"') == 1
    assert "<svg" in page.text
    assert page.text.count('<rect x="') == 2
    assert north["chip"]["attributes"]["serial"] in page.text


async def test_the_api_s_errors_are_readable_pages(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator
) -> None:
    north, south = world.fleets["north"], world.fleets["south"]
    http = await _client_of(make_client, app, make_operator, "admin")
    vehicle_id = north["vehicle"]["id"]
    # The main association of a vehicle that keeps another cannot end: the API's 400 Main Device Required.
    await post_form(
        http,
        f"/console/vehicles/{vehicle_id}",
        f"/console/vehicles/{vehicle_id}/associations",
        device_id=north["spare"]["id"],
    )
    refused = await post_form(
        http,
        f"/console/vehicles/{vehicle_id}",
        f"/console/vehicles/{vehicle_id}/associations/{north['association']['id']}/end",
    )
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("text/html")
    assert "One Vehicle-Device Association Must Be Main" in refused.text
    assert "{" not in refused.text.split("<main", 1)[1].split("</main>", 1)[0]
    # A device of another enterprise: the API's 400 for different enterprises.
    mismatch = await post_form(
        http,
        f"/console/vehicles/{vehicle_id}",
        f"/console/vehicles/{vehicle_id}/associations",
        device_id=south["spare"]["id"],
    )
    assert mismatch.status_code == 400
    assert south["spare"]["id"] in mismatch.text
    missing = await http.get("/console/vehicles/AAAAAAAAAAAAAAA")
    assert missing.status_code == 404
    assert "Vehicle Not Found" in missing.text


async def test_assigning_a_connector_goes_through_the_partner_service(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator, db: asyncpg.Connection
) -> None:
    acme = world.partners["acme"]
    http = await _client_of(make_client, app, make_operator, "partner:acme")
    page = f"/console/partners/{acme['id']}/connectors"
    action = f"{page}/{acme['connector']['id']}/assign"
    assert (await post_form(http, page, action, customer="acme customer")).status_code == 303
    assert (
        str(await db.fetchval("SELECT customer_id FROM connectors WHERE name = 'acme-connector-1'"))
        == acme["customer"]["id"]
    )
    assigned = await http.get(page, params={"assigned": "yes"})
    assert "acme-connector-1" in assigned.text
    unassigned = await http.get(page, params={"assigned": "no"})
    assert "acme-connector-1" not in unassigned.text
    assert (await post_form(http, page, action, customer="")).status_code == 303
    assert await db.fetchval("SELECT customer_id FROM connectors WHERE name = 'acme-connector-1'") is None
    # A customer of another partner is none of this one's.
    foreign = await post_form(http, page, action, customer="globex customer")
    assert foreign.status_code == 400
    assert "no customer of this partner named 'globex customer'" in html.unescape(foreign.text)


async def _upload(http: httpx.AsyncClient, text: str) -> httpx.Response:
    csrf = csrf_of(await http.get("/console/upload"))
    return await http.post(
        "/console/upload", data={"csrf": csrf}, files={"file": ("lines.csv", text.encode(), "text/csv")}
    )


async def test_a_csv_with_bad_lines_writes_nothing_and_names_every_one(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator, db: asyncpg.Connection
) -> None:
    north = world.fleets["north"]
    http = await _client_of(make_client, app, make_operator, "admin")
    before = await db.fetch("SELECT * FROM device_associations ORDER BY id")
    vehicle, device, spare = north["vehicle"]["id"], north["device"]["id"], north["spare"]["id"]
    text = (
        "action,vehicle_id,device_id,is_main_device\n"
        f"end,{vehicle},{device},\n"
        f"create,{vehicle},{spare},maybe\n"
        f"create,{vehicle},short,true\n"
    )
    response = await _upload(http, text)
    assert response.status_code == 400
    shown = html.unescape(response.text)
    assert "Line 3: is_main_device 'maybe' is neither true nor false" in shown
    assert "Line 4: device_id 'short'" in shown
    assert "Line 2" not in shown
    # Lines the services refuse are named too, and the end before them is rolled back.
    refused = await _upload(
        http,
        f"action,vehicle_id,device_id,is_main_device\nend,{vehicle},{device},\ncreate,{vehicle},{spare},false\n",
    )
    assert refused.status_code == 400
    assert "Line 3:" in refused.text
    assert await db.fetch("SELECT * FROM device_associations ORDER BY id") == before

    done = await _upload(
        http,
        f"action,vehicle_id,device_id,is_main_device\nend,{vehicle},{device},\ncreate,{vehicle},{spare},true\n",
    )
    assert done.status_code == 200, done.text
    assert "1 association(s) created, 1 ended" in done.text
    active = await db.fetch(
        "SELECT device_id, is_main_device FROM device_associations WHERE ended_at IS NULL AND vehicle_id = $1", vehicle
    )
    assert [(row["device_id"], row["is_main_device"]) for row in active] == [(spare, True)]


def test_the_console_is_not_in_the_openapi_document(app: App) -> None:
    assert not [path for path in openapi_of(app)["paths"] if path.startswith("/console")]


async def test_the_events_page_shows_who_changed_what_and_when(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator, fleet: Fleet
) -> None:
    north, south = world.fleets["north"], world.fleets["south"]
    vehicle_id = north["vehicle"]["id"]
    login = await make_operator(f"enterprise:{north['enterprise']['id']}")
    http = await signed_in(await make_client(app), login)
    added = await post_form(
        http, f"/console/vehicles/{vehicle_id}", f"/console/vehicles/{vehicle_id}/associations",
        device_id=north["spare"]["id"],
    )  # fmt: skip
    assert added.status_code == 303
    page = await http.get(f"/console/events/vehicles/{vehicle_id}")
    assert page.status_code == 200
    shown = html.unescape(page.text)
    assert "vehicle.created" in shown
    assert "plate: NTH1A23" in shown
    assert shown.count("association.started") == 2
    assert f"operator {login.email}" in shown, "the console's change is the operator's"
    assert "an API call without a token" in shown, "the fixture's changes came through the open API"
    for kind, of in (("vehicles", "vehicle"), ("devices", "device"), ("chips", "chip"), ("enterprises", "enterprise")):
        assert (await http.get(f"/console/events/{kind}/{north[of]['id']}")).status_code == 200, kind
        assert (await http.get(f"/console/events/{kind}/{south[of]['id']}")).status_code == 404, kind
    assert (await http.get(f"/console/events/connectors/{vehicle_id}")).status_code == 404


async def test_the_connectors_filter_takes_a_customer_by_name_or_id(
    world: World,
    app: App,
    make_client: MakeClient,
    make_operator: MakeOperator,
    client: httpx.AsyncClient,
    make_api_client: MakeApiClient,
) -> None:
    acme = world.partners["acme"]
    partner = Partner(client, await make_api_client(partner="acme"))
    await partner.connector("acme-assigned", customer_id=acme["customer"]["id"])
    http = await _client_of(make_client, app, make_operator, "partner:acme")
    page = f"/console/partners/{acme['id']}/connectors"
    for value in ("acme customer", acme["customer"]["id"]):
        listed = await http.get(page, params={"customer": value})
        assert listed.status_code == 200, value
        assert "acme-assigned" in listed.text
        assert "acme-connector-1" not in listed.text
        assert 'value="acme customer"' in listed.text
    assert (await http.get(page, params={"customer": "nobody"})).status_code == 400


async def test_replacing_a_device_goes_through_the_replace_service(
    world: World, app: App, make_client: MakeClient, make_operator: MakeOperator, db: asyncpg.Connection
) -> None:
    north = world.fleets["north"]
    vehicle_id, old, new = north["vehicle"]["id"], north["device"]["id"], north["spare"]["id"]
    http = await _client_of(make_client, app, make_operator, f"enterprise:{north['enterprise']['id']}")
    page = f"/console/vehicles/{vehicle_id}"
    action = f"{page}/associations/{north['association']['id']}/replace"
    replaced = await post_form(http, page, action, device_id=new, move_chip="true")
    assert replaced.status_code == 303, replaced.text
    active = await db.fetch(
        "SELECT device_id, is_main_device FROM device_associations WHERE vehicle_id = $1 AND ended_at IS NULL",
        vehicle_id,
    )
    assert [(row["device_id"], row["is_main_device"]) for row in active] == [(new, True)]
    assert await db.fetchval("SELECT device_id FROM chips WHERE id = $1", north["chip"]["id"]) == new
    events = html.unescape((await http.get(f"/console/events/vehicles/{vehicle_id}")).text)
    assert "association.replaced" in events
    # The old device is free now; putting a device that is on a vehicle is the API's 400.
    again = await post_form(http, page, f"{page}/associations/{north['association']['id']}/replace", device_id=old)
    assert again.status_code == 404
