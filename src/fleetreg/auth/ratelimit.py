"""A token bucket per client, shared by every worker of every instance: in PostgreSQL (an UNLOGGED
table, one upsert per request) or, when ``FLEETREG_RATE_LIMIT_URL`` names one, in Redis (one script
call per request). Both count time by their server's clock, so instances whose clocks differ agree.
Costs per request are in docs/scaling.md.

A client may send ``burst`` (2 x rate) requests at once, then ``rate`` per second. A refused request
takes no token.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, Protocol

from fleetreg.auth import queries

if TYPE_CHECKING:
    from fleetreg.db import Database

log = logging.getLogger("fleetreg.auth")

# KEYS[1]: the client's bucket; ARGV: rate, burst. Returns {allowed (0/1), tokens left as a string}.
_REDIS_BUCKET = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
    tokens = tokens - 1
    allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, tostring(tokens)}
"""


class Buckets(Protocol):
    async def take(self, client_id: str) -> tuple[bool, float]:
        """Take a token for the client if it has one: (taken, tokens left)."""
        ...

    async def close(self) -> None: ...


class PostgresBuckets:
    def __init__(self, db: Database, rate: float, burst: float) -> None:
        self.db, self.rate, self.burst = db, rate, burst

    async def take(self, client_id: str) -> tuple[bool, float]:
        row = await self.db.fetchrow(queries.TAKE_RATE_TOKEN, client_id, self.rate, self.burst)
        assert row is not None
        return bool(row["allowed"]), float(row["tokens"])

    async def close(self) -> None:
        return None


class RedisBuckets:
    def __init__(self, url: str, rate: float, burst: float, timeout: float) -> None:
        import redis.asyncio

        self.rate, self.burst = rate, burst
        self.client: Any = redis.asyncio.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._script = self.client.register_script(_REDIS_BUCKET)

    async def take(self, client_id: str) -> tuple[bool, float]:
        allowed, tokens = await self._script(keys=[f"fleetreg:rate:{client_id}"], args=[self.rate, self.burst])
        return allowed == 1, float(tokens)

    async def close(self) -> None:
        await self.client.aclose()


class RateLimiter:
    def __init__(self, rate: float, buckets: Buckets | None = None) -> None:
        self.rate = rate
        self.burst = max(1.0, 2 * rate)
        self.buckets = buckets

    @classmethod
    def for_settings(cls, rate: float, db: Database, redis_url: str | None) -> RateLimiter:
        if rate <= 0:
            return cls(0)
        burst = max(1.0, 2 * rate)
        if redis_url is not None:
            return cls(rate, RedisBuckets(redis_url, rate, burst, db.timeout))
        return cls(rate, PostgresBuckets(db, rate, burst))

    @property
    def enabled(self) -> bool:
        return self.rate > 0 and self.buckets is not None

    async def retry_after(self, client_id: str) -> int | None:
        """Take one token for the client: None when allowed, else the seconds to wait."""
        assert self.buckets is not None
        try:
            taken, tokens = await self.buckets.take(client_id)
        except OSError as error:
            # Redis unreachable: the API stays up without its limit rather than down with it.
            log.warning("the rate limit's store is unreachable, requests are let through: %s", error)
            return None
        if taken:
            return None
        return max(1, math.ceil((1 - tokens) / self.rate))

    async def close(self) -> None:
        if self.buckets is not None:
            await self.buckets.close()
