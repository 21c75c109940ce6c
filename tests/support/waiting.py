"""Waiting for a condition, with a deadline, instead of sleeping a fixed time.

A fixed sleep is either too short on a busy machine (the test fails) or too long on a quiet one (the
suite is slow). These poll the condition and fail with ``message`` when the deadline passes.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0


async def wait_until(
    condition: Callable[[], T | Awaitable[T]],
    message: str = "the condition did not hold",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.01,
) -> T:
    """Call ``condition`` (a function or a coroutine function) every ``interval`` seconds until it
    returns something true, and return that; AssertionError(``message``) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (waited {timeout} s)")
        await asyncio.sleep(interval)


def wait_until_sync(
    condition: Callable[[], T],
    message: str = "the condition did not hold",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.05,
) -> T:
    """``wait_until`` for code outside an event loop (subprocesses, threads)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (waited {timeout} s)")
        time.sleep(interval)
