"""How a read-only request's endpoint runs (``WebApp`` calls ``run_read`` for every GET outside a
unit of work): its reads may go to a streaming replica, unless its client wrote lately
(``Database.replica_reads`` decides, per read, from the client's last write and each replica's lag).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fleetreg.db import Database, writer_key
from fleetreg.web import Request
from fleetreg.web.responses import AnyResponse
from fleetreg.writes import actor_of


async def run_read(request: Request, endpoint: Callable[[], Awaitable[AnyResponse]]) -> AnyResponse:
    db: Database = request.state.db
    if not db.replicas:
        return await endpoint()
    with db.replica_reads(writer_key(actor_of(request))):
        return await endpoint()
