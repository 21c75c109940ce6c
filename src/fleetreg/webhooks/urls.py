"""Which webhook URLs may be called: http(s), and a host whose every address is public (docs/api.md §5).

Checked when a webhook is created or changed, and again at every delivery after resolving the host,
so a name that later resolves to an internal address is refused then. The delivery connects to the
address that was checked (``Target``), not to a second resolution of the name, so the answer of a
DNS server cannot change between the check and the connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from fleetreg.problems import BadRequest

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookUrlNotAllowed(BadRequest):
    """A webhook's URL must be ``https`` or ``http`` with a host whose addresses are public: not
    loopback, private, link-local or multicast. ``FLEETREG_WEBHOOK_ALLOW_PRIVATE=true`` (development
    and tests) allows loopback and private addresses, never link-local ones (169.254.0.0/16,
    fe80::/10: where clouds serve their metadata and credentials)."""

    slug = "webhook-url-not-allowed"
    title = "Webhook URL Not Allowed"


@dataclass(frozen=True)
class Target:
    """A URL split for connecting: its host name and port, and the address checked for it."""

    scheme: str
    host: str
    port: int
    path: str
    address: str | None = None


def parse(url: str) -> Target:
    """The URL's parts; ``WebhookUrlNotAllowed`` when it is not an absolute http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise WebhookUrlNotAllowed(f"the URL is malformed: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlNotAllowed("the URL must be absolute, https:// or http://")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlNotAllowed("the URL must not carry credentials; the signature authenticates the sender")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def refusal(address: IpAddress, allow_private: bool) -> str | None:
    """Why ``address`` may not be called, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if allow_private and (address.is_loopback or address.is_private or address.is_unspecified):
        return None
    if address.is_loopback or address.is_unspecified:
        return "loopback"
    if not address.is_global:
        return "private"
    return None


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve(target: Target, allow_private: bool) -> Target:
    """``target`` with the address to connect to: every address the host resolves to must be
    allowed (a name with one internal address among public ones is refused)."""
    literal = _literal(target.host)
    if literal is not None:
        addresses: list[IpAddress] = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (OSError, UnicodeError) as error:
            raise LookupError(f"{target.host} does not resolve: {error}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:
        reason = refusal(address, allow_private)
        if reason is not None:
            raise WebhookUrlNotAllowed(f"{target.host} is a {reason} address ({address})")
    return Target(target.scheme, target.host, target.port, target.path, str(addresses[0]))


async def check(url: str, allow_private: bool) -> None:
    """400 ``Webhook URL Not Allowed`` for a URL no delivery may call. A host that does not resolve
    now is accepted: each delivery resolves it again (and fails while it does not resolve)."""
    target = parse(url)
    try:
        await resolve(target, allow_private)
    except LookupError:
        return
