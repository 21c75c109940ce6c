"""Events render times exactly as the API does (``api_time`` in SQL, orjson with ``OPT_UTC_Z`` in
the API): with and without a fraction, with trailing zeros in it, before 1970 and in other zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import orjson
import pytest

from fleetreg.web.responses import ORJSON_OPTIONS

TIMES = [
    datetime(2026, 12, 2, 13, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 2, 13, 0, 0, 120000, tzinfo=UTC),
    datetime(2026, 12, 2, 13, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 12, 2, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-3))),
    datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC),
    datetime(2000, 2, 29, 0, 0, 0, 500000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]


@pytest.mark.parametrize("moment", TIMES, ids=lambda moment: moment.isoformat())
async def test_api_time_is_the_apis_rendering(db: asyncpg.Connection, moment: datetime) -> None:
    expected = orjson.loads(orjson.dumps(moment.astimezone(UTC), option=ORJSON_OPTIONS))
    assert await db.fetchval("SELECT api_time($1)", moment) == expected


async def test_the_render_functions_inline_api_time(db: asyncpg.Connection) -> None:
    """A call of an SQL function per time rendered cost the outbox a third of its time (migration
    0016): ``api_time`` must stay inlinable (no stronger volatility than its body)."""
    plan = "\n".join(
        row[0]
        for row in await db.fetch("EXPLAIN VERBOSE SELECT render_device_associations(a) FROM device_associations a")
    )
    assert "json_build_object" in plan
    assert "to_char" in plan
    assert "api_time" not in plan
