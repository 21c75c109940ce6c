"""/openapi.json describes every operation completely, and the API it describes is docs/api.md's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from fleetreg.fleet import formats
from fleetreg.fleet.associations.parameters import ObjectParameters, parse_object_parameters
from tests.support.app import App, MakeApp, documented_routes, openapi_of

# Every operation of docs/api.md (sections 2, 3 and 4), with its parameters: path parameter names are
# the original documents' (connector-id), query parameters those docs/api.md lists.
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
    ("post", "/v2/vehicles/{vehicle_id}/associations/devices/{association_id}/replace"): {
        "vehicle_id", "association_id",
    },
    ("get", "/v2/vehicles/{vehicle_id}/associations/devices"): {
        "vehicle_id", "attributes", "includes", "filters", "search", "limit", "page", "count", "sort", "as_of",
        "known_at",
    },
    ("get", "/v2/devices/{device_id}/associations"): {"device_id", "as_of", "known_at", "limit", "page", "count"},
    # docs/api.md §5
    ("get", "/v2/events"): {"after", "limit", "type", "subject_id", "wait"},
    ("get", "/v2/events/stream"): {"type", "subject_id"},
    ("post", "/v2/webhooks"): set(),
    ("get", "/v2/webhooks"): set(),
    ("get", "/v2/webhooks/{webhook_id}"): {"webhook_id"},
    ("patch", "/v2/webhooks/{webhook_id}"): {"webhook_id"},
    ("delete", "/v2/webhooks/{webhook_id}"): {"webhook_id"},
    ("post", "/v2/webhooks/{webhook_id}/rotate-secret"): {"webhook_id"},
    ("get", "/v2/webhooks/{webhook_id}/deliveries"): {"webhook_id"},
    ("post", "/v2/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): {"webhook_id", "delivery_id"},
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


def test_every_route_is_documented(app: App) -> None:
    documented = operations(openapi_of(app))
    api_routes = documented_routes(app)
    assert len(api_routes) >= 35
    for route in api_routes:
        for method in route.methods:
            operation = documented.get((method.lower(), route.path))
            assert operation is not None, f"{method} {route.path}"
            if route.body_model is not None:
                body = operation["requestBody"]
                assert body["required"] is True, (method, route.path)
                assert body["content"]["application/json"]["schema"], (method, route.path)


def _schemas_in(value: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(value, dict):
        found.append(value)
        for member in value.values():
            found.extend(_schemas_in(member))
    elif isinstance(value, list):
        for member in value:
            found.extend(_schemas_in(member))
    return found


def test_every_response_has_a_media_type_and_a_schema(openapi: dict[str, Any]) -> None:
    for (method, path), operation in operations(openapi).items():
        for status, response in operation["responses"].items():
            if status in ("204", "304"):
                assert "content" not in response, (method, path)
                continue
            assert response.get("content"), (method, path, status)
            for media_type, content in response["content"].items():
                assert content.get("schema"), (method, path, status, media_type)
    # A $ref with siblings is ANDed with them in OpenAPI 3.1: {"type": "string", "$ref": ...} refused
    # every fleet document until JSONBytes became a JSONResponse.
    for schema in _schemas_in(openapi):
        if "$ref" in schema:
            assert set(schema) <= {"$ref", "description", "title"}, schema


def test_request_members_say_their_lengths_and_patterns(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    vehicle = schemas["VehicleAttributes"]["properties"]
    assert vehicle["enterprise_id"]["pattern"] == "^[A-Za-z0-9]{15}$"
    assert (vehicle["name"]["minLength"], vehicle["name"]["maxLength"]) == (1, 200)
    device = schemas["DeviceAttributes"]["properties"]
    assert device["imei"]["pattern"] == "^[0-9]{15}$"
    assert (device["code"]["minLength"], device["code"]["maxLength"]) == (1, 100)
    chip = schemas["ChipAttributes"]["properties"]
    assert chip["serial"]["pattern"] == "^[0-9]{19,20}$"
    assert chip["number"]["pattern"] == r"^\+[1-9][0-9]{1,14}$"
    assert "pattern" in schemas["EnterpriseAttributes"]["properties"]["cnpj"]
    assert schemas["NewConnector"]["properties"]["pin"]["anyOf"][0]["pattern"] == "^[0-9]{5}$"
    # a patch may leave a member out; only plate, vin and a chip's device_id may be null
    changes = schemas["VehicleChanges"]["properties"]
    assert changes["name"]["type"] == "string"
    assert "anyOf" not in changes["name"]
    assert {"type": "null"} in changes["plate"]["anyOf"]
    assert schemas["AssociationChanges"]["properties"]["is_main_device"]["type"] == "boolean"


def test_examples_are_values_the_service_accepts(openapi: dict[str, Any]) -> None:
    checks = {
        "cnpj": formats.normalize_cnpj,
        "imei": formats.check_imei,
        "serial": formats.check_iccid,
        "number": formats.check_e164,
        "vin": formats.normalize_vin,
    }
    seen = set()
    for schema in openapi["components"]["schemas"].values():
        for name, member in schema.get("properties", {}).items():
            for variant in [member, *member.get("anyOf", [])]:
                for example in variant.get("examples", []):
                    if name in checks:
                        checks[name](example)  # raises ValueError for an example it would refuse
                        seen.add(name)
    assert seen == set(checks)


def test_operations_and_parameters_are_api_mds(openapi: dict[str, Any]) -> None:
    documented = operations(openapi)
    assert set(documented) == set(CONTRACT), {
        "missing": sorted(set(CONTRACT) - set(documented)),
        "not in docs/api.md": sorted(set(documented) - set(CONTRACT)),
    }
    for key, expected in CONTRACT.items():
        parameters = documented[key].get("parameters", [])
        names = {parameter["name"] for parameter in parameters if parameter["in"] != "header"}
        assert names == expected, key


# The single resources of docs/api.md §6 (conditional requests), by (method, path).
SINGLE_RESOURCES = {
    (method, path)
    for (method, path) in CONTRACT
    if path.endswith(("{connector-id}", "{customer-id}", "_id}")) and "associations" not in path
}


def test_safe_write_headers_are_documented(openapi: dict[str, Any]) -> None:
    """docs/api.md §6: Idempotency-Key on every write of both APIs; If-Match on a single resource's writes,
    If-None-Match on its GET, and its ETag in the answers."""
    for (method, path), operation in operations(openapi).items():
        headers = {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"}
        api = path.startswith("/v2/")
        if api and method in ("post", "put", "patch", "delete"):
            assert "Idempotency-Key" in headers, (method, path)
            assert {"409", "422"} <= set(operation["responses"]), (method, path)
        if (method, path) in SINGLE_RESOURCES:
            assert ("If-None-Match" if method == "get" else "If-Match") in headers, (method, path)
            success = operation["responses"]["200" if method in ("get", "put", "patch") else "204"]
            if method != "delete":
                assert "ETag" in success["headers"], (method, path)
            assert ("304" if method == "get" else "412") in operation["responses"], (method, path)
    assert "Idempotency-Key" not in {p["name"] for p in openapi["paths"]["/oauth/token"]["post"].get("parameters", [])}


def test_object_parameters_are_described_as_generic_tools_send_them(openapi: dict[str, Any]) -> None:
    """attributes as a repeated parameter, the three objects as one JSON string each, with an example
    the service accepts (the bracket forms stay accepted, undescribed: see fleetreg.fleet.associations.parameters)."""
    listing = openapi["paths"]["/v2/vehicles/{vehicle_id}/associations/devices"]["get"]
    by_name = {parameter["name"]: parameter for parameter in listing["parameters"]}
    attributes = by_name["attributes"]
    assert (attributes["style"], attributes["explode"], attributes["schema"]["type"]) == ("form", True, "array")
    for name in ("includes", "filters", "sort"):
        schema = by_name[name]["schema"]
        assert schema["type"] == "string", name
        assert "contentMediaType" not in schema, name  # Swagger UI would offer a file upload
        assert schema["x-json-schema"]["type"] == "object", name
        assert parse_object_parameters([(name, by_name[name]["example"])]) != ObjectParameters(), name
    assert "example" not in by_name["as_of"]  # a fixed instant pre-filled by Swagger UI would show the past


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


async def test_fleet_api_security_follows_the_setting(openapi: dict[str, Any], make_app: MakeApp) -> None:
    fleet = ("post", "/v2/vehicles/associations/devices")
    assert operations(openapi)[fleet]["security"] == []  # open: no credentials
    assert "FleetClientCredentials" not in openapi["components"].get("securitySchemes", {})
    secured = openapi_of(await make_app(fleet_auth="required"))
    assert operations(secured)[fleet]["security"] == [{"FleetClientCredentials": ["fleet:write"]}]
    assert operations(secured)[("get", "/v2/chips")]["security"] == [{"FleetClientCredentials": ["fleet:read"]}]
    flow = secured["components"]["securitySchemes"]["FleetClientCredentials"]["flows"]["clientCredentials"]
    assert (flow["tokenUrl"], set(flow["scopes"])) == ("/oauth/token", {"fleet:read", "fleet:write"})


def test_response_headers_are_documented(openapi: dict[str, Any]) -> None:
    for (method, path), operation in operations(openapi).items():
        for status, response in operation["responses"].items():
            headers = response["headers"]
            assert headers["X-Request-ID"]["required"] is True, (method, path, status)
            if status == "401":
                assert headers["WWW-Authenticate"]["required"] is True, (method, path)
            if status == "429":
                assert headers["Retry-After"]["schema"]["type"] == "integer", (method, path)
    created = operations(openapi)[("post", "/v2/customers/connectors")]["responses"]["201"]
    assert "Location" in created["headers"]


async def test_every_request_body_has_an_example_its_model_accepts(make_app: MakeApp) -> None:
    app = await make_app()
    document = operations(openapi_of(app))
    checked = 0
    for route in documented_routes(app):
        for method in route.methods:
            body = document[(method.lower(), route.path)].get("requestBody")
            if body is None:
                continue
            for media, content in body["content"].items():
                assert "example" in content or "examples" in content, (method, route.path, media)
            if route.body_model is not None:
                TypeAdapter(route.body_model).validate_python(body["content"]["application/json"]["example"])
                checked += 1
    assert checked >= 15


def test_problems_have_examples_of_their_own_titles(openapi: dict[str, Any]) -> None:
    """Swagger UI shows each error as the route's real problem, not a sample made from the schema."""
    assert "additionalProperties" not in openapi["components"]["schemas"]["Problem"]
    for (method, path), operation in operations(openapi).items():
        for status, response in operation["responses"].items():
            problem = response.get("content", {}).get("application/problem+json")
            if problem is None or status == "default":
                continue
            for example in problem["examples"].values():
                assert example["value"]["status"] == int(status), (method, path, status)
                assert example["value"]["title"] == example["summary"], (method, path, status)
