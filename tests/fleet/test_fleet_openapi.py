"""/openapi.json describes the fleet API: every path and method, the object parameters of the
association list, and the problems each operation may answer with."""

from __future__ import annotations

import httpx


async def test_fleet_paths_parameters_and_problems(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    expected = {
        "/v2/enterprises": {"get", "post"},
        "/v2/enterprises/{enterprise_id}": {"get", "patch", "delete"},
        "/v2/vehicles": {"get", "post"},
        "/v2/vehicles/{vehicle_id}": {"get", "patch", "delete"},
        "/v2/devices": {"get", "post"},
        "/v2/devices/{device_id}": {"get", "patch", "delete"},
        "/v2/chips": {"get", "post"},
        "/v2/chips/{chip_id}": {"get", "patch", "delete"},
        "/v2/vehicles/associations/devices": {"post", "delete"},
        "/v2/vehicles/{vehicle_id}/associations/devices": {"get"},
        "/v2/vehicles/{vehicle_id}/associations/devices/{association_id}": {"patch"},
        "/v2/vehicles/{vehicle_id}/associations/devices/{association_id}/replace": {"post"},
        "/v2/devices/{device_id}/associations": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path

    listing = paths["/v2/vehicles/{vehicle_id}/associations/devices"]["get"]
    parameters = {parameter["name"]: parameter for parameter in listing["parameters"]}
    assert set(parameters) == {
        "vehicle_id",
        "search",
        "limit",
        "page",
        "count",
        "as_of",
        "known_at",
        "attributes",
        "includes",
        "filters",
        "sort",
    }
    for name in ("includes", "filters", "sort"):
        assert parameters[name]["schema"]["x-json-schema"]["type"] == "object"
    assert parameters["limit"]["schema"]["maximum"] == 100

    create = paths["/v2/vehicles/associations/devices"]["post"]
    assert "Vehicle Already Has Main Device" in create["responses"]["400"]["description"]
    assert "Vehicle Not Found" in create["responses"]["404"]["description"]
    assert "application/problem+json" in create["responses"]["404"]["content"]
    assert "201" in paths["/v2/chips"]["post"]["responses"]
    assert "204" in paths["/v2/chips/{chip_id}"]["delete"]["responses"]
