"""One page of a list, as every list query returns it: its rows with the total beside each (NULL
unless counted), or exactly one row of NULLs but the total when the page is empty. One shape, so a
list is one round trip whether or not it is counted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# OFFSET beyond this returns nothing anyway; it keeps a huge ``page`` inside PostgreSQL's bigint.
LARGEST_OFFSET = 2**62


def offset(limit: int, page: int) -> int:
    """The OFFSET of page ``page`` (from 0) of ``limit`` items."""
    return min(limit * page, LARGEST_OFFSET)


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int | None

    @classmethod
    def of(cls, rows: Sequence[Any], *, counted: bool) -> Page:
        """The page a list query's rows describe (see the module's docstring)."""
        return cls([row for row in rows if row["id"] is not None], rows[0]["total"] if counted and rows else None)
