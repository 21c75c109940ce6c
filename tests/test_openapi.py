"""/openapi.json describes every operation completely, and the API it describes is API.md's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from fleetreg.app import create_app
from fleetreg.settings import Settings

# Every operation of API.md (sections 2, 3 and 4), with its parameters: path parameter names are
# the seeds' (connector-id), query parameters those API.md lists.
CONTRACT: dict[tuple[str, str], set[str]] = {
    ("post", "/oauth/token"): set(),
    ("get", "/.well-known/jwks.json"): set(),
    ("get", "/healthz"): set(),
    ("get", "/readyz"): set(),
    ("get", "/metrics"): set(),
    # partner API
    ("get", "/v2/customers/connectors"): {"assigned", "customer_id", "name", "type", "limit", "offset"},
    ("post", "/v2/customers/connectors"): set(),
    ("get", "/v2/customers/connectors/{connector-id}"): {"connector-id"},
    ("put", "/v2/customers/connectors/{connector-id}"): {"connector-id"},
    ("delete", "/v2/customers/connectors/{connector-id}"): {"connector-id"},
    ("post", "/v2/customers"): set(),
    ("get", "/v2/customers"): {"name", "limit", "offset"},
    ("get", "/v2/customers/{customer-id}"): {"customer-id"},
    ("put", "/v2/customers/{customer-id}"): {"customer-id"},
    ("delete", "/v2/customers/{customer-id}"): {"customer-id"},
    # fleet API
    ("post", "/v2/vehicles/associations/devices"): set(),
    ("delete", "/v2/vehicles/associations/devices"): set(),
    ("patch", "/v2/vehicles/{vehicle_id}/associations/devices/{association_id}"): {"vehicle_id", "association_id"},
    ("get", "/v2/vehicles/{vehicle_id}/associations/devices"): {
        "vehicle_id", "attributes", "includes", "filters", "search", "limit", "page", "count", "sort", "as_of",
    },
    ("get", "/v2/devices/{device_id}/associations"): {"device_id", "as_of", "limit", "page", "count"},
}  # fmt: skip
for kind, key in (("enterprises", "enterprise_id"), ("vehicles", "vehicle_id"), ("devices", "device_id"),
                  ("chips", "chip_id")):  # fmt: skip
    listing = {"limit", "page", "count", "search"} | ({"enterprise_id"} if kind in ("vehicles", "devices") else set())
    CONTRACT[("post", f"/v2/{kind}")] = set()
    CONTRACT[("get", f"/v2/{kind}")] = listing
    for method in ("get", "patch", "delete"):
        CONTRACT[(method, f"/v2/{kind}/{{{key}}}")] = {key}


@pytest.fixture
async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_route_is_documented(app: FastAPI) -> None:
    documented = operations(app.openapi())
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods:
                assert (method.lower(), route.path_format) in documented, f"{method} {route.path_format}"


def test_operations_and_parameters_are_api_mds(openapi: dict[str, Any]) -> None:
    documented = operations(openapi)
    assert set(documented) == set(CONTRACT), {
        "missing": sorted(set(CONTRACT) - set(documented)),
        "not in API.md": sorted(set(documented) - set(CONTRACT)),
    }
    for key, expected in CONTRACT.items():
        names = {parameter["name"] for parameter in documented[key].get("parameters", [])}
        assert names == expected, key


def test_bracket_parameters_are_deep_objects(openapi: dict[str, Any]) -> None:
    listing = openapi["paths"]["/v2/vehicles/{vehicle_id}/associations/devices"]["get"]
    by_name = {parameter["name"]: parameter for parameter in listing["parameters"]}
    for name in ("includes", "filters", "sort"):
        assert by_name[name]["style"] == "deepObject", name
        assert by_name[name]["explode"] is True, name


def test_no_422_validation_responses_and_problems_everywhere(openapi: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    for (method, path), operation in operations(openapi).items():
        responses = operation["responses"]
        assert "500" in responses, (method, path)
        assert "400" in responses, (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")) and path != "/oauth/token":
                assert list(response["content"]) == ["application/problem+json"], (method, path, status)
            if status.startswith("2") and status != "204" and path not in ("/metrics",):
                assert response.get("content"), (method, path, status)
        if (method, path) == ("get", "/v2/customers/connectors/{connector-id}"):
            assert {"401", "403", "404"} <= set(responses)


def test_token_endpoint_documents_rfc6749(openapi: dict[str, Any]) -> None:
    token = openapi["paths"]["/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    assert list(token["responses"]["400"]["content"]) == ["application/json"]
    assert "error" in token["responses"]["401"]["content"]["application/json"]["schema"]["properties"]


def test_partner_api_is_oauth2_client_credentials(openapi: dict[str, Any]) -> None:
    scheme = openapi["components"]["securitySchemes"]["OAuth2ClientCredentials"]
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    connectors = openapi["paths"]["/v2/customers/connectors"]["get"]
    assert connectors["security"] == [{"OAuth2ClientCredentials": ["connectors:read"]}]


def test_fleet_api_security_follows_the_setting(openapi: dict[str, Any], settings: Settings, tmp_path: Path) -> None:
    fleet = ("post", "/v2/vehicles/associations/devices")
    assert "security" not in operations(openapi)[fleet]
    assert "FleetBearer" not in openapi["components"].get("securitySchemes", {})
    secured = create_app(settings.model_copy(update={"fleet_auth": "required"})).openapi()
    assert operations(secured)[fleet]["security"] == [{"FleetBearer": []}]
    assert secured["components"]["securitySchemes"]["FleetBearer"]["scheme"] == "bearer"
