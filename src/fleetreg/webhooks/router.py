"""HTTP routes of webhooks (docs/events.md): ``/v2/webhooks`` and their deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from fleetreg.auth.access import webhook_owner
from fleetreg.events import feed
from fleetreg.problems import BadRequest
from fleetreg.values import storable_text
from fleetreg.versions import etag
from fleetreg.web import Documented, Request, Response, Routes, no_content, params
from fleetreg.web.conditional import if_match
from fleetreg.webhooks import service
from fleetreg.webhooks.service import DeliveryNotFound, Owner, WebhookNotFound
from fleetreg.webhooks.urls import WebhookUrlNotAllowed

routes = Routes()

WEBHOOKS = "/v2/webhooks"
WEBHOOK = f"{WEBHOOKS}/{{webhook_id}}"
WEBHOOK_ID = {"webhook_id": params.uuid_param(description="The webhook's identifier.")}
DELIVERY_ID = {"delivery_id": params.uuid_param(description="The delivery's identifier.")}


def _event_type(value: str) -> str:
    return feed.parse_type(value)


EventType = Annotated[str, AfterValidator(_event_type)]
Url = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(storable_text)]
Description = Annotated[str, Field(max_length=500), AfterValidator(storable_text)]
Types = Annotated[list[EventType], Field(min_length=1, max_length=len(feed.TYPES) + len(feed.PREFIXES))]


class NewWebhook(BaseModel):
    """A webhook: where to POST, which event types (``association.*`` matches a prefix)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"url": "https://example.com/fleetreg", "types": ["connector.*"]}]},
    )

    url: Url
    types: Types
    description: Description | None = None
    enabled: StrictBool = True


class WebhookChanges(BaseModel):
    """Any of the webhook's members to change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": False}]})

    url: Url | None = None
    types: Types | None = None
    enabled: StrictBool | None = None
    description: Description | None = None


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    types: list[str]
    enabled: bool
    description: str | None
    created_at: str


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="`whsec_...`: the signing secret, only in this answer.")


class WebhookList(BaseModel):
    data: list[WebhookOut]


class Attempt(BaseModel):
    at: str
    status_code: int | None
    duration_ms: int
    error: str | None


class Delivery(BaseModel):
    id: uuid.UUID
    event_id: str
    state: str = Field(description="pending, delivered or failed.")
    attempts: list[Attempt]
    next_attempt_at: str | None


class DeliveryList(BaseModel):
    data: list[Delivery]


def _allow_private(request: Request) -> bool:
    return bool(request.state.settings.webhook_allow_private)


def _with_etag(body: bytes, version: str, status: int = 200) -> Response:
    return Response(body, status, headers=[(b"etag", etag(version).encode())])


@routes.post(
    WEBHOOKS,
    operation_id="create_webhook",
    tags=["webhooks"],
    summary="Create a webhook",
    access=webhook_owner(),
    body=NewWebhook,
    responses={201: Documented(WebhookWithSecret, "The webhook, with its secret (shown only now).")},
    problems=(WebhookUrlNotAllowed,),
)
async def create_webhook(request: Request, caller: Owner, body: NewWebhook) -> Response:
    """The webhook gets the events committed from now on that the caller may read in the feed."""
    webhook, secret = await service.create(
        request.state.db, caller, body.url, body.types, body.description, body.enabled, _allow_private(request)
    )
    response = _with_etag(webhook.with_secret(secret), webhook.version, 201)
    response.set_header("Location", f"{WEBHOOKS}/{webhook.id}")
    return response


@routes.get(
    WEBHOOKS,
    operation_id="list_webhooks",
    tags=["webhooks"],
    summary="List the webhooks",
    access=webhook_owner(),
    responses={200: WebhookList},
)
async def list_webhooks(request: Request, caller: Owner) -> Response:
    return Response(b'{"data":[%b]}' % b",".join(await service.list_webhooks(request.state.db, caller)))


@routes.get(
    WEBHOOK,
    operation_id="get_webhook",
    tags=["webhooks"],
    summary="Retrieve a webhook",
    access=webhook_owner(),
    path_params=WEBHOOK_ID,
    responses={200: WebhookOut},
    problems=(WebhookNotFound,),
    conditional=True,
)
async def get_webhook(request: Request, caller: Owner, webhook_id: uuid.UUID) -> Response:
    webhook = await service.get(request.state.db, caller, webhook_id)
    return _with_etag(webhook.body, webhook.version)


@routes.patch(
    WEBHOOK,
    operation_id="update_webhook",
    tags=["webhooks"],
    summary="Change a webhook",
    access=webhook_owner(),
    path_params=WEBHOOK_ID,
    body=WebhookChanges,
    responses={200: WebhookOut},
    problems=(WebhookNotFound, WebhookUrlNotAllowed),
    conditional=True,
)
async def update_webhook(request: Request, caller: Owner, webhook_id: uuid.UUID, body: WebhookChanges) -> Response:
    """Any of `url`, `types`, `enabled`, `description`. Enabling a webhook that was disabled after
    three days of failures gives it three days again."""
    changes: dict[str, Any] = body.model_dump(include=body.model_fields_set)
    for member in ("url", "types", "enabled"):
        if member in changes and changes[member] is None:
            raise BadRequest.from_errors([{"pointer": f"/{member}", "detail": "must not be null"}])
    webhook = await service.update(
        request.state.db, caller, webhook_id, changes, _allow_private(request), if_match(request)
    )
    return _with_etag(webhook.body, webhook.version)


@routes.delete(
    WEBHOOK,
    operation_id="delete_webhook",
    tags=["webhooks"],
    summary="Delete a webhook",
    access=webhook_owner(),
    path_params=WEBHOOK_ID,
    responses={204: Documented(description="Deleted, with its deliveries.")},
    problems=(WebhookNotFound,),
    conditional=True,
)
async def delete_webhook(request: Request, caller: Owner, webhook_id: uuid.UUID) -> Response:
    await service.delete(request.state.db, caller, webhook_id, if_match(request))
    return no_content()


@routes.post(
    f"{WEBHOOK}/rotate-secret",
    operation_id="rotate_webhook_secret",
    tags=["webhooks"],
    summary="Rotate a webhook's secret",
    access=webhook_owner(),
    path_params=WEBHOOK_ID,
    responses={200: Documented(WebhookWithSecret, "The webhook with its new secret (shown only now).")},
    problems=(WebhookNotFound,),
)
async def rotate_webhook_secret(request: Request, caller: Owner, webhook_id: uuid.UUID) -> Response:
    """A new secret signs every delivery from now on; the previous one signs beside it for 24 hours
    (`webhook-signature` then carries both), so a receiver can switch without losing a delivery."""
    webhook, secret = await service.rotate_secret(request.state.db, caller, webhook_id)
    return _with_etag(webhook.with_secret(secret), webhook.version)


@routes.get(
    f"{WEBHOOK}/deliveries",
    operation_id="list_webhook_deliveries",
    tags=["webhooks"],
    summary="The webhook's deliveries",
    access=webhook_owner(),
    path_params=WEBHOOK_ID,
    responses={200: DeliveryList},
    problems=(WebhookNotFound,),
)
async def list_webhook_deliveries(request: Request, caller: Owner, webhook_id: uuid.UUID) -> Response:
    """The latest 100 deliveries, newest first: each event's attempts (when, status code, duration,
    error) and the next attempt."""
    return Response(b'{"data":[%b]}' % b",".join(await service.deliveries(request.state.db, caller, webhook_id)))


@routes.post(
    f"{WEBHOOK}/deliveries/{{delivery_id}}/retry",
    operation_id="retry_webhook_delivery",
    tags=["webhooks"],
    summary="Retry a delivery",
    access=webhook_owner(),
    path_params={**WEBHOOK_ID, **DELIVERY_ID},
    responses={202: Delivery},
    problems=(WebhookNotFound, DeliveryNotFound),
)
async def retry_webhook_delivery(
    request: Request, caller: Owner, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> Response:
    """Attempt the delivery again now, whatever its state (a failed one is pending again)."""
    return Response(await service.retry(request.state.db, caller, webhook_id, delivery_id), 202)
