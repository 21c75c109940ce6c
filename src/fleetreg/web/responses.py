"""Responses: a status, headers and a body made in one piece, or streamed (Server-Sent Events)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from fleetreg.web.asgi import Headers

# Timestamps as RFC 3339 with "Z"; UUIDs, datetimes and dataclasses natively.
ORJSON_OPTIONS = orjson.OPT_UTC_Z
JSON = b"application/json"
PROBLEM_JSON = b"application/problem+json"
HTML = b"text/html; charset=utf-8"


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=ORJSON_OPTIONS)


class Response:
    """A whole response. ``headers`` are (lower-case name, value) byte pairs; content-type and
    content-length are added when it is sent."""

    __slots__ = ("body", "headers", "media_type", "status")

    def __init__(
        self,
        body: bytes = b"",
        status: int = 200,
        *,
        media_type: bytes | None = JSON,
        headers: Headers | None = None,
    ) -> None:
        self.body = body
        self.status = status
        self.media_type = media_type if body or status not in (204, 304) else None
        self.headers: Headers = headers if headers is not None else []

    def set_header(self, name: str, value: str) -> None:
        key = name.lower().encode("latin-1")
        self.headers = [(k, v) for k, v in self.headers if k != key]
        self.headers.append((key, value.encode("latin-1")))

    def header(self, name: str) -> str | None:
        key = name.lower().encode("latin-1")
        for k, v in self.headers:
            if k == key:
                return v.decode("latin-1")
        return None


class StreamingResponse:
    """A response whose body is produced piece by piece (Server-Sent Events, large exports)."""

    __slots__ = ("chunks", "headers", "media_type", "status")

    def __init__(
        self, chunks: AsyncIterator[bytes], status: int = 200, *, media_type: bytes, headers: Headers | None = None
    ) -> None:
        self.chunks = chunks
        self.status = status
        self.media_type = media_type
        self.headers: Headers = headers if headers is not None else []

    def set_header(self, name: str, value: str) -> None:
        key = name.lower().encode("latin-1")
        self.headers = [(k, v) for k, v in self.headers if k != key]
        self.headers.append((key, value.encode("latin-1")))


AnyResponse = Response | StreamingResponse


def json_response(value: Any, status: int = 200, *, headers: Headers | None = None) -> Response:
    return Response(dumps(value), status, headers=headers)


def no_content(status: int = 204) -> Response:
    return Response(b"", status, media_type=None)


def html_response(page: str, status: int = 200) -> Response:
    return Response(page.encode("utf-8"), status, media_type=HTML)
