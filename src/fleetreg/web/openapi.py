"""The OpenAPI 3.1 document, made from the route declarations: what is declared is what is checked.

Each operation lists its parameters (path, query, deep objects), its body (the Pydantic model's JSON
schema, with an example), its success responses, and its problems: those it declares, and the
statuses every operation of its kind shares (400 for a bad parameter or body; 401, 403 and 429 when
it needs a token; 404 with path parameters; 413, 414 and 431 for a request too large; 415 with a
body; 503 when it uses the database; 500 always), each as ``application/problem+json`` with the
``Problem`` schema and one example per problem type it can be. Every response documents
``X-Request-ID``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from fleetreg.problems import (
    AppError,
    BadRequest,
    Forbidden,
    HeadersTooLarge,
    IdempotencyKeyReused,
    InternalError,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    RequestInProgress,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    UriTooLong,
)
from fleetreg.web.bodies import adapter
from fleetreg.web.params import MISSING
from fleetreg.web.routing import Documented, Route

REF = "#/components/schemas/{model}"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_MEDIA = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details. `type` resolves to a page explaining the error.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "examples": ["/problems/bad-request"]},
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
}

_STATUS_TEXT = {
    400: "Bad request: a parameter or body member is missing, unknown or invalid (`errors` lists them).",
    401: "Missing, malformed, expired or revoked token (`WWW-Authenticate` says which).",
    403: "The token lacks the scope this operation needs.",
    404: "Not found, or not visible to the caller.",
    405: "Method not allowed.",
    409: "Conflict with the current state.",
    412: "A precondition (`If-Match`) does not hold.",
    413: "Request body too large.",
    414: "The request line (path and query) is longer than 8 KiB.",
    431: "The request's headers add up to more than 16 KiB.",
    415: "The body must be application/json.",
    422: "A referenced resource does not exist.",
    429: "Rate limit exceeded; see `Retry-After`.",
    500: "Unexpected error (logged with the request id); nothing was changed.",
    503: "The database is unavailable; retry shortly.",
}


def _header(description: str, schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


_TEXT = {"type": "string"}
REQUEST_ID_HEADER = _header("The request's id: the client's X-Request-ID when short and plain, else a new one.", _TEXT)
ETAG_HEADER = _header("The resource's version (a strong ETag), for If-Match and If-None-Match.", _TEXT)
REPLAYED_HEADER = _header(
    "true when this is the stored answer of an earlier request with the same Idempotency-Key.",
    {"type": "string", "enum": ["true"]},
    required=False,
)
_HEADER_PARAMETERS = {
    "Idempotency-Key": {
        "description": "Makes a retry safe: a repeat with the same key (same caller, method, path and body, within "
        "24 hours) gets the first answer again, with Idempotent-Replayed: true. 1 to 255 printable ASCII "
        'characters, bare or as a quoted string ("...").',
        "schema": {"type": "string", "minLength": 1, "maxLength": 257},
    },
    "If-Match": {
        "description": "Only if the resource is at this version (its ETag; * for any): otherwise 412 with the "
        "current etag.",
        "schema": {"type": "string"},
    },
    "If-None-Match": {
        "description": "304 Not Modified when the resource is still at this version (its ETag).",
        "schema": {"type": "string"},
    },
}
_STATUS_HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    201: {"Location": _header("The created resource (when one was created).", _TEXT, required=False)},
    401: {"WWW-Authenticate": _header("The challenge; its error says what was wrong with the credentials.", _TEXT)},
    403: {"WWW-Authenticate": _header("Names the scope the token lacks.", _TEXT, required=False)},
    405: {"Allow": _header("The methods the path takes.", _TEXT)},
    429: {"Retry-After": _header("Seconds to wait before the next request.", {"type": "integer", "minimum": 1})},
}


def build(
    routes: Iterable[Route],
    *,
    title: str,
    version: str,
    description: str,
    license: Mapping[str, str],
    security_schemes: Mapping[str, dict[str, Any]],
    settings: Any,
    without_database: Sequence[str] = (),
) -> dict[str, Any]:
    """The document for ``routes`` (those ``include_in_schema``) under the app's ``settings``."""
    documented = [route for route in routes if route.include_in_schema]
    schemas = _component_schemas(documented)
    paths: dict[str, dict[str, Any]] = {}
    used_schemes: set[str] = set()
    for route in documented:
        operation = _operation(route, settings, schemas.refs, schemas.definitions, route.path not in without_database)
        for requirement in operation.get("security", []):
            used_schemes.update(requirement)
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    components: dict[str, Any] = {"schemas": {**schemas.definitions, "Problem": PROBLEM_SCHEMA}}
    schemes = {name: scheme for name, scheme in security_schemes.items() if name in used_schemes}
    if schemes:
        components["securitySchemes"] = schemes
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description, "license": dict(license)},
        # Relative: the operations are on the host that serves the document, wherever it runs.
        "servers": [{"url": "/", "description": "This service"}],
        "paths": paths,
        "components": components,
    }


class _Schemas:
    def __init__(self, refs: dict[tuple[Any, str], dict[str, Any]], definitions: dict[str, Any]) -> None:
        self.refs = refs
        self.definitions = definitions


Mode = Literal["validation", "serialization"]


def _models(routes: Sequence[Route]) -> list[tuple[type[BaseModel], Mode]]:
    wanted: dict[tuple[type[BaseModel], Mode], None] = {}
    for route in routes:
        if isinstance(route.body, type) and issubclass(route.body, BaseModel):
            wanted[(route.body, "validation")] = None
        for documented in route.responses.values():
            if isinstance(documented.model, type) and issubclass(documented.model, BaseModel):
                wanted[(documented.model, "serialization")] = None
    return list(wanted)


def _component_schemas(routes: Sequence[Route]) -> _Schemas:
    models = _models(routes)
    if not models:
        return _Schemas({}, {})
    refs, document = models_json_schema(models, ref_template=REF)
    mapped: dict[tuple[Any, str], dict[str, Any]] = dict(refs)  # type: ignore[arg-type]
    return _Schemas(mapped, dict(document.get("$defs", {})))


def _operation(
    route: Route,
    settings: Any,
    refs: Mapping[tuple[Any, str], dict[str, Any]],
    definitions: Mapping[str, Any],
    uses_database: bool,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": route.operation_id}
    if route.summary:
        operation["summary"] = route.summary
    if route.description:
        operation["description"] = route.description
    if route.tags:
        operation["tags"] = list(route.tags)
    parameters = _parameters(route)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = _request_body(route, refs, definitions)
    security = route.access.security(settings) if route.access is not None else None
    operation["security"] = security or []  # [] says it outright: no credentials needed
    operation["responses"] = _responses(route, refs, secured=bool(security), uses_database=uses_database)
    operation.update(route.openapi_extra)
    return operation


def _parameters(route: Route) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name, param in route.path_params.items():
        entry: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": param.openapi_schema()}
        if param.description:
            entry["description"] = param.description
        if param.example is not MISSING:
            entry["example"] = param.example
        parameters.append(entry)
    for name, param in route.query.items():
        entry = {"name": name, "in": "query", "required": False, "schema": param.openapi_schema()}
        if param.description:
            entry["description"] = param.description
        if param.repeatable:
            entry["style"], entry["explode"] = "form", True
        if param.example is not MISSING:
            entry["example"] = param.example
        parameters.append(entry)
    if route.deep is not None:
        parameters.extend(dict(parameter) for parameter in route.deep.parameters)
    headers = []
    if route.unit_of_work:
        headers.append("Idempotency-Key")
    if route.conditional:
        headers.append("If-None-Match" if route.method == "GET" else "If-Match")
    parameters += [{"name": name, "in": "header", "required": False, **_HEADER_PARAMETERS[name]} for name in headers]
    return parameters


def _schema_of(model: Any, mode: str, refs: Mapping[tuple[Any, str], dict[str, Any]]) -> dict[str, Any]:
    reference = refs.get((model, mode))
    if reference is not None:
        return dict(reference)
    return adapter(model).json_schema(ref_template=REF)


def _request_body(
    route: Route, refs: Mapping[tuple[Any, str], dict[str, Any]], definitions: Mapping[str, Any]
) -> dict[str, Any]:
    schema = _schema_of(route.body, "validation", refs)
    content: dict[str, Any] = {"schema": schema}
    example = route.body_example if route.body_example is not None else _model_example(route.body)
    content["example"] = example if example is not None else schema_example(schema, definitions)
    return {"required": True, "content": {"application/json": content}}


_FORMAT_EXAMPLES = {"date-time": "2026-12-01T09:30:00Z", "uuid": "497f6eca-6276-4993-bfeb-53cbbbba6f08"}


def schema_example(schema: Mapping[str, Any], definitions: Mapping[str, Any], depth: int = 0) -> Any:
    """An example of ``schema`` made of its members' own ``examples`` (a body without one of its own):
    every property but an optional id, the first branch of a union that is not null, a one-item array.
    A string member with neither example nor format is its title, a readable placeholder (a test checks
    each example against its model)."""
    if depth > 12:
        return None
    if "$ref" in schema:
        return schema_example(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions, depth + 1)
    if schema.get("examples"):
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for union in ("anyOf", "oneOf"):
        if union in schema:
            branch = next((item for item in schema[union] if item.get("type") != "null"), schema[union][0])
            return schema_example({"title": schema.get("title", "text"), **branch}, definitions, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        # An optional id is left out: a create then makes a new row each time it is tried, and a
        # change (whose id must be the path's) applies to the path's resource.
        required = schema.get("required", ())
        return {
            name: schema_example(member, definitions, depth + 1)
            for name, member in schema.get("properties", {}).items()
            if not member.get("readOnly") and (name != "id" or name in required)
        }
    if kind == "array":
        return [schema_example(schema.get("items", {}), definitions, depth + 1)]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "string":
        return _FORMAT_EXAMPLES.get(schema.get("format", ""), schema.get("title", "text"))
    return None


def _model_example(model: Any) -> Any:
    """The first of ``examples`` in a Pydantic model's ``json_schema_extra``, if it has one."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    extra: Any = model.model_config.get("json_schema_extra")
    listed = extra.get("examples") if isinstance(extra, dict) else None
    return listed[0] if isinstance(listed, list) and listed else None


def _documented(status: int, documented: Documented, refs: Mapping[tuple[Any, str], dict[str, Any]]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": documented.description}
    if status != 204:
        schema = documented.schema
        if schema is None and documented.model is not None:
            schema = _schema_of(documented.model, "serialization", refs)
        if schema is not None:
            media: dict[str, Any] = {"schema": schema}
            if documented.example is not None:
                media["example"] = documented.example
            response["content"] = {documented.media_type: media}
    headers = dict(documented.headers)
    if headers:
        response["headers"] = headers
    return response


def _responses(
    route: Route, refs: Mapping[tuple[Any, str], dict[str, Any]], *, secured: bool, uses_database: bool
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(status): _documented(status, documented, refs) for status, documented in sorted(route.responses.items())
    }
    problems: list[type[AppError]] = [BadRequest, *route.problems]
    if route.unit_of_work:
        problems += [RequestInProgress, IdempotencyKeyReused]
    if route.conditional and route.method != "GET":
        problems.append(PreconditionFailed)
    if route.conditional and route.method == "GET":
        responses["304"] = {"description": "Not Modified: the resource is at the version If-None-Match names."}
    if secured and route.access is not None:
        problems += [Unauthorized, Forbidden, TooManyRequests, *route.access.problems]
    if route.path_params:
        problems.append(NotFound)
    # Any request can be too big (a body past the limit, even on a GET; a request line past 8 KiB;
    # headers past 16 KiB): the web layer answers those before the operation runs.
    problems += [PayloadTooLarge, UriTooLong, HeadersTooLarge]
    if route.body is not None:
        problems.append(UnsupportedMediaType)
    if uses_database:
        problems.append(ServiceUnavailable)
    problems.append(InternalError)
    by_status: dict[int, list[type[AppError]]] = {}
    for problem in problems:
        listed = by_status.setdefault(problem.status, [])
        if problem not in listed:
            listed.append(problem)
    for status, kinds in sorted(by_status.items()):
        key = str(status)
        if key in responses:
            continue  # documented by the route itself (the token endpoint's RFC 6749 errors)
        specific = [kind for kind in kinds if kind.status == status and kind.slug not in _GENERIC_SLUGS]
        titles = [kind.title for kind in (specific or kinds)]
        description = _STATUS_TEXT.get(status, "Problem.")
        if specific:
            names = ", ".join(f"'{title}'" for title in dict.fromkeys(titles))
            description = ("One of: " if len(set(titles)) > 1 else "") + names
        responses[key] = {
            "description": description,
            "content": {PROBLEM_MEDIA: {"schema": PROBLEM_REF, "examples": _examples(kinds, route.path)}},
        }
    if route.default_response is not None:
        responses["default"] = {
            "description": route.default_response,
            "content": {PROBLEM_MEDIA: {"schema": PROBLEM_REF}},
        }
    for key, response in responses.items():
        headers = response.setdefault("headers", {})
        headers.update(_STATUS_HEADERS.get(int(key), {}) if key.isdigit() else {})
        if route.conditional and key in ("200", "201", "304"):
            headers["ETag"] = ETAG_HEADER
        if route.unit_of_work:
            headers["Idempotent-Replayed"] = REPLAYED_HEADER
        headers["X-Request-ID"] = REQUEST_ID_HEADER
    return dict(sorted(responses.items()))


_GENERIC_SLUGS = frozenset({"bad-request", "not-found", "internal-error", "service-unavailable"})


def _examples(kinds: Sequence[type[AppError]], path: str) -> dict[str, Any]:
    """One example problem per type the status can be, as the service renders it."""
    return {
        kind.slug: {"summary": kind.title, "value": kind().to_problem(path) | {"detail": kind.explanation()}}
        for kind in kinds
    }
