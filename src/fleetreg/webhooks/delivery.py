"""The delivery task of every ``fleetreg serve`` process: fan new events out to webhooks, claim due
deliveries, POST them signed, record each attempt. The processes share the work through PostgreSQL
(migration 0010: rows locked FOR UPDATE SKIP LOCKED, deliveries leased), so there is no broker and
no attempt is made twice at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from fleetreg.db import Database
from fleetreg.events.feed import EventSignal
from fleetreg.webhooks import queries, signing, urls

log = logging.getLogger("fleetreg.webhooks")

FAN_OUT_BATCH = 1000
CLAIM_BATCH = 20
CONCURRENT_ATTEMPTS = 8
TIMEOUT_SECONDS = 10.0
GIVE_UP_AFTER_SECONDS = 3 * 24 * 3600
IDLE_SECONDS = 1.0
# Growing delays between attempts (the first retry 5 s after a failure), then every 12 hours until
# three days after the delivery was made.
RETRY_DELAYS = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200)


def next_delay(failed_attempts: int, age_seconds: float) -> float | None:
    """Seconds until the next attempt after ``failed_attempts`` failures, or None: give up."""
    delay = RETRY_DELAYS[min(failed_attempts, len(RETRY_DELAYS)) - 1]
    if age_seconds + delay > GIVE_UP_AFTER_SECONDS:
        return None
    return float(delay)


class Dispatcher:
    def __init__(self, db: Database, signal: EventSignal, *, allow_private: bool) -> None:
        self.db = db
        self.signal = signal
        self.allow_private = allow_private
        self._task: asyncio.Task[None] | None = None
        self._attempts: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_ATTEMPTS)
        self._http: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False)
        self._task = asyncio.create_task(self._run(), name="webhook-deliveries")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for attempt in list(self._attempts):
            attempt.cancel()
        await asyncio.gather(*self._attempts, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is down or restarting: try again shortly
                log.warning("webhook deliveries: %s", error)
                busy = False
            if busy is None:
                # No webhook: commits need not wake this task (each wake-up costs every process two
                # queries per committed write); a webhook made meanwhile is seen within the second.
                await asyncio.sleep(IDLE_SECONDS)
            elif not busy:
                await self.signal.wait(IDLE_SECONDS)

    async def step(self) -> bool | None:
        """One round: fan out, claim what is due and start attempting it. Whether there was work;
        None when no webhook is enabled (then there is none)."""
        if not await self.db.fetchval(queries.ANY_WEBHOOK_ENABLED):
            return None
        fanned = await self.db.fetchrow(queries.FAN_OUT, FAN_OUT_BATCH)
        claimed = []
        free = CONCURRENT_ATTEMPTS - len(self._attempts)
        if free > 0:
            lease = uuid.uuid4()
            claimed = await self.db.fetch(queries.CLAIM, min(free, CLAIM_BATCH), lease)
        for delivery in claimed:
            attempt = asyncio.create_task(self._attempt({**delivery, "lease": lease}))
            self._attempts.add(attempt)
            attempt.add_done_callback(self._attempts.discard)
        return bool(claimed) or bool(fanned and fanned["deliveries"])

    async def _attempt(self, delivery: dict[str, Any]) -> None:
        async with self._slots:
            started = time.monotonic()
            at = datetime.now(UTC)
            status, error = await self._post(delivery)
            duration_ms = round((time.monotonic() - started) * 1000)
        delivered = status is not None and 200 <= status < 300
        attempt = {"at": at, "status_code": status, "duration_ms": duration_ms, "error": error}
        delay = None
        if not delivered:
            failures = 1 + await self._failures_so_far(delivery["id"])
            age = (at - delivery["created_at"]).total_seconds()
            delay = next_delay(failures, age)
        try:
            arguments = (
                delivery["id"],
                delivery["lease"],
                orjson.dumps(attempt, option=orjson.OPT_UTC_Z).decode(),
                delivered,
                delay,
            )
            await self.db.write(lambda connection: connection.execute(queries.RECORD_ATTEMPT, *arguments))
        except Exception as failure:  # the lease expires and the delivery is attempted again
            log.warning("webhook deliveries: recording an attempt failed: %s", failure)
        if delivered:
            self.signal.notify()  # a subject's next delivery may be due now

    async def _failures_so_far(self, delivery_id: uuid.UUID) -> int:
        count: int = await self.db.fetchval(
            "SELECT jsonb_array_length(attempts) FROM webhook_deliveries WHERE id = $1", delivery_id
        )
        return count or 0

    async def _post(self, delivery: dict[str, Any]) -> tuple[int | None, str | None]:
        """(status code, error): the receiver's answer, or why there was none."""
        assert self._http is not None
        try:
            target = await urls.resolve(urls.parse(delivery["url"]), self.allow_private)
        except (urls.WebhookUrlNotAllowed, LookupError) as refused:
            return None, str(refused.detail if isinstance(refused, urls.WebhookUrlNotAllowed) else refused)
        body = delivery["body"].encode()
        secrets = [delivery["secret"]] + ([delivery["previous_secret"]] if delivery["previous_secret"] else [])
        headers = signing.headers(secrets, delivery["event_id"], int(time.time()), body)
        # Connect to the address just checked, naming the host in Host and in TLS (SNI, certificate).
        address = target.address or target.host
        host = f"[{address}]" if ":" in address else address
        default_port = 443 if target.scheme == "https" else 80
        headers["host"] = target.host if target.port == default_port else f"{target.host}:{target.port}"
        url = f"{target.scheme}://{host}:{target.port}{target.path}"
        try:
            response = await self._http.post(
                url, content=body, headers=headers, extensions={"sni_hostname": target.host}
            )
        except httpx.TimeoutException:
            return None, f"no answer within {TIMEOUT_SECONDS:g} s"
        except httpx.HTTPError as failure:
            return None, f"{type(failure).__name__}: {failure}"[:200]
        return response.status_code, None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
