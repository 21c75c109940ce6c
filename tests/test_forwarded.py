"""The client's address behind a reverse proxy: X-Forwarded-For counts only when the peer is a
trusted proxy (FLEETREG_TRUSTED_PROXIES, 127.0.0.1 and ::1 by default), as uvicorn's proxy headers did;
Granian passes the header on untouched, so the app reads it (``web.request.Request.client_address``,
which the access log and the token endpoint's per-address limits use)."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from fleetreg.web.app import WebConfig
from fleetreg.web.request import Request
from tests.support.processes import FLEETREG, environment, free_port, wait_ready


class _App:
    config = WebConfig(trusted_proxies=frozenset({"127.0.0.1", "10.0.0.2"}))


def scope(peer: str, *forwarded: str) -> dict[str, Any]:
    return {"client": (peer, 5555), "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded]}


@pytest.mark.parametrize(
    ("request_scope", "client"),
    [
        (scope("127.0.0.1", "203.0.113.9"), "203.0.113.9"),
        (scope("127.0.0.1", "198.51.100.1, 203.0.113.9"), "203.0.113.9"),  # the hop our proxy saw
        (scope("127.0.0.1", "203.0.113.9, 10.0.0.2"), "203.0.113.9"),  # through two proxies of ours
        (scope("127.0.0.1", "198.51.100.1", "203.0.113.9"), "203.0.113.9"),  # two headers: one list
        (scope("127.0.0.1", "10.0.0.2"), "10.0.0.2"),  # only proxies: the farthest
        (scope("127.0.0.1"), "127.0.0.1"),
        (scope("127.0.0.1", " , "), "127.0.0.1"),
        (scope("192.0.2.7", "203.0.113.9"), "192.0.2.7"),  # not a proxy of ours: the header is a claim
    ],
)
def test_client_address(request_scope: dict[str, Any], client: str) -> None:
    request = Request(request_scope, receive=None, app=_App(), request_id="r", max_body_bytes=0)  # type: ignore[arg-type]
    assert request.client_address() == client


@pytest.mark.slow
@pytest.mark.parametrize(("trusted", "client"), [(None, "203.0.113.9"), ("192.0.2.1", "127.0.0.1:")])
def test_the_access_log_of_serve_names_the_forwarded_client(
    database_url: str, tmp_path: Path, trusted: str | None, client: str
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    settings = {"FLEETREG_TRUSTED_PROXIES": trusted} if trusted else {}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*FLEETREG, "serve", "--port", str(port)],
            env=environment(FLEETREG_DATABASE_URL=database_url, FLEETREG_DATA_DIR=str(tmp_path / "data"), **settings),
            stderr=sink,
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}", process)
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
            assert response.status_code == 200
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    [access] = [line for line in lines if line.get("logger") == "fleetreg.access" and line["path"] == "/healthz"]
    assert access["client"].startswith(client), access
