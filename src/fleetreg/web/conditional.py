"""Conditional requests (RFC 9110 section 13, docs/api.md §6): reading ``If-Match`` and ``If-None-Match``.

``If-None-Match`` on a GET is answered 304 by the web layer itself (``WebApp``); ``If-Match`` on a
write becomes a ``fleetreg.versions.Precondition`` that the service checks under the row's lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetreg.problems import BadRequest
from fleetreg.versions import Precondition

if TYPE_CHECKING:
    from fleetreg.web.request import Request


def _entity_tags(value: str) -> tuple[bool, list[tuple[bool, str]]]:
    """(whether the header is ``*``, its (weak, opaque-tag) entries); 400 when it is not a list of
    entity tags."""
    text = value.strip()
    if text == "*":
        return True, []
    tags: list[tuple[bool, str]] = []
    for part in text.split(","):
        item = part.strip()
        if not item:
            continue
        weak = item.startswith("W/")
        opaque = item[2:] if weak else item
        if len(opaque) < 2 or not (opaque.startswith('"') and opaque.endswith('"')) or '"' in opaque[1:-1]:
            raise BadRequest.from_errors([{"parameter": "If-Match/If-None-Match", "detail": "not an entity tag list"}])
        tags.append((weak, opaque))
    return False, tags


def if_match(request: Request) -> Precondition | None:
    values = request.header_values(b"if-match")
    if not values:
        return None
    star = False
    tags: set[str] = set()
    for value in values:
        any_tag, entries = _entity_tags(value)
        star = star or any_tag
        # Strong comparison: a weak tag never matches.
        tags.update(tag for weak, tag in entries if not weak)
    return Precondition(star, frozenset(tags))


def none_match(value: str, current: str) -> bool:
    """Whether ``If-None-Match: value`` matches the ETag ``current`` (weak comparison)."""
    star, entries = _entity_tags(value)
    if star:
        return True
    bare = current[2:] if current.startswith("W/") else current
    return any(tag == bare for _, tag in entries)
