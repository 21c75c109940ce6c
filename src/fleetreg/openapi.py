"""The OpenAPI document, made to say what the service does.

FastAPI documents request validation as 422 with its own schema; fleetreg answers 400 with an RFC
9457 problem. This rewrites every operation's responses: the documented ones keep their schemas,
problems are ``application/problem+json`` with the ``Problem`` schema, and each operation lists the
statuses it can answer with (400 for bad parameters or bodies, 401/403/429 where a token is needed,
404 with path parameters, 413/415 with a body, 503 when the database is away, 500 always). The
fleet API's bearer requirement appears only when FLEETREG_FLEET_AUTH=required.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from fleetreg.problems import PROBLEM_JSON
from fleetreg.settings import Settings
from fleetreg.web import PATH_PARAMETER_NAMES

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details. `type` resolves to a page explaining the error.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "example": "/problems/bad-request"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Each offending parameter (by name) or body member (by JSON pointer).",
            "items": {
                "type": "object",
                "required": ["detail"],
                "properties": {
                    "parameter": {"type": "string"},
                    "pointer": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "Bad request: a parameter or body member is missing, unknown or invalid (`errors` lists them).",
    "401": "Missing, malformed, expired or revoked token (`WWW-Authenticate` says which).",
    "403": "The token lacks the scope this operation needs.",
    "404": "Not found, or not visible to the caller.",
    "405": "Method not allowed.",
    "409": "Conflict with the current state.",
    "413": "Request body too large.",
    "415": "The body must be application/json.",
    "422": "A referenced resource does not exist.",
    "429": "Rate limit exceeded; see `Retry-After`.",
    "500": "Unexpected error (logged with the request id); nothing was changed.",
    "503": "The database is unavailable; retry shortly.",
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _header(description: str, schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


_TEXT = {"type": "string"}
_REQUEST_ID = _header("The request's id: the client's X-Request-ID when short and plain, else a new one.", _TEXT)
# Headers that come with a status, whatever the operation.
_STATUS_HEADERS = {
    "201": {"Location": _header("The created resource (when one was created).", _TEXT, required=False)},
    "401": {"WWW-Authenticate": _header("The challenge; its error says what was wrong with the credentials.", _TEXT)},
    "403": {"WWW-Authenticate": _header("Names the scope the token lacks.", _TEXT, required=False)},
    "405": {"Allow": _header("The methods the path takes.", _TEXT)},
    "429": {"Retry-After": _header("Seconds to wait before the next request.", {"type": "integer", "minimum": 1})},
}
_FLEET_PREFIXES = ("/v2/enterprises", "/v2/vehicles", "/v2/devices", "/v2/chips")


def _problem_response(status: str, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or _DESCRIPTIONS.get(status, "Problem."),
        "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
    }


def _is_fleet(path: str) -> bool:
    return path.startswith(_FLEET_PREFIXES)


def _uses_database(path: str) -> bool:
    return path not in ("/healthz", "/.well-known/jwks.json", "/metrics")


def build_openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        servers=app.servers,
    )
    schema = deepcopy(schema)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    fleet_secured = settings.fleet_auth == "required"

    schema["paths"] = {_contract_path(path): item for path, item in schema.get("paths", {}).items()}
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    parameter["name"] = PATH_PARAMETER_NAMES.get(parameter["name"], parameter["name"])
            if _is_fleet(path) and not fleet_secured:
                operation.pop("security", None)
            responses: dict[str, Any] = operation["responses"]
            if _only_validation(responses.get("422")):
                del responses["422"]
            # RFC 6749 errors of the token endpoint are application/json, as its route documents them.
            oauth_errors = {"400", "401"} if path == "/oauth/token" else set()
            for status, response in responses.items():
                if status.startswith(("4", "5")) and status not in oauth_errors:
                    response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
            needed = {"500"}
            if operation.get("parameters") or operation.get("requestBody"):
                needed.add("400")
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                needed.add("404")
            if operation.get("requestBody"):
                needed |= {"413", "415"} if path != "/oauth/token" else {"413"}
            if operation.get("security"):
                needed |= {"401", "403", "429"}
            if _uses_database(path):
                needed.add("503")
            needed.add("400")  # an unknown query parameter is refused on every operation
            for status in sorted(needed):
                responses.setdefault(status, _problem_response(status))
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                headers.update(_STATUS_HEADERS.get(status, {}))
                headers["X-Request-ID"] = _REQUEST_ID
    if not fleet_secured:
        components.get("securitySchemes", {}).pop("FleetBearer", None)
    return schema


def _contract_path(path: str) -> str:
    for name, contract_name in PATH_PARAMETER_NAMES.items():
        path = path.replace("{" + name + "}", "{" + contract_name + "}")
    return path


def _only_validation(response: dict[str, Any] | None) -> bool:
    """True for the 422 FastAPI adds by itself (request validation), not a 422 a route documents."""
    if response is None:
        return False
    content = response.get("content", {}).get("application/json", {})
    reference: str = content.get("schema", {}).get("$ref", "")
    return reference.endswith("/HTTPValidationError")


def install_openapi(app: FastAPI, settings: Settings) -> None:
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if "schema" not in cached:
            cached["schema"] = build_openapi(app, settings)
        schema: dict[str, Any] = cached["schema"]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
