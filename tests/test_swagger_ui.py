"""/docs and /redoc in a real browser (Debian's chromium, tests/support/browser.py): Swagger UI's "Try
it out" makes the association list's flagship query with its pre-filled examples and the server
takes it; Authorize gets a fleet token from a client's id and secret; neither page loads anything
from another origin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Locator, Page, Request, Response, expect

from tests.support.browser import NewBrowser
from tests.support.database import create_client_in
from tests.support.fleet import Fleet
from tests.support.processes import Served, served

LISTING = "#operations-associations-list_vehicle_associations"
# Laying out the whole API (ReDoc: 4 MB of script over a 500 kB document) takes long on a busy machine.
RENDERED_MS = 60_000


def _recording(page: Page) -> list[str]:
    """The URLs of everything the page fetched (whatever answered; what the browser refused to ask
    for, by the page's Content-Security-Policy, has no response)."""
    urls: list[str] = []

    def record(response: Response) -> None:
        urls.append(response.url)

    page.on("response", record)
    return urls


def _outside(urls: list[str], base: str) -> list[str]:
    return [url for url in urls if not url.startswith((base + "/", "data:", "blob:"))]


async def _try_it_out(page: Page, operation: str) -> Locator:
    block = page.locator(operation)
    await block.locator(".opblock-summary").click(timeout=RENDERED_MS)
    await block.get_by_role("button", name="Try it out").click()
    return block


async def _execute(page: Page, block: Locator, path_part: str) -> tuple[Request, Any]:
    async with page.expect_response(lambda answer: path_part in answer.url) as answered:
        await block.get_by_role("button", name="Execute").click()
    response = await answered.value
    return response.request, (response.status, await response.json())


async def _vehicle_with_a_tracker(base: str) -> tuple[str, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        fleet = Fleet(client)
        enterprise = await fleet.enterprise(name="Aurora Transportes")
        vehicle = await fleet.vehicle(enterprise["id"])
        device = await fleet.device(enterprise["id"], name="Tracker Norte")
        chip = await fleet.chip(device["id"])
        other = await fleet.device(enterprise["id"], name="Beacon Sul")
        await fleet.associate((vehicle["id"], device["id"], True), (vehicle["id"], other["id"], False))
    return vehicle["id"], {"device": device, "chip": chip, "enterprise": enterprise}


async def test_try_it_out_sends_the_object_parameters_the_server_takes(
    page: Page, served_app: Served, tmp_path: Path
) -> None:
    vehicle_id, made = await _vehicle_with_a_tracker(served_app.base)
    urls = _recording(page)
    await page.goto("/docs")
    block = await _try_it_out(page, LISTING)
    await block.locator("tr[data-param-name='vehicle_id'] input").fill(vehicle_id)
    # everything else as Swagger UI pre-fills it from the examples of /openapi.json
    request, (status, body) = await _execute(page, block, f"/v2/vehicles/{vehicle_id}/associations/devices")
    screenshot = tmp_path / "swagger-try-it-out.png"
    await expect(block.locator(".live-responses-table tbody .response-col_status").first).to_have_text(
        "200", timeout=RENDERED_MS
    )
    await block.screenshot(path=screenshot)
    print(f"screenshot: {screenshot}")

    sent = httpx.URL(request.url).params
    assert sent.get_list("attributes") == ["serial", "number"]
    for name in ("includes", "filters", "sort"):
        json.loads(sent[name])  # one JSON value each, as /openapi.json describes them
    assert status == 200, body
    (item,) = body["data"]  # the filter's example (device name contains "tracker") keeps one of two
    assert item["attributes"]["device_id"] == made["device"]["id"]
    assert item["attributes"]["chip"] == {"serial": made["chip"]["attributes"]["serial"],
                                          "number": made["chip"]["attributes"]["number"]}  # fmt: skip
    assert item["device"] == {"name": "Tracker Norte", "imei": made["device"]["attributes"]["imei"]}
    assert item["enterprise"] == {"name": "Aurora Transportes"}
    assert _outside(urls, served_app.base) == []

    # A filter of one's own, typed into the field (a text field, not a file upload)
    field = block.locator("tr[data-param-name='filters'] input[type='text'], tr[data-param-name='filters'] textarea")
    await field.fill(json.dumps({"device.name": {"eq": "Beacon Sul"}}))
    request, (status, body) = await _execute(page, block, f"/v2/vehicles/{vehicle_id}/associations/devices")
    assert status == 200, body
    assert [item["device"]["name"] for item in body["data"]] == ["Beacon Sul"]


async def test_redoc_renders_from_the_service_alone(page: Page, served_app: Served) -> None:
    urls = _recording(page)
    await page.goto("/redoc")
    await expect(page.get_by_role("heading", name="A vehicle's active associations", exact=False).first).to_be_visible(
        timeout=RENDERED_MS
    )
    await page.wait_for_load_state("networkidle")
    assert _outside(urls, served_app.base) == []
    assert any(url.endswith("/openapi.json") for url in urls)


async def test_authorize_gets_a_fleet_token_from_a_clients_id_and_secret(
    new_browser: NewBrowser, database_url: str, tmp_path: Path
) -> None:
    fleet_client = await create_client_in(database_url, scope="fleet:read", partner=None)
    with served(database_url, tmp_path / "data", output=tmp_path / "server.log", fleet_auth="required") as server:
        context = await new_browser(server.base)
        page = context.pages[0] if context.pages else await context.new_page()
        await page.goto("/docs")
        await page.get_by_role("button", name="Authorize").first.click(timeout=RENDERED_MS)
        scheme = page.locator(".auth-container").filter(has_text="FleetClientCredentials")
        await expect(scheme.get_by_text("fleet:read", exact=True)).to_be_visible(timeout=RENDERED_MS)
        await expect(scheme.get_by_text("fleet:write", exact=True)).to_be_visible(timeout=RENDERED_MS)
        await scheme.locator("input[data-name='clientId']").fill(fleet_client.client_id)
        await scheme.locator("input[data-name='clientSecret']").fill(fleet_client.client_secret)
        await scheme.locator("label", has_text="fleet:read").click()
        async with page.expect_response(lambda answer: answer.url.endswith("/oauth/token")) as answered:
            await scheme.locator("button.authorize").click()
        assert (await answered.value).status == 200
        await page.locator(".modal-ux .close-modal").click()

        block = await _try_it_out(page, "#operations-chips-list_chips")
        request, (status, body) = await _execute(page, block, "/v2/chips")
        assert status == 200, body
        assert (await request.all_headers())["authorization"].startswith("Bearer ")
