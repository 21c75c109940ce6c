"""RFC 9457 problem answers, checked one way everywhere."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, title: str, **members: Any) -> dict[str, Any]:
    """A problem as docs/api.md describes it: this status (in the answer and the body) and title, a
    ``/problems/`` type, a detail, the request's path as instance, and each of ``members`` with the
    given value (``type="/problems/not-found"``, ``errors=[...]``). Returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] == title, body
    assert str(body["type"]).startswith("/problems/")
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    for name, value in members.items():
        assert body.get(name) == value, (name, body)
    return body


def assert_bad_request(response: httpx.Response, **where: str) -> dict[str, Any]:
    """A 400 naming the offending ``parameter=...`` or ``pointer=...`` among its ``errors``."""
    body = assert_problem(response, 400, "Bad Request")
    (kind, name), *_ = where.items()
    assert any(error.get(kind) == name for error in body["errors"]), body
    return body


def pointers(problem: dict[str, Any]) -> list[str]:
    """The JSON pointers named by a problem's ``errors``."""
    return [entry["pointer"] for entry in problem["errors"]]
