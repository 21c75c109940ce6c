"""A clock the test moves by hand, for what depends on time (token expiry) without sleeping."""

from __future__ import annotations

import time


class FakeClock:
    """Called like ``time.time``; starts at the real time and moves only by ``advance``."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
