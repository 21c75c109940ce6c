"""HTTP routes of the event feed (docs/events.md): ``GET /v2/events`` and its Server-Sent Events stream."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fleetreg.auth.access import events_reader
from fleetreg.events import feed
from fleetreg.events.feed import CursorExpired, Filters, Reader
from fleetreg.problems import BadRequest
from fleetreg.web import Documented, Request, Response, Routes, StreamingResponse, params

routes = Routes()

EVENTS = "/v2/events"
CURSOR_DESCRIPTION = "A cursor from an earlier answer (`next_cursor`), or an event stream's `id`."

FILTERS = {
    "type": params.Param(
        feed.parse_type,
        {"type": "string", "enum": [*feed.TYPES, *feed.PREFIXES]},
        "Only events of these types (repeatable); `association.*` matches every type of that prefix.",
        repeatable=True,
        alias="event_type",
    ),
    "subject_id": params.text(max_length=200, description="Only the events of this resource: its history."),
}
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "sequence", "type", "occurred_at", "tenant", "actor", "subject", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^evt_[0-9A-Z]{26}$"},
        "sequence": {"type": "integer", "format": "int64"},
        "type": {"type": "string", "enum": list(feed.TYPES)},
        "occurred_at": {"type": "string", "format": "date-time"},
        "tenant": {"type": "object"},
        "actor": {"type": "object"},
        "subject": {"type": "object"},
        "data": {"type": "object", "properties": {"before": {}, "after": {}}},
    },
}
PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["data", "next_cursor", "has_more"],
    "properties": {
        "data": {"type": "array", "items": EVENT_SCHEMA},
        "next_cursor": {"type": "string"},
        "has_more": {"type": "boolean"},
    },
}


def _filters(event_type: list[str] | None, subject_id: str | None) -> Filters:
    return Filters(tuple(event_type or ()), subject_id)


@routes.get(
    EVENTS,
    operation_id="list_events",
    tags=["events"],
    summary="Follow the change events",
    access=events_reader(),
    query={
        "after": params.Param(
            feed.parse_cursor,
            {"type": "string", "pattern": "^[0-9]{1,19}$"},
            CURSOR_DESCRIPTION + " Absent: from the oldest kept.",
        ),
        "limit": params.integer(
            1, feed.LIMIT_MAX, default=feed.LIMIT_DEFAULT, description="Events per page, 1 to 1000."
        ),
        **FILTERS,
        "wait": params.integer(
            0, feed.WAIT_MAX, default=0, description="Seconds to wait for an event when there is none yet (long poll)."
        ),
    },
    responses={200: Documented(schema=PAGE_SCHEMA, description="A page of events, in `sequence` order.")},
    problems=(CursorExpired,),
)
async def list_events(
    request: Request,
    caller: Reader,
    after: int | None,
    limit: int,
    event_type: list[str] | None,
    subject_id: str | None,
    wait: int,
) -> Response:
    """The events the caller may see, in `sequence` (commit) order. Follow `next_cursor`: every event
    comes exactly once, in order, whatever commits concurrently; on an empty page it is the cursor to
    poll with next."""
    state = request.state
    page = await feed.wait_for_page(
        state.db, state.event_signal, caller, after, limit, _filters(event_type, subject_id), wait
    )
    return Response(page.body())


KEEP_ALIVE_SECONDS = 15.0
STREAM_PAGE = 100


@routes.get(
    f"{EVENTS}/stream",
    operation_id="stream_events",
    tags=["events"],
    summary="Stream the change events (Server-Sent Events)",
    access=events_reader(),
    query=FILTERS,
    responses={
        200: Documented(
            description="`text/event-stream`: each event's `id:` is its cursor and `data:` the event; "
            "a comment line every 15 s while idle. `Last-Event-ID` resumes after that cursor.",
            media_type="text/event-stream",
            schema={"type": "string"},
        )
    },
    problems=(CursorExpired,),
)
async def stream_events(
    request: Request, caller: Reader, event_type: list[str] | None, subject_id: str | None
) -> StreamingResponse:
    """The same events as `GET /v2/events`, pushed as they commit. Without `Last-Event-ID` the stream
    starts with the events committed from now on."""
    state = request.state
    filters = _filters(event_type, subject_id)
    resume = request.header(b"last-event-id")
    if resume is not None:
        try:
            cursor = feed.parse_cursor(resume.strip())
        except ValueError as error:
            raise BadRequest.from_errors([{"parameter": "Last-Event-ID", "detail": str(error)}]) from None
        await feed.read_page(state.db, caller, cursor, 1, filters)  # 410 now, not mid-stream
    else:
        cursor = await feed.horizon(state.db)
    chunks = _stream(state.db, state.event_signal, caller, cursor, filters)
    return StreamingResponse(
        chunks,
        media_type=b"text/event-stream",
        headers=[(b"cache-control", b"no-store"), (b"x-accel-buffering", b"no")],
    )


async def _stream(
    db: Any, signal: feed.EventSignal, reader: Reader, cursor: int, filters: Filters
) -> AsyncIterator[bytes]:
    yield b": fleetreg events\n\n"
    last_output = time.monotonic()
    while True:
        page, entries = await feed.read_page(db, reader, cursor, STREAM_PAGE, filters)
        cursor = page.next_cursor
        if entries:
            yield b"".join(b"id: %d\ndata: %b\n\n" % (entry.sequence, entry.body) for entry in entries)
            last_output = time.monotonic()
            if page.has_more:
                continue
        idle = time.monotonic() - last_output
        if idle >= KEEP_ALIVE_SECONDS:
            yield b": keep-alive\n\n"
            last_output, idle = time.monotonic(), 0.0
        await signal.wait(min(KEEP_ALIVE_SECONDS - idle, feed.REREAD_SECONDS))
