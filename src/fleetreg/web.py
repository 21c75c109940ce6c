"""HTTP glue shared by every router: the strict route class and fast JSON responses."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

import orjson
from fastapi import Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from fleetreg.problems import BadRequest, UnsupportedMediaType

# Path parameters whose contract name is not an identifier (seed 000: /v2/customers/connectors/
# {connector-id}). Starlette's path templates take identifiers only, so routes use the identifier;
# /openapi.json and the problems' "parameter" use the contract's name.
PATH_PARAMETER_NAMES = {"connector_id": "connector-id", "customer_id": "customer-id"}

# Timestamps as RFC 3339 with "Z"; UUIDs, datetimes and dataclasses natively.
ORJSON_OPTIONS = orjson.OPT_UTC_Z


class JSONBytes(JSONResponse):
    """A response whose body is JSON built by the caller (with ``dumps``), not re-encoded by FastAPI.

    A JSONResponse, so that OpenAPI documents a route's ``response_class=JSONBytes`` by its model alone
    (for any other class FastAPI adds ``"type": "string"`` beside the model's ``$ref``)."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else dumps(content)


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=ORJSON_OPTIONS)


def json_response(value: Any, status_code: int = 200) -> JSONBytes:
    return JSONBytes(dumps(value), status_code=status_code)


def deep_object_params(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an endpoint as taking bracket-notation (OpenAPI ``deepObject``) parameters, e.g.
    ``filters[device.name][eq]=x``: keys ``name[...]`` are then allowed and left to the endpoint."""

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.__deep_object_params__ = frozenset(names)  # type: ignore[attr-defined]
        return endpoint

    return mark


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return any(_is_sequence(arg) for arg in typing.get_args(annotation))
    return origin in (list, set, frozenset, tuple, Sequence)


def _query_fields(dependant: Dependant) -> Iterable[tuple[str, bool]]:
    """(name, repeatable) of every query parameter of the endpoint and its dependencies."""
    for field in dependant.query_params:
        yield field.alias, _is_sequence(field.field_info.annotation)
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class StrictRoute(APIRoute):
    """An APIRoute that refuses what FastAPI would silently ignore.

    - an unknown query parameter, or a single-valued one given twice: 400 naming it;
    - a body that is not ``application/json`` on an operation that takes JSON: 415.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        fields = list(_query_fields(self.dependant))
        repeatable = {name for name, many in fields if many}
        single = {name for name, many in fields if not many} - repeatable
        deep: frozenset[str] = getattr(self.endpoint, "__deep_object_params__", frozenset())
        takes_json = self.body_field is not None and not isinstance(self.body_field.field_info, params.Form)

        async def strict_handler(request: Request) -> Response:
            if request.scope.get("query_string"):
                _check_query(request, single, repeatable, deep)
            if takes_json:
                content_type = request.headers.get("content-type")
                if content_type is not None and not _is_json(content_type):
                    raise UnsupportedMediaType(f"send the body as application/json, not {content_type}")
            return await handler(request)

        return strict_handler


def _check_query(request: Request, single: set[str], repeatable: set[str], deep: frozenset[str]) -> None:
    errors: list[dict[str, str]] = []
    seen: set[str] = set()
    for key, _ in request.query_params.multi_items():
        if key in single:
            if key in seen:
                errors.append({"parameter": key, "detail": "given more than once"})
            seen.add(key)
        elif key in repeatable or ("[" in key and key.split("[", 1)[0] in deep) or key in deep:
            continue
        else:
            errors.append({"parameter": key, "detail": "unknown parameter"})
    if errors:
        # One entry per parameter, in the order given.
        unique = list({(e["parameter"], e["detail"]): e for e in errors}.values())
        raise BadRequest.from_errors(unique)
