"""A webhook receiver for the tests: an HTTP/1.1 server on 127.0.0.1 that records every request
and answers each with the next status of its script (then 200)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    port: int = 0
    statuses: list[int] = field(default_factory=list)
    """Answers, in order, to the first requests; 200 after them."""
    received: list[Received] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def delivered(self) -> list[Received]:
        return [request for request in self.received if 200 <= request.status < 300]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self.statuses.pop(0) if self.statuses else 200
                self.received.append(Received(headers, body, status))
                writer.write(b"HTTP/1.1 %d X\r\ncontent-length: 0\r\n\r\n" % status)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def receiving(statuses: list[int] | None = None, port: int = 0) -> AsyncIterator[Receiver]:
    receiver = Receiver(statuses=list(statuses or []))
    receiver.server = await asyncio.start_server(receiver._serve, "127.0.0.1", port)
    receiver.port = receiver.server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        receiver.server.close()
