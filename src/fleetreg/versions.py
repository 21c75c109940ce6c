"""Row versions as ETags, and the ``If-Match`` precondition a write checks (docs/api.md §6).

A resource's ETag is its row's version, PostgreSQL's ``xmin`` (the transaction that wrote the row as
it is now), quoted: every change of the row replaces it, whatever makes the change (the API, an
import, plain SQL), so it is a strong validator. The services check a precondition with the row
locked, so that no other write slips between the check and the change.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetreg.problems import PreconditionFailed


def etag(version: object) -> str:
    """The strong ETag of a row version."""
    return f'"{version}"'


@dataclass(frozen=True)
class Precondition:
    """An ``If-Match`` header: ``*`` (the resource must exist) or entity tags, compared strongly."""

    any: bool
    tags: frozenset[str]

    def holds(self, current: str) -> bool:
        return self.any or current in self.tags


def check(precondition: Precondition | None, version: str) -> None:
    """412 (with the current ETag) unless ``If-Match`` names the row's current version."""
    if precondition is not None and not precondition.holds(etag(version)):
        raise PreconditionFailed("the resource has changed since that version", etag=etag(version))
