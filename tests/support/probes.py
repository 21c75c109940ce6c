"""Routes that exist only in tests, served by an app next to its own (``include_router``): they probe
what the web layer does for every route (strict parameters, body validation, problems, auth).

Declared with fleetreg's web kit, like the app's routes: when it changes, these change with it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fleetreg.auth.access import partner_scope
from fleetreg.auth.tokens import Principal
from fleetreg.problems import Conflict
from fleetreg.web import Request, Response, Routes, json_response, params

# -- auth: who is calling (tests/test_auth.py) ----------------------------------------------------

auth_probe = Routes()


@auth_probe.get("/probe/whoami", access=partner_scope("connectors:read"))
async def whoami(request: Request, caller: Principal) -> Response:
    return json_response({"client_id": caller.client_id, "partner_id": str(caller.partner_id)})


# -- errors: parameters, bodies, problems, crashes (tests/test_errors.py) -------------------------


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    count: int = Field(ge=0)


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item]


errors_probe = Routes()


@errors_probe.post("/probe/orders", body=Order)
async def create_order(request: Request, body: Order) -> Response:
    return json_response({"items": len(body.items)})


@errors_probe.get(
    "/probe/search", query={"limit": params.integer(0, 10, default=5), "tag": params.text(repeatable=True)}
)
async def search(request: Request, limit: int, tag: list[str] | None) -> Response:
    return json_response({"limit": limit, "tag": tag})


@errors_probe.get("/probe/conflict")
async def conflict(request: Request) -> Response:
    raise Conflict("that name is taken", name="x")


@errors_probe.get("/probe/crash")
async def crash(request: Request) -> Response:
    raise RuntimeError("secret internals: password=hunter2")
