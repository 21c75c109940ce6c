"""Routes, declared beside their handlers, and the router that finds one for a request.

A route is a decorator on its handler::

    @routes.get(
        "/v2/customers/connectors/{connector-id}",
        operation_id="get_connector",
        access=partner_scope("connectors:read"),
        path={"connector-id": params.uuid_param(description="The identifier of the connector.")},
        responses={200: Connector},
        problems=(ConnectorNotFound,),
    )
    async def get_connector(request: Request, caller: Principal, connector_id: UUID) -> Response: ...

Everything the route declares is checked before the handler runs, in the order docs/partner-api.md
gives (unknown query parameters and a body that is not JSON first, then the caller, then the
parameters' values and the body), and the same declaration is what /openapi.json says of it. The
handler receives the request, the caller (``access``), each path and query parameter under its
Python name (``connector-id`` becomes ``connector_id``, or the parameter's ``alias``), the deep
objects under their ``argument`` and the validated body as ``body``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fleetreg.web.params import DeepObjects, Param

if TYPE_CHECKING:
    from fleetreg.problems import AppError
    from fleetreg.web.request import Request
    from fleetreg.web.responses import Response, StreamingResponse

Endpoint = Callable[..., Awaitable["Response | StreamingResponse"]]
# A problem answered as a page for people (HTML) instead of problem+json.
ErrorPage = Callable[["Request", "AppError"], "Response"]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Access:
    """Who may call an operation: ``resolve`` returns the caller or raises the 401/403/429 problem;
    ``security`` gives the OpenAPI security requirement under the app's settings (None: open)."""

    resolve: Callable[[Request], Awaitable[Any]]
    security: Callable[[Any], list[dict[str, list[str]]] | None]
    problems: tuple[type[AppError], ...] = ()


@dataclass(frozen=True)
class Documented:
    """A success response as OpenAPI shows it: a model (Pydantic) or a raw schema, and headers."""

    model: Any = None
    description: str = "OK"
    media_type: str = "application/json"
    schema: dict[str, Any] | None = None
    headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    example: Any = None


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    """The OpenAPI path template, e.g. ``/v2/customers/connectors/{connector-id}``."""
    endpoint: Endpoint
    operation_id: str
    summary: str
    description: str
    tags: tuple[str, ...]
    access: Access | None
    path_params: Mapping[str, Param]
    query: Mapping[str, Param]
    deep: DeepObjects | None
    body: Any
    """The body's type (a Pydantic model or a type a TypeAdapter takes), or None."""
    body_example: Any
    responses: Mapping[int, Documented]
    problems: tuple[type[AppError], ...]
    include_in_schema: bool
    oauth_errors: bool
    """The endpoint answers protocol errors itself, in RFC 6749's form (the token endpoint)."""
    openapi_extra: Mapping[str, Any]
    arguments: Mapping[str, str] = field(default_factory=dict)
    """Parameter name -> the endpoint's argument name."""
    default_response: str | None = None
    """OpenAPI's ``default`` response (a problem), with this description, as the original documents do."""
    unit_of_work: bool = False
    """The endpoint runs in one transaction with the request's actor and idempotency key (writes)."""
    conditional: bool = False
    """A single resource: its answers carry an ETag; If-Match (writes) and If-None-Match (GET) apply."""
    error_page: ErrorPage | None = None
    """How the route answers a problem when not with problem+json (the console's HTML pages)."""

    @property
    def takes_json(self) -> bool:
        return self.body is not None

    @property
    def read_only(self) -> bool:
        """A GET outside a unit of work: it writes nothing, so its reads may be served by a replica."""
        return self.method == "GET" and not self.unit_of_work


class Routes:
    """The routes of one module, in declaration order (the order OpenAPI lists them in)."""

    def __init__(
        self, *, tags: Sequence[str] = (), default_response: str | None = None, error_page: ErrorPage | None = None
    ) -> None:
        self.tags = tuple(tags)
        self.default_response = default_response
        self.error_page = error_page
        self.routes: list[Route] = []

    def get(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("DELETE", path, **options)

    def route(
        self,
        method: str,
        path: str,
        *,
        operation_id: str | None = None,
        summary: str = "",
        description: str | None = None,
        tags: Sequence[str] | None = None,
        access: Access | None = None,
        path_params: Mapping[str, Param] | None = None,
        query: Mapping[str, Param] | None = None,
        deep: DeepObjects | None = None,
        body: Any = None,
        body_example: Any = None,
        responses: Mapping[int, Any] | None = None,
        problems: Iterable[type[AppError]] = (),
        include_in_schema: bool = True,
        oauth_errors: bool = False,
        openapi_extra: Mapping[str, Any] | None = None,
        conditional: bool = False,
    ) -> Callable[[Endpoint], Endpoint]:
        def register(endpoint: Endpoint) -> Endpoint:
            self.add(
                method,
                path,
                endpoint,
                operation_id=operation_id or endpoint.__name__,
                summary=summary,
                description=inspect.cleandoc(endpoint.__doc__ or "") if description is None else description,
                tags=tags,
                access=access,
                path_params=path_params,
                query=query,
                deep=deep,
                body=body,
                body_example=body_example,
                responses=responses,
                problems=problems,
                include_in_schema=include_in_schema,
                oauth_errors=oauth_errors,
                openapi_extra=openapi_extra,
                conditional=conditional,
            )
            return endpoint

        return register

    def add(
        self,
        method: str,
        path: str,
        endpoint: Endpoint,
        *,
        operation_id: str,
        summary: str = "",
        description: str = "",
        tags: Sequence[str] | None = None,
        access: Access | None = None,
        path_params: Mapping[str, Param] | None = None,
        query: Mapping[str, Param] | None = None,
        deep: DeepObjects | None = None,
        body: Any = None,
        body_example: Any = None,
        responses: Mapping[int, Any] | None = None,
        problems: Iterable[type[AppError]] = (),
        include_in_schema: bool = True,
        oauth_errors: bool = False,
        openapi_extra: Mapping[str, Any] | None = None,
        conditional: bool = False,
    ) -> Route:
        """Declare a route for an endpoint made elsewhere (one per fleet kind, say)."""
        if method not in METHODS:
            raise ValueError(f"unsupported method {method}")
        path_params = dict(path_params or {})
        names = template_parameters(path)
        if set(names) != set(path_params):
            raise ValueError(f"{method} {path}: declare the path parameters {names}, not {sorted(path_params)}")
        query = dict(query or {})
        arguments = {name: param.alias or python_name(name) for name, param in {**path_params, **query}.items()}
        route = Route(
            method=method,
            path=path,
            endpoint=endpoint,
            operation_id=operation_id,
            summary=summary,
            description=description,
            tags=tuple(tags) if tags is not None else self.tags,
            access=access,
            path_params=path_params,
            query=query,
            deep=deep,
            body=body,
            body_example=body_example,
            responses={status: _documented(value) for status, value in (responses or {}).items()},
            problems=tuple(problems),
            include_in_schema=include_in_schema,
            oauth_errors=oauth_errors,
            openapi_extra=dict(openapi_extra or {}),
            arguments=arguments,
            default_response=self.default_response,
            unit_of_work=method in WRITE_METHODS and not oauth_errors,
            conditional=conditional,
            error_page=self.error_page,
        )
        self.routes.append(route)
        return route


def _documented(value: Any) -> Documented:
    return value if isinstance(value, Documented) else Documented(model=value)


def python_name(name: str) -> str:
    return name.replace("-", "_")


def template_parameters(path: str) -> list[str]:
    return [segment[1:-1] for segment in path.split("/") if segment.startswith("{") and segment.endswith("}")]


# -- matching ------------------------------------------------------------------------------------------


@dataclass
class PathEntry:
    """One path template and the routes of its methods."""

    template: str
    methods: dict[str, Route] = field(default_factory=dict)

    @property
    def allow(self) -> str:
        """What ``Allow`` says: every method of the path, HEAD with GET, and OPTIONS."""
        methods = list(self.methods)
        if "GET" in methods:
            methods.insert(methods.index("GET") + 1, "HEAD")
        return ", ".join([*methods, "OPTIONS"])


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    parameter: tuple[str, _Node] | None = None
    entry: PathEntry | None = None


class Router:
    """Finds the path template of a request path: a dict lookup for paths without parameters, a walk
    of a segment tree (literal segments before parameters) for the others."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.static: dict[str, PathEntry] = {}
        self._root = _Node()
        self.entries: list[PathEntry] = []
        for route in routes:
            entry = self._entry(route.path)
            if route.method in entry.methods:
                raise ValueError(f"{route.method} {route.path} is declared twice")
            entry.methods[route.method] = route

    def _entry(self, template: str) -> PathEntry:
        if "{" not in template:
            if template not in self.static:
                self.static[template] = PathEntry(template)
                self.entries.append(self.static[template])
            return self.static[template]
        node = self._root
        for segment in template.strip("/").split("/"):
            if segment.startswith("{"):
                name = segment[1:-1]
                if node.parameter is None:
                    node.parameter = (name, _Node())
                elif node.parameter[0] != name:
                    raise ValueError(f"{template}: parameter {name} where another route has {node.parameter[0]}")
                node = node.parameter[1]
            else:
                node = node.literals.setdefault(segment, _Node())
        if node.entry is None:
            node.entry = PathEntry(template)
            self.entries.append(node.entry)
        return node.entry

    def match(self, path: str) -> tuple[PathEntry, dict[str, str]] | None:
        entry = self.static.get(path)
        if entry is not None:
            return entry, {}
        if not path.startswith("/"):
            return None
        segments = path[1:].split("/")
        # Depth-first, a literal segment before a parameter; a parameter never matches "".
        stack: list[tuple[_Node, int, tuple[tuple[str, str], ...]]] = [(self._root, 0, ())]
        while stack:
            node, at, values = stack.pop()
            if at == len(segments):
                if node.entry is not None:
                    return node.entry, dict(values)
                continue
            segment = segments[at]
            if node.parameter is not None and segment:
                name, child = node.parameter
                stack.append((child, at + 1, (*values, (name, segment))))
            literal = node.literals.get(segment)
            if literal is not None:
                stack.append((literal, at + 1, values))
        return None
