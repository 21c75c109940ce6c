"""Operations endpoints: liveness, readiness (database reachable, migrations current) and metrics."""

from __future__ import annotations

from fleetreg.db import Database, SchemaNotMigrated
from fleetreg.problems import ServiceUnavailable
from fleetreg.web import Documented, Request, Response, Routes, json_response

routes = Routes(tags=["operations"])

_STATUS = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}


@routes.get(
    "/healthz",
    operation_id="get_health",
    summary="Liveness: the process is up",
    responses={200: Documented(schema=_STATUS)},
)
async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


@routes.get(
    "/readyz",
    operation_id="get_readiness",
    summary="Readiness: the database answers and its schema is at this version's migration head",
    responses={200: Documented(schema=_STATUS)},
)
async def readyz(request: Request) -> Response:
    """503 with a problem saying why when the database is unreachable or its schema is not at this
    version's newest migration."""
    db: Database = request.state.db
    head: str = request.state.head_revision
    try:
        current = await db.schema_revision()
    except SchemaNotMigrated as error:
        raise ServiceUnavailable(
            f"the database has no migrations applied; run `fleetreg db upgrade` to {head}"
        ) from error
    except ServiceUnavailable as error:
        raise ServiceUnavailable("the database is unreachable") from error
    if current != head:
        raise ServiceUnavailable(
            f"the database schema is at {current}, this version needs {head}: run `fleetreg db upgrade`"
        )
    return json_response({"status": "ready", "migration": head})


@routes.get(
    "/metrics",
    operation_id="get_metrics",
    summary="Prometheus metrics",
    responses={
        200: Documented(
            media_type="text/plain", schema={"type": "string"}, description="The Prometheus text exposition format."
        )
    },
)
async def metrics(request: Request) -> Response:
    app_metrics = request.state.metrics
    db: Database = request.state.db
    app_metrics.set_pool_usage(*db.pool_usage())
    app_metrics.set_replica_lag(db.replica_status())
    return Response(app_metrics.render(), media_type=app_metrics.content_type.encode())
