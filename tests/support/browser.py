"""A real browser for the tests: Playwright for Python driving Debian's chromium.

Playwright's own browser download cannot work on these machines (only package registries are
reached), so the browser is Debian's ``chromium``, given to Playwright by ``executable_path``. When it
is missing and the tests run as root (CI, a developer's container) it is installed with apt-get, once,
under a lock shared by the pytest-xdist workers; otherwise the test fails saying how to install it.
Browser tests are never skipped.

Fixtures (registered by tests/conftest.py):
- ``served_app``: ``fleetreg serve`` in a subprocess against the test's database (``.base`` its URL);
- ``new_browser``: ``await new_browser(base_url)`` opens a headless chromium with a fresh profile of
  its own (its own cookies), closed when the test ends;
- ``page``: a page of a new browser whose relative URLs go to ``served_app``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright

from tests.support.processes import Served, served

CHROMIUM = Path("/usr/bin/chromium")
DEBIAN_PACKAGE = "chromium"

# Headless, and nothing the browser would do by itself: no GPU, no sandbox (root in a container has
# none to give), no network of its own (updates, sync, QUIC probes), no first-run pages.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# A busy machine (two cores for the whole suite) can take seconds to lay out a page.
ACTION_TIMEOUT_MS = 20_000

NewBrowser = Callable[[str], Awaitable[BrowserContext]]


def _install_chromium() -> None:
    """apt-get install chromium, by one process at a time (the others wait, then find it there)."""
    lock_path = Path(tempfile.gettempdir()) / "fleetreg-chromium-install.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if CHROMIUM.exists():
            return
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]
        subprocess.run([*apt, "update"], check=True, env=env, stdin=subprocess.DEVNULL)
        subprocess.run(
            [*apt, "install", "--no-install-recommends", DEBIAN_PACKAGE],
            check=True,
            env=env,
            stdin=subprocess.DEVNULL,
        )


def chromium_executable() -> Path:
    """Debian's chromium, installed first when missing and root; pytest.fail when it cannot be."""
    if not CHROMIUM.exists():
        if os.geteuid() != 0:
            pytest.fail(
                f"the browser tests need Debian's chromium at {CHROMIUM}: "
                f"run `sudo apt-get install {DEBIAN_PACKAGE}` (as root the tests install it themselves)",
                pytrace=False,
            )
        _install_chromium()
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed {DEBIAN_PACKAGE} but {CHROMIUM} is not there", pytrace=False)
    return CHROMIUM


@pytest.fixture
def served_app(database_url: str, tmp_path: Path) -> Iterator[Served]:
    """``fleetreg serve`` against the test's database, ready; stopped when the test ends."""
    with served(database_url, tmp_path / "served-data", output=tmp_path / "server.log") as server:
        yield server


@pytest.fixture
async def new_browser(tmp_path: Path) -> AsyncIterator[NewBrowser]:
    """``await new_browser(base_url)``: a headless chromium (a browser context) with a fresh profile
    directory of its own, so that two of them are two people; all closed when the test ends."""
    executable = chromium_executable()
    async with async_playwright() as playwright, contextlib.AsyncExitStack() as browsers:
        profiles = 0

        async def open_browser(base_url: str) -> BrowserContext:
            nonlocal profiles
            profiles += 1
            profile = tmp_path / f"chromium-profile-{profiles}"
            shutil.rmtree(profile, ignore_errors=True)
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                headless=True,
                args=list(CHROMIUM_ARGS),
                base_url=base_url,
                viewport={"width": 1280, "height": 800},
            )
            browsers.push_async_callback(context.close)
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            return context

        yield open_browser


@pytest.fixture
async def page(new_browser: NewBrowser, served_app: Served) -> Page:
    """A page of a fresh browser; ``page.goto("/docs")`` opens the served app's /docs."""
    context = await new_browser(served_app.base)
    return context.pages[0] if context.pages else await context.new_page()
