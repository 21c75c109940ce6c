"""What keeps ``POST /oauth/token`` from being a free argon2 oracle: bounded hashing, failure limits.

An argon2 verification costs ~50 ms of CPU and 64 MiB of memory (argon2-cffi's defaults, which
``clients.HASHER`` uses). Run on asyncio's default executor, a flood ran as many at once as it has
threads, each thread keeping its own 64 MiB arena: 64 concurrent requests with unknown client ids
grew a worker from 99 to 483 MiB, and the token p50 went to 3 s. Here:

- ``HashingGate``: at most ``concurrency`` verifications at once per process (one per core but
  one, so that a flood leaves a core to the requests that need no hashing: measured in bench/, with
  one per core a 64-request flood took a reader's p50 from 1.7 ms to 45 ms), on threads of its
  own; a bounded number more wait their turn, those of existing clients ahead of the unknown ids;
  past that the request is refused at once with a ``Retry-After`` instead of queueing without bound.
  Memory stays at most ``concurrency`` x 64 MiB however many requests come.
- ``FailureLimiter``: failed attempts per key as a token bucket (a burst, then one per interval).
  ``TokenGuard`` keeps one per client id (wrong secrets for a known client) and one per address
  (unknown client ids, wrong secrets); a key over its limit is refused before any hashing. A known
  client with the right secret is held only by its own id's limit, so a flood of unknown ids from an
  address does not lock out the good clients behind the same proxy or NAT.
- In flight: at most ``max_in_flight`` verifications per client id (known) or per address (unknown
  ids) at once. Failures are counted when a hash ends, so without this a burst of slow attempts all
  got in before the first of them counted. Identical attempts (one client id, one secret) made at
  once share one verification (``TokenGuard.verify_once``): a partner's processes starting together
  and each asking for a token are one hash, not refused past the limit.

- Refusals slowed: a refused attempt is answered after ``refusal_delay`` (at most ``max_held``
  held at once per process, the others answered at once). A flood that ignores ``Retry-After``
  then gets a few answers a second per connection, not thousands: at 64 connections, the worker
  answered ~4,700 refusals a second, and that work, not hashing, was what slowed the other
  clients' reads.

These limits are per worker process (N workers allow N times as much): they bound what each process
spends; the request rate limit (``ratelimit.RateLimiter``) is one for every instance.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class TooManyAttempts(Exception):
    """Refused before hashing: too many failures for this client id or address, or too many
    verifications waiting. ``retry_after``: whole seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def hashing_concurrency() -> int:
    """Verifications at once per process: one per core but one (at least one)."""
    return max(1, _cores() - 1)


class HashingGate:
    """At most ``concurrency`` verifications at once; the others wait, those of known clients first
    (a flood of unknown ids must not keep the real clients out), at most ``max_waiting`` of each kind
    (twice as many for known clients); past that, ``TooManyAttempts`` at once."""

    def __init__(self, concurrency: int, max_waiting: int) -> None:
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self._running = 0
        # Threads of its own, as many as may hash at once: few threads, few 64 MiB arenas.
        self._threads = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")
        # Waiters by kind: a waiter's future is resolved when a slot is handed to it.
        self._known: deque[asyncio.Future[None]] = deque()
        self._unknown: deque[asyncio.Future[None]] = deque()

    async def run(self, function: Callable[..., T], *args: object, known: bool = False) -> T:
        """``function(*args)`` on one of the process's argon2 threads, when a slot is free."""
        if self._running < self.concurrency:
            self._running += 1
        else:
            await self._wait_for_a_slot(known)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, function, *args)
        finally:
            self._hand_on()

    async def _wait_for_a_slot(self, known: bool) -> None:
        queue = self._known if known else self._unknown
        if len(queue) >= self.max_waiting * (2 if known else 1):
            raise TooManyAttempts("too many client authentications at once; retry shortly", 1)
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(slot)
        try:
            await slot
        except BaseException:
            if slot.done() and not slot.cancelled():
                self._hand_on()  # handed a slot in the same turn as it was cancelled: pass it on
            else:
                queue.remove(slot)
            raise

    def _hand_on(self) -> None:
        """A verification ended: its slot goes to the oldest known waiter, else to the oldest other."""
        for queue in (self._known, self._unknown):
            while queue:
                slot = queue.popleft()
                if not slot.done():
                    slot.set_result(None)
                    return
        self._running -= 1


class FailureLimiter:
    """Up to ``burst`` failures per key, then one more every ``interval`` seconds."""

    def __init__(
        self, burst: int, interval: float, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.interval = interval
        self.max_keys = max_keys
        self.clock = clock
        # key -> (failures still allowed, when that was counted); least recently failed first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _allowance(self, key: str, now: float) -> float:
        allowed, since = self._buckets.get(key, (self.burst, now))
        return min(self.burst, allowed + (now - since) / self.interval)

    def retry_after(self, key: str) -> int | None:
        """None while ``key`` may fail again; else the seconds until it may."""
        if key not in self._buckets:
            return None
        allowed = self._allowance(key, self.clock())
        return None if allowed >= 1 else max(1, math.ceil((1 - allowed) * self.interval))

    def failed(self, key: str) -> None:
        now = self.clock()
        self._buckets[key] = (max(0.0, self._allowance(key, now) - 1), now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            # The least recently failed key goes: its memory is bounded, its limit forgotten.
            self._buckets.popitem(last=False)

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class TokenGuard:
    """The token endpoint's hashing gate and failure limits, one per worker process."""

    def __init__(
        self,
        *,
        concurrency: int | None = None,
        max_waiting: int = 16,
        max_in_flight: int = 2,
        client_failures: FailureLimiter | None = None,
        address_failures: FailureLimiter | None = None,
        refusal_delay: float = 0.5,
        max_held: int = 256,
    ) -> None:
        self.hashing = HashingGate(concurrency or hashing_concurrency(), max_waiting)
        self.refusal_delay = refusal_delay
        self.max_held = max_held
        self._held = 0
        self.max_in_flight = max_in_flight
        self._in_flight: Counter[str] = Counter()
        # (client id, SHA-256 of the secret) -> the verification running for that attempt
        self._verifying: dict[tuple[str, bytes], asyncio.Future[bool]] = {}
        # A client's own secret is rarely mistyped 5 times a minute; an address may hold many clients.
        self.client_failures = client_failures or FailureLimiter(burst=5, interval=12.0)
        self.address_failures = address_failures or FailureLimiter(burst=20, interval=3.0)

    def check(self, client_id: str, address: str | None, *, known: bool) -> None:
        """Refuse (``TooManyAttempts``) an attempt for ``client_id`` from ``address`` before hashing."""
        wait = self.client_failures.retry_after(client_id) if known else None
        if wait is not None:
            raise TooManyAttempts("too many failed attempts for this client; retry later", wait)
        if not known and address is not None:
            wait = self.address_failures.retry_after(address)
            if wait is not None:
                raise TooManyAttempts("too many failed attempts from this address; retry later", wait)

    def _take_a_flight(self, client_id: str, address: str | None, *, known: bool) -> str:
        """Count an attempt while its hashing runs; ``TooManyAttempts`` when its client id (known)
        or its address (an unknown id) has ``max_in_flight`` running already."""
        key = f"client {client_id}" if known or address is None else f"address {address}"
        if self._in_flight[key] >= self.max_in_flight:
            raise TooManyAttempts("too many authentications in progress for this client or address; retry shortly", 1)
        self._in_flight[key] += 1
        return key

    def _end_a_flight(self, key: str) -> None:
        self._in_flight[key] -= 1
        if not self._in_flight[key]:
            del self._in_flight[key]

    async def verify_once(
        self, client_id: str, secret: str, address: str | None, *, known: bool, verify: Callable[[], Awaitable[bool]]
    ) -> bool:
        """``verify()``, checked and counted in flight, or the outcome of the identical attempt that
        is running already. It runs as a task of its own: a caller that goes away (a client that hung
        up) does not cancel it for the others waiting on it."""
        attempt = (client_id, hashlib.sha256(secret.encode(errors="surrogatepass")).digest())
        running = self._verifying.get(attempt)
        if running is None:
            self.check(client_id, address, known=known)
            key = self._take_a_flight(client_id, address, known=known)
            running = self._verifying[attempt] = asyncio.ensure_future(verify())

            def ended(task: asyncio.Future[bool]) -> None:
                del self._verifying[attempt]
                self._end_a_flight(key)
                if not task.cancelled():
                    task.exception()  # retrieved: every caller may have gone away

            running.add_done_callback(ended)
        return await asyncio.shield(running)

    async def hold_back(self) -> None:
        """Wait ``refusal_delay`` before a refusal is answered, unless ``max_held`` wait already."""
        if self._held >= self.max_held:
            return
        self._held += 1
        try:
            await asyncio.sleep(self.refusal_delay)
        finally:
            self._held -= 1

    def record(self, client_id: str, address: str | None, *, known: bool, succeeded: bool) -> None:
        if succeeded:
            self.client_failures.forget(client_id)
            return
        if known:
            self.client_failures.failed(client_id)
        if address is not None:
            self.address_failures.failed(address)
