"""HTTP routes of the fleet API (see ../shared/API.md)."""

from __future__ import annotations

from fastapi import APIRouter

from fleetreg.web import StrictRoute

router = APIRouter(route_class=StrictRoute)
