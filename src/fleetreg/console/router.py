"""The console's pages (docs/api.md §8), declared with fleetreg.web like the API's routes but left out of
/openapi.json. They call the API's services, so the rules and errors are the API's; a problem is
shown as a page (``error_page``), and a write is the request's unit of work with the operator as its
actor (``writes.actor_of``).

Signing in: ``/console/sign-in`` (a CSRF token bound to a cookie of the form's own), then a session
cookie (HttpOnly, SameSite=Lax, Secure behind https, expiring) whose SHA-256 the database keeps.
Every form carries the CSRF token of its session; a POST without the right one is refused (403).
"""

from __future__ import annotations

import functools
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import quote

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape

from fleetreg.auth.guard import FailureLimiter
from fleetreg.console import forms, operators, timeline, uploads, views
from fleetreg.console.operators import Operator, SignInPolicy, SignInRefused
from fleetreg.fleet import errors as fleet_errors
from fleetreg.fleet.associations import service as associations
from fleetreg.partner import service as partners
from fleetreg.problems import AppError, BadRequest, Forbidden, NotFound
from fleetreg.settings import Settings
from fleetreg.web import Access, Request, Response, Routes, params
from fleetreg.web.responses import HTML
from fleetreg.web.routing import Endpoint

PREFIX = "/console"
SESSION_COOKIE = "fleetreg_console"
SIGN_IN_COOKIE = "fleetreg_console_sign_in"
_STATIC = files("fleetreg") / "static" / "console"
# What /console/static serves (the rest of static/console is for the tests: NOTICE.md).
_ASSETS = {"console.css": b"text/css; charset=utf-8", "console.js": b"text/javascript; charset=utf-8"}
_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
# Unknown emails and wrong passwords per address (each worker), beyond the per-account lockout.
_ADDRESS_FAILURES = FailureLimiter(burst=20, interval=3.0)


class SignInRequired(AppError):
    """The console needs a signed-in operator: the page answers with the sign-in form."""

    status = 401
    slug = "console-sign-in-required"
    title = "Sign-in Required"


class CsrfRefused(Forbidden):
    """A console form was posted without the CSRF token of the session it was made for."""

    slug = "console-csrf-refused"
    title = "Form Refused"


# -- rendering ------------------------------------------------------------------------------------


@functools.cache
def _templates() -> Environment:
    environment = Environment(
        loader=PackageLoader("fleetreg.console", "templates"),
        autoescape=select_autoescape(("html", "svg")),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""
    environment.filters["cnpj"] = _formatted_cnpj
    return environment


def _formatted_cnpj(cnpj: str) -> str:
    if len(cnpj) != 14:
        return cnpj
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    operator = request.caller if isinstance(request.caller, Operator) else None
    token = _cookie(request, SESSION_COOKIE)
    body = (
        _templates()
        .get_template(template)
        .render(
            operator=operator,
            csrf=operators.csrf_token_for(token) if operator is not None and token else "",
            path=request.path,
            **context,
        )
    )
    return Response(body.encode(), status, media_type=HTML, headers=list(_SECURITY_HEADERS))


def _redirect(location: str, *, cookies: list[bytes] = ()) -> Response:  # type: ignore[assignment]
    headers = [(b"location", location.encode("latin-1")), *_SECURITY_HEADERS]
    headers += [(b"set-cookie", cookie) for cookie in cookies]
    return Response(b"", 303, media_type=None, headers=headers)


def error_page(request: Request, error: AppError) -> Response:
    """A problem as a page: the sign-in form when there is no session, else what went wrong."""
    if isinstance(error, SignInRequired):
        target = request.path if request.method == "GET" else PREFIX
        return _redirect(f"{PREFIX}/sign-in?next={quote(target, safe='/')}")
    if isinstance(error, uploads.UploadRefused):
        return _page(request, "upload.html", 400, refused=error.lines)
    entries = error.extensions.get("errors") or []
    details = [entry.get("detail", "") for entry in entries if isinstance(entry, dict)]
    response = _page(
        request,
        "error.html",
        error.status,
        title=error.title,
        detail=error.detail or error.explanation(),
        details=details,
        back=_same_site_referer(request),
    )
    for name, value in error.headers.items():
        response.set_header(name, value)
    return response


def _same_site_referer(request: Request) -> str:
    referer = request.header(b"referer") or ""
    host = request.header(b"host") or ""
    for scheme in ("http://", "https://"):
        prefix = f"{scheme}{host}{PREFIX}"
        if host and referer.startswith(prefix):
            return referer[len(scheme) + len(host) :]
    return PREFIX


# -- sessions -------------------------------------------------------------------------------------


def _cookie(request: Request, name: str) -> str | None:
    for header in request.header_values(b"cookie"):
        for pair in header.split(";"):
            key, _, value = pair.strip().partition("=")
            if key == name and value:
                return value
    return None


def _settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


def _set_cookie(request: Request, name: str, value: str, max_age: int) -> bytes:
    secure = (_settings(request).public_url or "").startswith("https://")
    attributes = f"{name}={value}; Path={PREFIX}; Max-Age={max_age}; HttpOnly; SameSite=Lax"
    return (attributes + ("; Secure" if secure else "")).encode("latin-1")


async def _operator_of(request: Request) -> Operator:
    token = _cookie(request, SESSION_COOKIE)
    operator = await operators.session_operator(request.state.db, token) if token else None
    if operator is None:
        raise SignInRequired("sign in to use the console")
    return operator


OPERATOR = Access(resolve=_operator_of, security=lambda settings: None)


async def _form(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token is the session's (else 403)."""
    form = forms.fields(await request.body())
    _check_csrf(request, form.get("csrf"))
    return form


def _check_csrf(request: Request, given: str | None) -> None:
    token = _cookie(request, SESSION_COOKIE)
    if token is None or not operators.csrf_matches(token, given):
        raise CsrfRefused("the form was refused: it did not carry this session's CSRF token. Reload the page and retry")


routes = Routes(tags=["console"], error_page=error_page)


def _get(path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    return routes.get(path, include_in_schema=False, access=OPERATOR, **options)


def _post(path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    return routes.post(path, include_in_schema=False, access=OPERATOR, **options)


_ID = params.text(max_length=100)
_UUID = params.uuid_param()
_TEXT = params.text(max_length=200)


@routes.get(f"{PREFIX}/sign-in", operation_id="console_sign_in_form", include_in_schema=False, query={"next": _TEXT})
async def sign_in_form(request: Request, next: str | None) -> Response:
    return _sign_in_page(request, next, None)


def _sign_in_page(request: Request, next_page: str | None, refused: SignInRefused | None, email: str = "") -> Response:
    secret = _cookie(request, SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    status = 200 if refused is None else (429 if refused.retry_after else 401)
    response = _page(
        request,
        "sign_in.html",
        status,
        sign_in_csrf=operators.csrf_token_for(secret),
        next=_safe_next(next_page),
        refused=refused,
        email=email,
    )
    response.headers.append((b"set-cookie", _set_cookie(request, SIGN_IN_COOKIE, secret, 3600)))
    if refused is not None and refused.retry_after:
        response.set_header("Retry-After", str(refused.retry_after))
    return response


def _safe_next(next_page: str | None) -> str:
    """Where to go after signing in: a console page of this site, never another site."""
    if next_page and next_page.startswith(PREFIX) and not next_page.startswith("//") and "\\" not in next_page:
        return next_page
    return PREFIX


@routes.post(f"{PREFIX}/sign-in", operation_id="console_sign_in", include_in_schema=False)
async def sign_in(request: Request) -> Response:
    form = forms.fields(await request.body())
    secret = _cookie(request, SIGN_IN_COOKIE)
    if secret is None or not operators.csrf_matches(secret, form.get("csrf")):
        raise CsrfRefused("the sign-in form was refused: it did not carry its CSRF token. Reload the page and retry")
    settings = _settings(request)
    email = form.get("email", "").strip()[:254]
    outcome = await operators.sign_in(
        request.state.db,
        email,
        form.get("password", "")[:200],
        policy=SignInPolicy(settings.console_lockout_failures, settings.console_lockout_seconds),
        hashing=request.state.auth.token_guard.hashing,
        address_failures=_ADDRESS_FAILURES,
        address=request.client_address(),
    )
    if isinstance(outcome, SignInRefused):
        return _sign_in_page(request, form.get("next"), outcome, email)
    token = await operators.open_session(request.state.db, outcome, settings.console_session_ttl)
    return _redirect(
        _safe_next(form.get("next")),
        cookies=[
            _set_cookie(request, SESSION_COOKIE, token, settings.console_session_ttl),
            _set_cookie(request, SIGN_IN_COOKIE, "", 0),
        ],
    )


@_post(f"{PREFIX}/sign-out", operation_id="console_sign_out")
async def sign_out(request: Request, caller: Operator) -> Response:
    await _form(request)
    token = _cookie(request, SESSION_COOKIE)
    if token is not None:
        await operators.close_session(request.state.db, token)
    return _redirect(f"{PREFIX}/sign-in", cookies=[_set_cookie(request, SESSION_COOKIE, "", 0)])


@routes.get(
    f"{PREFIX}/static/{{asset}}",
    operation_id="console_asset",
    include_in_schema=False,
    path_params={"asset": params.text(max_length=100)},
)
async def console_asset(request: Request, asset: str) -> Response:
    if asset not in _ASSETS:
        raise NotFound(f"no asset {asset!r}")
    return Response(
        _asset(asset),
        media_type=_ASSETS[asset],
        headers=[(b"cache-control", b"public, max-age=3600"), (b"x-content-type-options", b"nosniff")],
    )


@functools.cache
def _asset(name: str) -> bytes:
    return (_STATIC / name).read_bytes()


# -- search ---------------------------------------------------------------------------------------


@_get(PREFIX, operation_id="console_search", query={"q": _TEXT, "partial": params.boolean()})
async def search(request: Request, caller: Operator, q: str | None, partial: bool | None) -> Response:
    results = await views.search(request.state.db, caller, q or "")
    return _page(request, "results.html" if partial else "search.html", results=results, q=q or "")


# -- fleet ----------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


@_get(f"{PREFIX}/enterprises/{{enterprise-id}}", operation_id="console_enterprise", path_params={"enterprise-id": _ID})
async def enterprise_page(request: Request, caller: Operator, enterprise_id: str) -> Response:
    view = await views.enterprise(request.state.db, caller, enterprise_id)
    return _page(request, "enterprise.html", view=view)


@_get(f"{PREFIX}/vehicles/{{vehicle-id}}", operation_id="console_vehicle", path_params={"vehicle-id": _ID})
async def vehicle_page(request: Request, caller: Operator, vehicle_id: str) -> Response:
    view = await views.vehicle(request.state.db, caller, vehicle_id)
    picture = timeline.build(
        [
            timeline.Period(
                row["device_id"],
                f"{row['device_name']} ({row['device_imei']})",
                f"{PREFIX}/devices/{row['device_id']}",
                row["created_at"],
                row["ended_at"],
                row["is_main_device"],
            )
            for row in view.associations
        ],
        _now(),
    )
    return _page(request, "vehicle.html", view=view, timeline=picture, replace_available=True)


@_get(f"{PREFIX}/devices/{{device-id}}", operation_id="console_device", path_params={"device-id": _ID})
async def device_page(request: Request, caller: Operator, device_id: str) -> Response:
    view = await views.device(request.state.db, caller, device_id)
    picture = timeline.build(
        [
            timeline.Period(
                row["vehicle_id"],
                row["vehicle_name"] + (f" ({row['vehicle_plate']})" if row["vehicle_plate"] else ""),
                f"{PREFIX}/vehicles/{row['vehicle_id']}",
                row["created_at"],
                row["ended_at"],
                row["is_main_device"],
            )
            for row in view.associations
        ],
        _now(),
    )
    return _page(request, "device.html", view=view, timeline=picture)


@_get(f"{PREFIX}/chips/{{chip-id}}", operation_id="console_chip", path_params={"chip-id": _ID})
async def chip_page(request: Request, caller: Operator, chip_id: str) -> Response:
    chip = await views.chip(request.state.db, caller, chip_id)
    return _page(request, "chip.html", chip=chip)


async def _active_association(request: Request, caller: Operator, vehicle_id: str, association_id: str) -> Any:
    view = await views.vehicle(request.state.db, caller, vehicle_id)
    for row in view.active:
        if row["id"] == association_id:
            return row
    raise fleet_errors.AssociationNotFound(f"vehicle {vehicle_id} has no active association {association_id}")


_ASSOCIATION = {"vehicle-id": _ID, "association-id": _ID}


@_post(
    f"{PREFIX}/vehicles/{{vehicle-id}}/associations", operation_id="console_associate", path_params={"vehicle-id": _ID}
)
async def associate(request: Request, caller: Operator, vehicle_id: str) -> Response:
    form = await _form(request)
    device_id = form.get("device_id", "").strip()
    if not device_id:
        raise BadRequest("give the id of the device to put on the vehicle")
    await views.vehicle(request.state.db, caller, vehicle_id)
    await associations.create_associations(
        request.state.db,
        caller.fleet_scope,
        [associations.AssociationItem("/data/0", vehicle_id, device_id, form.get("is_main_device") == "true")],
    )
    return _redirect(f"{PREFIX}/vehicles/{vehicle_id}")


@_post(
    f"{PREFIX}/vehicles/{{vehicle-id}}/associations/{{association-id}}/end",
    operation_id="console_end_association",
    path_params=_ASSOCIATION,
)
async def end_association(request: Request, caller: Operator, vehicle_id: str, association_id: str) -> Response:
    await _form(request)
    await _active_association(request, caller, vehicle_id, association_id)
    await associations.end_associations(
        request.state.db, caller.fleet_scope, [associations.AssociationReference("/data/0", association_id)]
    )
    return _redirect(f"{PREFIX}/vehicles/{vehicle_id}")


@_post(
    f"{PREFIX}/vehicles/{{vehicle-id}}/associations/{{association-id}}/promote",
    operation_id="console_promote_association",
    path_params=_ASSOCIATION,
)
async def promote_association(request: Request, caller: Operator, vehicle_id: str, association_id: str) -> Response:
    await _form(request)
    _fleet_visible(caller)
    await associations.update_association(request.state.db, caller.fleet_scope, vehicle_id, association_id, True)
    return _redirect(f"{PREFIX}/vehicles/{vehicle_id}")


@_post(
    f"{PREFIX}/vehicles/{{vehicle-id}}/associations/{{association-id}}/replace",
    operation_id="console_replace_device",
    path_params=_ASSOCIATION,
)
async def replace_device(request: Request, caller: Operator, vehicle_id: str, association_id: str) -> Response:
    form = await _form(request)
    _fleet_visible(caller)
    device_id = form.get("device_id", "").strip()
    if not device_id:
        raise BadRequest("give the id of the device that takes this one's place")
    await associations.replace_device(
        request.state.db,
        caller.fleet_scope,
        vehicle_id,
        association_id,
        device_id,
        move_chip=form.get("move_chip") == "true",
    )
    return _redirect(f"{PREFIX}/vehicles/{vehicle_id}")


def _fleet_visible(caller: Operator) -> None:
    if not caller.sees_fleet:
        raise views.PageNotFound("this page is not among what you may see")


@_get(
    f"{PREFIX}/events/{{kind}}/{{resource-id}}",
    operation_id="console_events",
    path_params={"kind": params.text(max_length=20), "resource-id": _ID},
)
async def events_page(request: Request, caller: Operator, kind: str, resource_id: str) -> Response:
    resource, lines = await views.events_of(request.state.db, caller, kind, resource_id)
    return _page(request, "events.html", kind=kind, resource=resource, events=lines)


# -- partners -------------------------------------------------------------------------------------


@_get(f"{PREFIX}/partners", operation_id="console_partners")
async def partners_page(request: Request, caller: Operator) -> Response:
    rows = await views.partners(request.state.db, caller)
    if caller.partner_id is not None:
        return _redirect(f"{PREFIX}/partners/{caller.partner_id}/connectors")
    return _page(request, "partners.html", partners=rows)


_PAGE_SIZE = 50


@_get(
    f"{PREFIX}/partners/{{partner-id}}/connectors",
    operation_id="console_connectors",
    path_params={"partner-id": _UUID},
    query={
        "name": _TEXT,
        "type": _TEXT,
        "assigned": _TEXT,
        "customer": _TEXT,
        "page": params.integer(minimum=0, maximum=100_000, default=0),
    },
)
async def connectors_page(
    request: Request,
    caller: Operator,
    partner_id: uuid.UUID,
    name: str | None,
    type: str | None,
    assigned: str | None,
    customer: str | None,
    page: int,
) -> Response:
    db = request.state.db
    partner = await views.partner(db, caller, partner_id)
    customers = await views.customers_of(db, partner_id)
    # The filter takes a customer's name (typed or picked) or its id (the search's links).
    customer_id = None
    if customer:
        try:
            customer_id = uuid.UUID(customer)
        except ValueError:
            customer_id = await views.customer_named(db, partner_id, customer)
    shown_customer = ""
    if customer_id is not None:
        shown_customer = (await views.customer_names(db, partner_id, [str(customer_id)])).get(str(customer_id), "")
    filters = partners.connector_filters(
        assigned={"yes": True, "no": False}.get(assigned or ""),
        customer_id=customer_id,
        name=name or None,
        types=[type] if type in ("physical", "virtual") else None,
    )
    items, total = await partners.list_connectors(db, partner_id, filters, limit=_PAGE_SIZE, offset=page * _PAGE_SIZE)
    connectors = orjson.loads(b"[" + items + b"]")
    assigned_to = [row["customer_id"] for row in connectors if row["customer_id"]]
    names = await views.customer_names(db, partner_id, assigned_to) if assigned_to else {}
    return _page(
        request,
        "connectors.html",
        partner=partner,
        customers=customers,
        customer_names=names,
        connectors=connectors,
        total=total,
        page=page,
        pages=max(1, -(-total // _PAGE_SIZE)),
        filters={
            "name": name or "",
            "type": type or "",
            "assigned": assigned or "",
            "customer": shown_customer,
        },
    )


def _uuid_or_none(text: str | None, what: str) -> uuid.UUID | None:
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BadRequest(f"the {what} {text!r} is not an id") from None


@_post(
    f"{PREFIX}/partners/{{partner-id}}/connectors/{{connector-id}}/assign",
    operation_id="console_assign_connector",
    path_params={"partner-id": _UUID, "connector-id": _UUID},
)
async def assign_connector(
    request: Request, caller: Operator, partner_id: uuid.UUID, connector_id: uuid.UUID
) -> Response:
    form = await _form(request)
    await views.partner(request.state.db, caller, partner_id)
    name = form.get("customer", "").strip()
    customer_id = await views.customer_named(request.state.db, partner_id, name) if name else None
    await partners.assign_connector(request.state.db, partner_id, connector_id, customer_id)
    back = form.get("back", "")
    target = (
        back
        if back.startswith(f"{PREFIX}/partners/{partner_id}/connectors")
        else f"{PREFIX}/partners/{partner_id}/connectors"
    )
    return _redirect(target)


# -- uploads --------------------------------------------------------------------------------------


@_get(f"{PREFIX}/upload", operation_id="console_upload_form")
async def upload_form(request: Request, caller: Operator) -> Response:
    _fleet_visible(caller)
    return _page(request, "upload.html")


@_post(f"{PREFIX}/upload", operation_id="console_upload")
async def upload(request: Request, caller: Operator) -> Response:
    _fleet_visible(caller)
    parts = forms.multipart(request.header(b"content-type") or "", await request.body())
    _check_csrf(request, parts.get("csrf", b"").decode("utf-8", "replace"))
    done = await uploads.apply_upload(request.state.db, caller.fleet_scope, parts.get("file", b""))
    return _page(request, "upload.html", done=done)
