"""The ASGI application: ``create_app(settings)``. Its lifespan owns the database pool."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from fleetreg import __version__, ops
from fleetreg.auth import clients as auth_clients
from fleetreg.auth import router as auth_router
from fleetreg.auth.dependencies import AuthState
from fleetreg.auth.keys import KeyRing
from fleetreg.auth.ratelimit import RateLimiter
from fleetreg.auth.revocations import RevokedClients
from fleetreg.auth.tokens import ExternalIssuer, TokenService
from fleetreg.db import Database
from fleetreg.docs import install_docs
from fleetreg.embedded import EmbeddedPostgres
from fleetreg.errors import install_error_handlers
from fleetreg.fleet import router as fleet_router
from fleetreg.metrics import Metrics
from fleetreg.middleware import RequestContextMiddleware
from fleetreg.migrate import head_revision
from fleetreg.openapi import install_openapi
from fleetreg.partner import router as partner_router
from fleetreg.partner.fastlane import ConnectorReadFastLane
from fleetreg.settings import Settings
from fleetreg.web import StrictRoute

log = logging.getLogger("fleetreg")

DESCRIPTION = """\
fleetreg is the system of record for telematics hardware: which connectors a partner has assigned
to which customers, and which tracking devices, with which SIM chips, sit on which vehicles.

Every error is an RFC 9457 `application/problem+json` document; its `type` links to a page that
explains it.
"""


class FleetregApp(FastAPI):
    """FastAPI, with the connector reads' fast lane asked first (``fleetreg.partner.fastlane``): the
    requests it takes skip Starlette's middleware stack and FastAPI's routing altogether."""

    fast_lane: ConnectorReadFastLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.fast_lane
        if lane is not None and scope["type"] == "http" and lane.takes(scope):
            scope["app"] = self
            await lane.serve(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        embedded: EmbeddedPostgres | None = None
        url = settings.database_url
        if url is None:
            # Served without the CLI (`granian --interface asgi --factory fleetreg.app:create_app`): start or
            # join the embedded server ourselves. The CLI normally does this once for all workers.
            embedded = EmbeddedPostgres(settings.embedded_dir)
            url = embedded.start()
        db = Database(
            url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            timeout=settings.db_timeout,
        )
        await db.open()
        app.state.db = db
        revoked = RevokedClients()
        await revoked.start(url, settings.db_timeout)
        app.state.auth = AuthState(
            tokens=_token_service(settings, revoked, db), revoked=revoked, limiter=RateLimiter(settings.rate_limit)
        )
        try:
            yield
        finally:
            await revoked.stop()
            await db.close()
            if embedded is not None:
                embedded.stop()

    app = FleetregApp(
        title="fleetreg",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by fleetreg.docs from local assets
        redoc_url=None,
        # FastAPI's native OpenTelemetry looks up its providers on every request; fleetreg has its own
        # metrics and logs (measured in bench/README.md).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.router.route_class = StrictRoute
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.head_revision = head_revision()
    install_error_handlers(app)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        metrics=app.state.metrics,
        trusted_proxies=settings.trusted_proxy_set,
    )
    app.fast_lane = ConnectorReadFastLane(state=app.state, metrics=app.state.metrics)
    app.include_router(ops.router)
    install_docs(app)
    install_openapi(app, settings)
    app.include_router(auth_router.router)
    app.include_router(partner_router.router)
    app.include_router(fleet_router.router)
    return app


def _token_service(settings: Settings, revoked: RevokedClients, db: Database) -> TokenService:
    if settings.signing_key_file is not None:
        keys = KeyRing.from_file(settings.signing_key_file)
    else:
        keys = KeyRing.from_directory(settings.data_dir / "keys")
    external = None
    if settings.external_issuer and settings.external_jwks_url:
        external = ExternalIssuer(
            settings.external_issuer, settings.external_audience or settings.token_audience, settings.external_jwks_url
        )
    return TokenService(
        keys,
        revoked,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=settings.token_ttl,
        external=external,
        active_client=functools.partial(auth_clients.is_active, db),
    )
