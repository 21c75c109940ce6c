"""The exception handlers: every error leaves the app as ``application/problem+json``."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fleetreg.problems import (
    PROBLEM_JSON,
    AppError,
    BadRequest,
    MalformedJson,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
)
from fleetreg.web import PATH_PARAMETER_NAMES


def problem_response(error: AppError, path: str | None) -> Response:
    return Response(error.body(path), status_code=error.status, media_type=PROBLEM_JSON, headers=error.headers or None)


def _pointer(parts: tuple[Any, ...]) -> str:
    # RFC 6901: "~" and "/" inside a member name are escaped.
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


_MESSAGES = {
    "extra_forbidden": "unknown member",
    "missing": "required",
}


def validation_problem(exc: RequestValidationError) -> AppError:
    """A FastAPI/Pydantic validation failure as a 400 problem naming each offending part."""
    errors: list[dict[str, str]] = []
    for error in exc.errors():
        kind = error.get("type", "")
        location = tuple(error.get("loc", ()))
        if kind == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            position = location[1] if len(location) > 1 else "?"
            return MalformedJson(f"the body is not valid JSON: {reason} at character {position}")
        detail = _MESSAGES.get(kind, error.get("msg", "invalid"))
        if kind == "value_error" and "error" in (error.get("ctx") or {}):
            detail = str(error["ctx"]["error"])  # the validator's own words, without "Value error, "
        source, rest = (location[0], location[1:]) if location else ("body", ())
        if source == "body":
            if not rest and kind == "missing":
                detail = "a JSON body is required"
            elif not rest and kind in ("model_attributes_type", "dict_type"):
                detail = "the body must be a JSON object"
            errors.append({"pointer": _pointer(rest), "detail": detail})
        else:
            name = str(rest[0]) if rest else str(source)
            if source == "path":
                name = PATH_PARAMETER_NAMES.get(name, name)
            errors.append({"parameter": name, "detail": detail})
    return BadRequest.from_errors(errors)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(exc, request.url.path)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_problem(exc), request.url.path)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: AppError
    if exc.status_code == 404:
        error = NotFound(f"no resource at {request.method} {request.url.path}")
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        error = MethodNotAllowed(f"{request.method} is not allowed here; use {allowed}", headers={"Allow": allowed})
    elif exc.status_code == 413:
        error = PayloadTooLarge()
    elif exc.status_code == 400:
        error = BadRequest(str(exc.detail))
    else:
        error = _StatusProblem(exc.status_code, str(exc.detail))
    return problem_response(error, request.url.path)


class _StatusProblem(AppError):
    """A status the framework raised that has no problem type of its own: RFC 9457's about:blank."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status  # type: ignore[misc]

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        problem = super().to_problem(instance)
        problem.update(type="about:blank", title=HTTPStatus(self.status).phrase)
        return problem


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
