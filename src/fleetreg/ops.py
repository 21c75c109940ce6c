"""Operations endpoints: liveness, readiness (database reachable, migrations current) and metrics."""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter, Request, Response

from fleetreg.db import Database, is_unavailable
from fleetreg.problems import ServiceUnavailable
from fleetreg.web import StrictRoute

router = APIRouter(route_class=StrictRoute, tags=["operations"])

CURRENT_REVISION = "SELECT version_num FROM alembic_version"


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers and its schema is at this version's migration head",
    responses={503: {"description": "Not ready; the problem's detail says why."}},
)
async def readyz(request: Request) -> dict[str, str]:
    db: Database = request.app.state.db
    head: str = request.app.state.head_revision
    try:
        current = await db.fetchval(CURRENT_REVISION)
    except ServiceUnavailable as error:
        raise ServiceUnavailable("the database is unreachable") from error
    except asyncpg.UndefinedTableError as error:
        raise ServiceUnavailable(
            f"the database has no migrations applied; run `fleetreg db upgrade` to {head}"
        ) from error
    except Exception as error:
        if is_unavailable(error):
            raise ServiceUnavailable("the database is unreachable") from error
        raise
    if current != head:
        raise ServiceUnavailable(
            f"the database schema is at {current}, this version needs {head}: run `fleetreg db upgrade`"
        )
    return {"status": "ready", "migration": head}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "The Prometheus text exposition format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    app_metrics = request.app.state.metrics
    db: Database = request.app.state.db
    app_metrics.set_pool_usage(*db.pool_usage())
    return Response(app_metrics.render(), media_type=app_metrics.content_type)
