"""A token bucket per client, per worker process (N workers allow N times the rate in total)."""

from __future__ import annotations

import math
import time


class RateLimiter:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.burst = max(1.0, 2 * rate)
        self._buckets: dict[str, tuple[float, float]] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def retry_after(self, client_id: str) -> int | None:
        """Take one token for the client: None when allowed, else the seconds to wait."""
        now = time.monotonic()
        tokens, last = self._buckets.get(client_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[client_id] = (tokens - 1, now)
            return None
        self._buckets[client_id] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self.rate))
