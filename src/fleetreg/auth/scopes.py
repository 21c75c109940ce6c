"""The scopes a client may hold, by API."""

from __future__ import annotations

PARTNER_SCOPES: dict[str, str] = {
    "customers:read": "Read customers.",
    "customers:write": "Create, rename and delete customers.",
    "connectors:read": "Read connectors.",
    "connectors:write": "Assign connectors to customers and unassign them.",
    "connectors:provision": "Add connectors to the partner's pool and remove them.",
    "events:read": "Read the partner's change events (GET /v2/events and its stream).",
    "webhooks:write": "Manage the partner's webhooks.",
}
FLEET_SCOPES: dict[str, str] = {
    "fleet:read": "Read enterprises, vehicles, devices, chips and associations.",
    "fleet:write": "Change them.",
}
ALL_SCOPES: dict[str, str] = {**PARTNER_SCOPES, **FLEET_SCOPES}


def parse_scope(text: str) -> frozenset[str]:
    """A space-delimited scope string (RFC 6749 section 3.3) as a set."""
    return frozenset(part for part in text.split(" ") if part)


def format_scope(scopes: frozenset[str] | set[str]) -> str:
    return " ".join(sorted(scopes))


def unknown_scopes(scopes: frozenset[str]) -> list[str]:
    return sorted(scopes - ALL_SCOPES.keys())
