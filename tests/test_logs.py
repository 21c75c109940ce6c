"""Logs as operators read them: JSON lines for machines (no colour-coded duplicates), readable lines
on a terminal or with FLEETREG_LOG_FORMAT=text."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import httpx

from fleetreg.logs import JsonFormatter, TextFormatter, formatter_for
from tests.support.processes import served


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("fleetreg.access", logging.INFO, __file__, 1, "GET /healthz 200", None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_lines_leave_out_a_servers_colour_coded_copy_of_the_message() -> None:
    line = json.loads(JsonFormatter().format(_record(color_message="\x1b[32mGET\x1b[0m", request_id="r1")))
    assert line["message"] == "GET /healthz 200"
    assert line["request_id"] == "r1"
    assert "color_message" not in line


def test_text_lines_read_as_a_sentence_with_the_fields_after_it() -> None:
    line = TextFormatter().format(_record(request_id="r1", status=200))
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} INFO    fleetreg\.access  GET /healthz 200  request_id=r1 status=200", line
    )


def test_auto_is_json_unless_stderr_is_a_terminal() -> None:
    # pytest captures stderr: not a terminal
    assert formatter_for("auto").endswith("JsonFormatter")
    assert formatter_for("text").endswith("TextFormatter")
    assert formatter_for("json").endswith("JsonFormatter")


def test_a_served_fleetreg_logs_text_when_asked(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with served(database_url, tmp_path / "data", output=log, log_format="text", log_level="info") as server:
        httpx.get(f"{server.base}/healthz", headers={"x-request-id": "text-log-1"}, timeout=30)
    lines = log.read_text().splitlines()
    (access,) = [line for line in lines if "request_id=text-log-1" in line]
    assert not access.startswith("{"), access
    assert " INFO " in access, access
