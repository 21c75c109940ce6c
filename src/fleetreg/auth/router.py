"""POST /oauth/token (RFC 6749 client credentials) and GET /.well-known/jwks.json."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote_plus

from fleetreg.auth import clients
from fleetreg.auth.access import AuthState
from fleetreg.auth.guard import TooManyAttempts
from fleetreg.auth.scopes import format_scope, parse_scope
from fleetreg.web import Documented, Request, Response, Routes, json_response

routes = Routes(tags=["authentication"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_OAUTH_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "invalid_request",
                "invalid_client",
                "invalid_grant",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_scope",
                "slow_down",
            ],
        },
        "error_description": {"type": "string"},
    },
}
_TOKEN_REQUEST = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {"type": "string", "description": "Space-delimited; a subset of the client's scopes."},
        "client_id": {"type": "string", "description": "Unless sent with HTTP Basic authentication."},
        "client_secret": {"type": "string", "description": "Unless sent with HTTP Basic authentication."},
    },
}
_TOKEN_RESPONSE = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "scope"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer"},
        "scope": {"type": "string"},
    },
}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.retry_after = retry_after

    def response(self) -> Response:
        headers = dict(_NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="fleetreg"'
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        body = {"error": self.error, "error_description": self.description}
        return _with_headers(json_response(body, self.status), headers)


def _with_headers(response: Response, headers: dict[str, str]) -> Response:
    for name, value in headers.items():
        response.set_header(name, value)
    return response


@routes.post(
    "/oauth/token",
    operation_id="issue_token",
    summary="Get an access token (OAuth2 client credentials)",
    description="Authenticate the client with HTTP Basic (client_id:client_secret) or with the "
    "client_id and client_secret form fields. Errors follow RFC 6749 section 5.2.",
    oauth_errors=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": _TOKEN_REQUEST,
                    "example": {"grant_type": "client_credentials", "scope": "connectors:read"},
                }
            },
        }
    },
    responses={
        200: Documented(
            schema=_TOKEN_RESPONSE,
            description="A bearer token.",
            example={
                "access_token": "eyJhbGciOiJFUzI1NiIs...",
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "connectors:read",
            },
        ),
        400: Documented(
            schema=_OAUTH_ERROR,
            description="RFC 6749 error.",
            example={"error": "invalid_scope", "error_description": "the client may not have the scope fleet:write"},
        ),
        401: Documented(
            schema=_OAUTH_ERROR,
            description="Unknown client or wrong secret.",
            example={"error": "invalid_client", "error_description": "unknown client, wrong secret or revoked client"},
        ),
        429: Documented(
            schema=_OAUTH_ERROR,
            description="slow_down: too many failed attempts for the client id or from the address, or too many "
            "at once; Retry-After says when to try again.",
            example={"error": "slow_down", "error_description": "too many failed attempts; retry later"},
        ),
    },
)
async def issue_token(request: Request) -> Response:
    try:
        return await _issue_token(request)
    except OAuthError as error:
        return error.response()


async def _issue_token(request: Request) -> Response:
    if len(request.header_values(b"authorization")) > 1:
        raise OAuthError("invalid_request", "the request carries two Authorization headers; send one")
    form = await _form(request)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported")
    client_id, secret = _client_credentials(request, form)
    state: AuthState = request.state.auth
    try:
        client = await clients.authenticate(
            request.state.db, client_id, secret, state.token_guard, request.client_address()
        )
    except TooManyAttempts as error:
        raise OAuthError("slow_down", str(error), 429, retry_after=error.retry_after) from error
    if client is None:
        raise OAuthError("invalid_client", "unknown client, wrong secret or revoked client", 401)
    granted = client.scopes
    requested = parse_scope(form.get("scope", ""))
    if requested:
        if not requested <= client.scopes:
            missing = format_scope(requested - client.scopes)
            raise OAuthError("invalid_scope", f"the client may not have the scope {missing}")
        granted = requested
    token = state.tokens.issue(client.client_id, granted, client.partner_id, client.enterprise_id)
    body = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": state.tokens.ttl,
        "scope": format_scope(granted),
    }
    return _with_headers(json_response(body), _NO_STORE)


async def _form(request: Request) -> dict[str, str]:
    media = (request.header(b"content-type") or "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError) as error:
        raise OAuthError("invalid_request", "the form is not valid UTF-8 form encoding") from error
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"{name} is given more than once")
        form[name] = value
    return form  # parameters this endpoint does not know are ignored, as RFC 6749 section 3.2 asks


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.header(b"authorization")
    if header is not None:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            raise OAuthError("invalid_client", "authenticate the client with HTTP Basic or form fields", 401)
        if "client_secret" in form:
            raise OAuthError("invalid_request", "use one client authentication method, not two")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise OAuthError("invalid_client", "the Basic credentials are not valid base64", 401) from error
        user, separator, password = decoded.partition(":")
        if not separator:
            raise OAuthError("invalid_client", "the Basic credentials need client_id:client_secret", 401)
        client_id, secret = unquote_plus(user), unquote_plus(password)
        if form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials")
        return client_id, secret
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if not form_id or form_secret is None:
        raise OAuthError("invalid_client", "client authentication is required", 401)
    return form_id, form_secret


_JWKS = {
    "type": "object",
    "required": ["keys"],
    "properties": {
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kty", "kid"],
                "properties": {name: {"type": "string"} for name in ("kty", "kid", "use", "alg", "crv", "x", "y")},
            },
        }
    },
}


@routes.get(
    "/.well-known/jwks.json",
    operation_id="get_jwks",
    summary="Public keys that verify this service's tokens",
    responses={200: Documented(schema=_JWKS, description="A JSON Web Key Set (RFC 7517).")},
)
async def jwks(request: Request) -> Response:
    state: AuthState = request.state.auth
    return json_response(state.tokens.keys.jwks())
