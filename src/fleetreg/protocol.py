"""uvicorn's httptools protocol, with each response leaving in one write, and the connector reads'
fast lane answered without the ASGI round.

uvicorn writes a response's head and its body with two ``transport.write`` calls, and uvloop sends
each at once: two system calls and, with TCP_NODELAY, two packets for every small JSON answer.
Measured (bench/README.md), that was a large share of a simple request's cost. Here the writes made
in one turn of the event loop are joined and sent together at the end of that turn.

A request the fast lane takes (``fleetreg.partner.fastlane``) is answered by ``_answer_directly``:
uvicorn's request cycle is kept (keep-alive, pipelining, disconnects and shutdown work as for any
request), but the ASGI application chain, the two ``send`` messages and their checks are skipped,
and the response is written as uvicorn would have written it (its default headers first, then
the lane's, ``connection: close`` when the connection is not kept alive).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from fleetreg.partner.fastlane import ConnectorReadFastLane


class _CorkedTransport:
    """A transport whose writes of one event-loop turn leave as one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._pending is None:
            self._pending = [bytes(data)]
            self._loop.call_soon(self._flush)
        else:
            self._pending.append(bytes(data))

    def write_whole(self, data: bytes) -> None:
        """A whole response, made in one piece: it leaves at once, unless writes of this turn wait
        (then it joins them, in order)."""
        if self._pending is None:
            self._transport.write(data)
        else:
            self._pending.append(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    _lane: ConnectorReadFastLane | None = None
    _proxy: ProxyHeadersMiddleware | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CorkedTransport(transport, self.loop))  # type: ignore[arg-type]
        self._lane, self._proxy = _fast_lane_of(self.app)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        lane = self._lane
        if (
            lane is not None
            and app is self.app  # not uvicorn's 503 for too many connections
            and not self.config.reset_contextvars
            and lane.takes(cycle.scope)  # type: ignore[arg-type]
        ):
            task = self.loop.create_task(self._answer_directly(lane, cycle))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)
        else:
            super()._start_asgi_task(cycle, app)

    async def _answer_directly(self, lane: ConnectorReadFastLane, cycle: RequestResponseCycle) -> None:
        scope: Any = cycle.scope
        if self._proxy is not None:
            _forwarded_client(self._proxy, scope)
        status, headers, body = await lane.answer(scope)
        if cycle.flow.write_paused and not cycle.disconnected:
            await cycle.flow.drain()
        if cycle.disconnected:
            return
        cycle.response_started = True
        if cycle.access_log:  # uvicorn's own line, when it is on (fleetreg serve turns it off)
            cycle.access_logger.info(
                '%s - "%s %s HTTP/%s" %d',
                get_client_addr(scope),
                scope["method"],
                get_path_with_query_string(scope),
                scope["http_version"],
                status,
            )
        content = [STATUS_LINE[status]]
        for name, value in (*cycle.default_headers, *headers):
            content += (name, b": ", value, b"\r\n")
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content += (b"\r\n", body)
        transport: Any = cycle.transport
        transport.write_whole(b"".join(content))
        cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            transport.close()
        cycle.on_response()


def _fast_lane_of(app: Any) -> tuple[ConnectorReadFastLane | None, ProxyHeadersMiddleware | None]:
    """The fast lane of the fleetreg app uvicorn serves, and the proxy-headers middleware around it
    (uvicorn's default); none when anything else wraps the app (uvicorn's trace logging, say)."""
    proxy = None
    if isinstance(app, ProxyHeadersMiddleware):
        proxy, app = app, app.app
    lane = getattr(app, "fast_lane", None)
    return (lane, proxy) if isinstance(lane, ConnectorReadFastLane) else (None, None)


def _forwarded_client(proxy: ProxyHeadersMiddleware, scope: Any) -> None:
    """The client address as ``ProxyHeadersMiddleware`` sets it for a trusted proxy (the access log
    names it); the scheme it also sets plays no part in the lane's answers."""
    client = scope.get("client")
    if (client[0] if client else None) not in proxy.trusted_hosts:
        return
    forwarded = [value for name, value in scope["headers"] if name == b"x-forwarded-for"]
    if forwarded:
        host, port = proxy.trusted_hosts.get_trusted_client_address(b", ".join(forwarded).decode("latin1"))
        if host:
            scope["client"] = (host, port)
