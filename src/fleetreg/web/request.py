"""The request an endpoint sees: its scope, headers looked up without building a dict, its body."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fleetreg.problems import PayloadTooLarge, RequestTimeout

if TYPE_CHECKING:
    from fleetreg.web.asgi import Receive, Scope
    from fleetreg.web.routing import Route

# A client that sends nothing for this long in the middle of its body is given up on.
BODY_IDLE_SECONDS = 30.0


class ClientGone(Exception):
    """The client closed the connection before its request was whole: nobody to answer."""


class Request:
    __slots__ = (
        "_body",
        "app",
        "caller",
        "max_body_bytes",
        "path_params",
        "receive",
        "request_id",
        "route",
        "scope",
        "template",
    )

    def __init__(self, scope: Scope, receive: Receive, app: Any, request_id: str, max_body_bytes: int) -> None:
        self.scope = scope
        self.receive = receive
        self.app = app
        self.request_id = request_id
        self.max_body_bytes = max_body_bytes
        self.route: Route | None = None
        self.template: str | None = None
        """The path template the request matched, with or without a route for its method (405, OPTIONS)."""
        self.path_params: dict[str, str] = {}
        self.caller: Any = None
        self._body: bytes | None = None

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method

    @property
    def path(self) -> str:
        path: str = self.scope["path"]
        return path

    @property
    def state(self) -> Any:
        """The application's state: its database, auth, settings (set up by its lifespan)."""
        return self.app.state

    def header(self, name: bytes) -> str | None:
        """The first value of header ``name`` (lower case), or None."""
        for key, value in self.scope["headers"]:
            if key == name:
                return bytes(value).decode("latin-1")
        return None

    def header_values(self, name: bytes) -> list[str]:
        return [bytes(value).decode("latin-1") for key, value in self.scope["headers"] if key == name]

    @property
    def client_host(self) -> str | None:
        client = self.scope.get("client")
        return str(client[0]) if client else None

    def client_address(self) -> str | None:
        """The client's address: the peer's, or when the peer is a trusted proxy (the app's
        ``config.trusted_proxies``) the last address its X-Forwarded-For names that is not itself a
        trusted proxy (the one the nearest proxy saw). From any other peer the header is a claim."""
        peer = self.client_host
        trusted: frozenset[str] = self.app.config.trusted_proxies
        if peer not in trusted:
            return peer
        hops = [hop.strip() for hop in ",".join(self.header_values(b"x-forwarded-for")).split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in trusted:
                return hop[:64]
        return hops[0][:64] if hops else peer

    async def body(self) -> bytes:
        """The whole body, at most ``max_body_bytes`` (else 413); ``ClientGone`` when the client
        leaves before sending it whole; 408 when it goes silent for 30 seconds."""
        if self._body is not None:
            return self._body
        chunks: list[bytes] = []
        received = 0
        while True:
            try:
                message = await asyncio.wait_for(self.receive(), BODY_IDLE_SECONDS)
            except TimeoutError:
                raise RequestTimeout(
                    f"nothing arrived for {BODY_IDLE_SECONDS:g} seconds", headers={"Connection": "close"}
                ) from None
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body_bytes:
                raise too_large(self.max_body_bytes)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self._body = b"".join(chunks)
        return self._body


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {limit} bytes", headers={"Connection": "close"})
