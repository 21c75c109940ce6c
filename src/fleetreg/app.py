"""The ASGI application: ``create_app(settings)``. Its lifespan owns the database pool and the auth state."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fleetreg import __version__, docs, idempotency, ops
from fleetreg.auth import clients as auth_clients
from fleetreg.auth import router as auth_router
from fleetreg.auth.access import SECURITY_SCHEMES, AuthState
from fleetreg.auth.keys import KeyRing
from fleetreg.auth.ratelimit import RateLimiter
from fleetreg.auth.revocations import RevokedClients
from fleetreg.auth.tokens import ExternalIssuer, TokenService
from fleetreg.console import router as console_router
from fleetreg.constraints import CONSTRAINT_ERRORS
from fleetreg.db import Database
from fleetreg.embedded import EmbeddedPostgres
from fleetreg.events import router as events_router
from fleetreg.events.feed import EventSignal
from fleetreg.events.retention import prune
from fleetreg.fleet import router as fleet_router
from fleetreg.fleet.associations import routes as association_routes
from fleetreg.housekeeping import Housekeeping
from fleetreg.metrics import Metrics
from fleetreg.migrate import head_revision
from fleetreg.partner import router as partner_router
from fleetreg.reads import run_read
from fleetreg.settings import Settings
from fleetreg.web import openapi
from fleetreg.web.app import WebApp, WebConfig
from fleetreg.webhooks import router as webhooks_router
from fleetreg.webhooks.delivery import Dispatcher
from fleetreg.writes import run_write

log = logging.getLogger("fleetreg")

DESCRIPTION = """\
fleetreg is the system of record for telematics hardware: which connectors a partner has assigned
to which customers, and which tracking devices, with which SIM chips, sit on which vehicles.

Every error is an RFC 9457 `application/problem+json` document; its `type` links to a page that
explains it.
"""

# The modules whose routes the app serves, in the order /openapi.json lists them.
ROUTE_MODULES = (
    ops,
    docs,
    auth_router,
    partner_router,
    fleet_router,
    association_routes,
    events_router,
    webhooks_router,
    console_router,
)
# Operations that answer without the database (no 503 documented for them).
WITHOUT_DATABASE = ("/healthz", "/.well-known/jwks.json", "/metrics")


def create_app(settings: Settings | None = None) -> WebApp:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: WebApp) -> AsyncIterator[None]:
        embedded: EmbeddedPostgres | None = None
        url = settings.database_url
        if url is None:
            # Served without the CLI (e.g. `granian --factory fleetreg.app:create_app`): start or join
            # the embedded server ourselves. The CLI normally does this once for all workers.
            embedded = EmbeddedPostgres(settings.embedded_dir)
            url = embedded.start()
        db = Database(
            url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            timeout=settings.db_timeout,
            constraint_errors=CONSTRAINT_ERRORS,
            statement_cache_size=settings.statement_cache_size,
            direct_url=settings.direct_database_url,
            replica_urls=settings.read_database_url,
            replica_max_lag=settings.replica_max_lag_seconds,
            read_after_write=settings.read_after_write_seconds,
            observe_read=metrics.observe_read,
        )
        await db.open()
        app.state.db = db
        revoked = RevokedClients()
        app.state.event_signal = EventSignal(db)
        revoked.also_listen(EventSignal.CHANNEL, app.state.event_signal.notify)
        await revoked.start(db)
        app.state.auth = AuthState(
            tokens=_token_service(settings, revoked, db),
            revoked=revoked,
            limiter=RateLimiter.for_settings(settings.rate_limit, db, settings.rate_limit_url),
        )
        # Every process delivers webhooks: they share the work through the database (webhooks.delivery).
        dispatcher = Dispatcher(db, app.state.event_signal, allow_private=settings.webhook_allow_private)
        dispatcher.start()
        housekeeping = Housekeeping(
            {
                "event retention": lambda: prune(db, settings.event_retention_days),
                "expired Idempotency-Keys": lambda: idempotency.delete_expired(db),
            }
        )
        housekeeping.start()
        app.state.housekeeping = housekeeping
        try:
            yield
        finally:
            await housekeeping.stop()
            await dispatcher.stop()
            await revoked.stop()
            await app.state.auth.limiter.close()
            await db.close()
            if embedded is not None:
                embedded.stop()

    metrics = Metrics()
    app = WebApp(
        [route for module in ROUTE_MODULES for route in module.routes.routes],
        config=WebConfig(
            max_body_bytes=settings.max_body_bytes,
            cors_origins=frozenset(settings.cors_origins),
            trusted_proxies=frozenset(settings.trusted_proxies),
        ),
        metrics=metrics,
        lifespan=lifespan,
        openapi=lambda app: openapi_document(app, settings),
        write_runner=run_write,
        read_runner=run_read,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.head_revision = head_revision()
    return app


def openapi_document(app: WebApp, settings: Settings) -> dict[str, object]:
    return openapi.build(
        app.routes,
        title="fleetreg",
        version=__version__,
        description=DESCRIPTION,
        license={"name": "Apache License 2.0", "identifier": "Apache-2.0"},  # pyproject.toml's, LICENSE
        security_schemes=SECURITY_SCHEMES,
        settings=settings,
        without_database=WITHOUT_DATABASE,
    )


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
