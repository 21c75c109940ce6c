"""Export every importable type as CSV (the import's columns, so a file round-trips) or JSON lines.

Both stream: CSV is PostgreSQL's own COPY ... TO STDOUT, JSON lines come from a server-side cursor;
memory stays flat on millions of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

import asyncpg

from fleetreg.db import connected
from fleetreg.importer import partner_parameters

Format = Literal["csv", "jsonl"]
_CURSOR_PREFETCH = 5_000


@dataclass(frozen=True)
class ExportSpec:
    entity: str
    columns: tuple[str, ...]
    """The CSV columns, in the order of the import's."""
    query: str
    """SELECT of exactly ``columns``, ordered; may use the export's parameters ($1...)."""
    count: str
    """SELECT count(*) of the same rows, for the progress bar."""


async def export_rows(
    connection: asyncpg.Connection,
    spec: ExportSpec,
    output: BinaryIO,
    file_format: Format,
    parameters: Sequence[Any] = (),
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the rows to ``output``; return how many. ``progress`` gets a running count (for CSV an
    estimate: a quoted field may hold line breaks)."""
    written = 0

    def advance(lines: int) -> None:
        nonlocal written
        written += lines
        if progress is not None:
            progress(written)

    async with connection.transaction(isolation="repeatable_read", readonly=True):
        # One snapshot: the count is exactly the rows written.
        total = int(await connection.fetchval(spec.count, *parameters))
        if file_format == "csv":
            header = True

            async def sink(chunk: bytes) -> None:
                nonlocal header
                output.write(chunk)
                lines = chunk.count(b"\n")
                if header and lines:
                    header, lines = False, lines - 1
                advance(lines)

            await connection.copy_from_query(
                spec.query, *parameters, output=sink, format="csv", header=True, encoding="utf-8"
            )
        else:
            json_query = f"SELECT row_to_json(exported)::text FROM ({spec.query}) AS exported"
            async for record in connection.cursor(json_query, *parameters, prefetch=_CURSOR_PREFETCH):
                output.write(record[0].encode() + b"\n")
                advance(1)
    return total


async def export_file(
    url: str,
    spec: ExportSpec,
    output: BinaryIO,
    file_format: Format,
    *,
    partner: str | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """``export_rows`` on a connection of its own, for the partner named ``partner`` when the type
    belongs to one (``importer.UnknownPartner`` otherwise); ``on_total`` first gets the row count."""
    async with connected(url) as connection:
        parameters = await partner_parameters(connection, partner)
        if on_total is not None:
            on_total(int(await connection.fetchval(spec.count, *parameters)))
        return await export_rows(connection, spec, output, file_format, parameters, progress)
