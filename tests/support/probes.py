"""Routes that exist only in tests, served by an app next to its own (``include_router``): they probe
what the web layer does for every route (strict parameters, body validation, problems, auth).

Declared with the web framework, like the app's routers: when those change, these change with them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from fleetreg.auth.dependencies import require_scope
from fleetreg.auth.tokens import Principal
from fleetreg.problems import Conflict
from fleetreg.web import StrictRoute

# -- auth: who is calling (tests/test_auth.py) ----------------------------------------------------

auth_probe = APIRouter(route_class=StrictRoute)


@auth_probe.get("/probe/whoami")
async def whoami(principal: Annotated[Principal, require_scope("connectors:read")]) -> dict[str, Any]:
    return {"client_id": principal.client_id, "partner_id": str(principal.partner_id)}


# -- errors: parameters, bodies, problems, crashes (tests/test_errors.py) -------------------------


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    count: int = Field(ge=0)


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item]


errors_probe = APIRouter(route_class=StrictRoute)


@errors_probe.post("/probe/orders")
async def create_order(order: Order) -> dict[str, int]:
    return {"items": len(order.items)}


@errors_probe.get("/probe/search")
async def search(
    limit: Annotated[int, Query(ge=0, le=10)] = 5,
    tag: Annotated[list[str] | None, Query()] = None,
) -> dict[str, object]:
    return {"limit": limit, "tag": tag}


@errors_probe.get("/probe/conflict")
async def conflict() -> None:
    raise Conflict("that name is taken", name="x")


@errors_probe.get("/probe/crash")
async def crash() -> None:
    raise RuntimeError("secret internals: password=hunter2")
