"""The one error hierarchy: every error the service answers with is an ``AppError`` rendered as RFC 9457.

Each concrete class has a stable ``type`` (``/problems/<slug>``, a page served by the app that
explains it), a ``title`` (for the original documents' errors exactly their message) and a
``status``. Services raise these; the handlers in ``fleetreg.errors`` render them.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import orjson

PROBLEM_JSON = "application/problem+json"

# slug -> class, filled by __init_subclass__: the catalogue behind /problems/{slug} and the docs.
CATALOGUE: dict[str, type[AppError]] = {}


class AppError(Exception):
    """Base of every error the API answers with."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal Server Error"
    headers: dict[str, str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "slug" in cls.__dict__:
            if cls.slug in CATALOGUE and CATALOGUE[cls.slug] is not cls:
                raise TypeError(f"problem slug {cls.slug!r} is used twice")
            CATALOGUE[cls.slug] = cls

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions
        self.headers = headers or {}

    @classmethod
    def type_uri(cls) -> str:
        return f"/problems/{cls.slug}"

    @classmethod
    def explanation(cls) -> str:
        return " ".join((cls.__doc__ or cls.title).split())

    @classmethod
    def itemized(cls, entries: list[dict[str, str]]) -> Self:
        """The error with ``errors`` naming every offending item (``pointer``, ``detail``); its
        detail summarizes theirs."""
        return cls(summarize([entry["detail"] for entry in entries]), errors=entries)

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        problem: dict[str, Any] = {"type": self.type_uri(), "title": self.title, "status": self.status}
        problem["detail"] = self.detail if self.detail is not None else self.explanation()
        if instance is not None:
            problem["instance"] = instance
        problem.update(self.extensions)
        return problem

    def body(self, instance: str | None = None) -> bytes:
        return orjson.dumps(self.to_problem(instance))


def entry(pointer: str, detail: str) -> dict[str, str]:
    """One entry of a problem's ``errors``: where in the body, and what is wrong there."""
    return {"pointer": pointer, "detail": detail}


def summarize(details: list[str], shown: int = 5) -> str:
    """The first ``shown`` details joined, and how many more there are: "a; b; and 3 more"."""
    text = "; ".join(details[:shown])
    return text + (f"; and {len(details) - shown} more" if len(details) > shown else "")


# -- generic request errors -----------------------------------------------------------------------


class BadRequest(AppError):
    """The request is malformed: a parameter or a member of the body is missing, unknown or invalid.
    The ``errors`` member lists each one with its ``parameter`` or JSON ``pointer``."""

    status = 400
    slug = "bad-request"
    title = "Bad Request"

    @classmethod
    def from_errors(cls, errors: list[dict[str, str]]) -> BadRequest:
        details = [f"{e.get('parameter', e.get('pointer', ''))}: {e['detail']}".lstrip(": ") for e in errors]
        return cls(summarize(details), errors=errors)


class MalformedJson(BadRequest):
    """The request body is not valid JSON (or not UTF-8)."""

    slug = "malformed-json"
    title = "Malformed JSON"


class DuplicateMember(BadRequest):
    """A member of a JSON object in the body is given twice (``{"customer_id": X, "customer_id":
    null}``): which one was meant cannot be told, so neither is taken. ``errors`` points at it."""

    slug = "duplicate-member"
    title = "Duplicate Member"


class AmbiguousAuthorization(BadRequest):
    """The request carries two ``Authorization`` headers: which one to honour cannot be told, so the
    request is refused whatever the route."""

    slug = "ambiguous-authorization"
    title = "Bad Request"


class UriTooLong(AppError):
    """The request line (path and query string) is longer than 8 KiB."""

    status = 414
    slug = "uri-too-long"
    title = "URI Too Long"


class HeadersTooLarge(AppError):
    """The request's header fields add up to more than 16 KiB."""

    status = 431
    slug = "headers-too-large"
    title = "Request Header Fields Too Large"


class RequestTimeout(AppError):
    """The client sent nothing for 30 seconds in the middle of its request; the connection is closed."""

    status = 408
    slug = "request-timeout"
    title = "Request Timeout"


class UnsupportedMediaType(AppError):
    """The request body must be sent as ``application/json``."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported Media Type"


class PayloadTooLarge(AppError):
    """The request body is larger than the service accepts (setting ``FLEETREG_MAX_BODY_BYTES``)."""

    status = 413
    slug = "payload-too-large"
    title = "Payload Too Large"


class NotFound(AppError):
    """No resource at this path, or none that the caller may see."""

    status = 404
    slug = "not-found"
    title = "Not Found"


class MethodNotAllowed(AppError):
    """The path exists but does not take this method; ``Allow`` lists the ones it takes."""

    status = 405
    slug = "method-not-allowed"
    title = "Method Not Allowed"


class Conflict(AppError):
    """The request conflicts with the current state of the resource."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class PreconditionFailed(AppError):
    """The ``If-Match`` header names another version of the resource than its current one: it was
    changed since the client read it. ``etag`` holds the current ETag; read the resource again,
    apply the change to what it is now, and send it with that ETag."""

    status = 412
    slug = "precondition-failed"
    title = "Precondition Failed"


class RequestInProgress(Conflict):
    """A request with this ``Idempotency-Key`` by the same caller is still running. Retry once it
    has been answered: the retry then gets its answer."""

    slug = "request-in-progress"
    title = "Request In Progress"


class Unprocessable(AppError):
    """The request is well-formed but refers to something that does not exist."""

    status = 422
    slug = "unprocessable"
    title = "Unprocessable Content"


class IdempotencyKeyReused(Unprocessable):
    """This ``Idempotency-Key`` was used by the same caller, within the last 24 hours, for another
    request (another method, path or body). Use a new key for a new request."""

    slug = "idempotency-key-reused"
    title = "Idempotency Key Reused"


class Unauthorized(AppError):
    """A valid bearer token is required: it is missing, malformed, expired, revoked or not signed by a
    trusted key. ``WWW-Authenticate`` says which."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


class Forbidden(AppError):
    """The token is valid but lacks the scope this operation needs."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class TooManyRequests(AppError):
    """The client sent more requests than its rate limit allows; retry after ``Retry-After`` seconds."""

    status = 429
    slug = "too-many-requests"
    title = "Too Many Requests"


class ServiceUnavailable(AppError):
    """The service cannot reach its database right now (or it answered too slowly). Retry shortly."""

    status = 503
    slug = "service-unavailable"
    title = "Service Unavailable"


class InternalError(AppError):
    """An unexpected error on the server. It has been logged with the request id; nothing was changed."""

    status = 500
    slug = "internal-error"
    title = "Internal Server Error"
