"""Bulk import from CSV, all rows or none, for every importable type.

Each type describes itself with an ``ImportSpec``; ``import_csv`` does the rest, in one transaction:

1. the header is checked (unknown, missing or repeated columns);
2. rows stream from the file through ``spec.parse`` (per-row validation) into a temporary table
   ``import_rows`` with binary COPY; a row that fails is reported with its line and not copied;
3. ``spec.checks`` run as SQL over ``import_rows``: what only the whole file or the database can
   tell (a name twice in the file, an id that already exists, a reference to nothing), each
   returning ``(line, reason)`` rows;
4. only when nothing was reported, ``spec.apply`` moves the rows into their table, their events
   written once, straight into ``events`` (``events_sequence_now``), and the transaction commits.
   Otherwise it rolls back and nothing was written.

Memory stays flat: rows are never all held in Python.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import asyncpg

from fleetreg.auth.queries import PARTNER_ID_BY_NAME
from fleetreg.db import connected

STAGING_TABLE = "import_rows"
IMPORT_WORK_MEM = "256MB"
MAX_REPORTED_ERRORS = 100_000
_PROGRESS_EVERY = 20_000


class UnknownPartner(LookupError):
    """No partner has the name the import or export was given."""


class ImportRaced(Exception):
    """A row conflicted with data written while the import ran (``args[0]``: the constraint);
    nothing was imported, and running the import again gives the real answer."""


async def partner_parameters(connection: asyncpg.Connection, partner: str | None) -> list[Any]:
    """The statements' parameters for a partner's rows: its id, or nothing for a fleet type."""
    if partner is None:
        return []
    partner_id = await connection.fetchval(PARTNER_ID_BY_NAME, partner)
    if partner_id is None:
        raise UnknownPartner(partner)
    return [partner_id]


async def import_file(
    url: str,
    spec: ImportSpec,
    source: BinaryIO,
    *,
    partner: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """``import_csv`` on a connection of its own (no pool, no statement timeout: a big import
    takes a while), for the partner named ``partner`` when the type belongs to one."""
    async with connected(url) as connection:
        parameters = await partner_parameters(connection, partner)
        try:
            return await import_csv(connection, spec, source, parameters, progress)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise ImportRaced(error.constraint_name or error.sqlstate) from error


class RowError(ValueError):
    """A CSV row is invalid; the message is the reason shown to the user."""


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportSpec:
    entity: str
    """The table it fills, also the plural in messages, e.g. "connectors"."""
    columns: tuple[str, ...]
    """Every column the CSV may have."""
    required: frozenset[str]
    """Columns the header must have."""
    staging: tuple[tuple[str, str], ...]
    """(name, SQL type) of each value ``parse`` returns, in order: the columns of ``import_rows``
    after its first column, ``line int``."""
    parse: Callable[[Mapping[str, str]], tuple[Any, ...]]
    """A row (column -> text; optional columns the file lacks are absent) to staging values.
    Raises ``RowError`` with the reason."""
    apply: str
    """SQL moving ``import_rows`` into place; may use the import's parameters ($1...)."""
    checks: tuple[str, ...] = ()
    """SQL over ``import_rows`` returning rows (line int, reason text); may use the parameters."""
    referenced: tuple[str, ...] = ()
    """The tables the rows refer to: locked with ``entity`` before the checks (``lock_tables``)."""
    positional: Callable[[Sequence[str]], Callable[[list[str]], tuple[Any, ...]]] | None = None
    """``parse`` without the mapping, for the big files: given the header, a function of a row's
    fields (in the header's order) that does what ``parse`` does (the connectors' import: building
    a dict per row was a third of a ten-million-row import)."""

    def row_parser(self, header: Sequence[str]) -> Callable[[list[str]], tuple[Any, ...]]:
        if self.positional is not None:
            return self.positional(header)
        parse = self.parse
        return lambda fields: parse(dict(zip(header, fields, strict=True)))


def lock_tables(spec: ImportSpec) -> str:
    """Run before an import's checks: no other write to the table it fills or to a table it refers
    to runs from its checks to its commit. So the checks see what the apply meets, and the apply,
    which holds the events' lock (``events_sequence_now``), never waits for a row of a writer that
    itself waits for that lock at its commit (a deadlock)."""
    locks = [f"LOCK TABLE {table} IN SHARE MODE" for table in spec.referenced]
    return "; ".join([*locks, f"LOCK TABLE {spec.entity} IN SHARE ROW EXCLUSIVE MODE"])


@dataclass
class ImportResult:
    rows: int = 0
    errors: list[LineError] = field(default_factory=list)
    more_errors: int = 0
    """Errors found beyond MAX_REPORTED_ERRORS."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, line: int, reason: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(LineError(line, reason))
        else:
            self.more_errors += 1


async def import_csv(
    connection: asyncpg.Connection,
    spec: ImportSpec,
    source: BinaryIO,
    parameters: Sequence[Any] = (),
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import ``source`` (a binary CSV file, UTF-8) per ``spec``. Nothing is written unless every row
    is good: then ``result.rows`` is 0 and ``result.errors`` says why. ``progress`` is called now and
    then with the bytes read and the rows parsed so far."""
    result = ImportResult()
    # Undecodable bytes become lone surrogates, found row by row so the error names the right line.
    text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        result.add_error(1, "the file is empty; the first line must name the columns")
        return result
    except (csv.Error, UnicodeDecodeError) as error:
        result.add_error(1, _unreadable(error))
        return result
    if not _is_utf8(header):
        result.add_error(1, _NOT_UTF8)
        return result
    if not _header_ok(spec, header, result):
        return result

    try:
        async with connection.transaction():
            # The checks sort or hash the whole file once per unique rule: in memory, not on disk.
            await connection.execute(f"SET LOCAL work_mem = '{IMPORT_WORK_MEM}'")
            columns = ", ".join(f"{name} {sql_type}" for name, sql_type in spec.staging)
            await connection.execute(f"CREATE TEMP TABLE {STAGING_TABLE} (line int NOT NULL, {columns}) ON COMMIT DROP")
            # A plain iterator: asyncpg encodes its rows without an await for each (the file is read
            # on the event loop, which has nothing else to do in the command).
            rows = _parsed_rows(spec, header, reader, source, result, progress)
            await connection.copy_records_to_table(
                STAGING_TABLE, records=rows, columns=["line", *(name for name, _ in spec.staging)]
            )
            if result.errors:
                raise _Rollback
            await connection.execute(f"ANALYZE {STAGING_TABLE}")
            await connection.execute(lock_tables(spec))
            for check in spec.checks:
                for row in await connection.fetch(check, *_used(check, parameters)):
                    result.add_error(row[0], row[1])
            if result.errors:
                result.errors.sort(key=lambda error: error.line)
                raise _Rollback
            # Its events straight into the feed, not through pending_events (migration 0019): the
            # other writers' commits wait from here to this commit.
            await connection.execute("SELECT events_sequence_now()")
            await connection.execute(spec.apply, *_used(spec.apply, parameters))
    except _Rollback:
        result.rows = 0
    return result


def _used(sql: str, parameters: Sequence[Any]) -> Sequence[Any]:
    """The parameters a statement refers to ($1 ... $n): PostgreSQL refuses extra ones."""
    highest = max((int(number) for number in re.findall(r"\$(\d+)", sql)), default=0)
    return parameters[:highest]


class _Rollback(Exception):
    """Raised inside the transaction to roll it back: errors were found."""


def _header_ok(spec: ImportSpec, header: list[str], result: ImportResult) -> bool:
    if len(header) == 1 and ";" in header[0]:
        result.add_error(
            1,
            "the columns are separated by ';', not ','. fleetreg reads comma-separated CSV: save the file "
            'as "CSV UTF-8 (comma delimited)", or replace the semicolons',
        )
        return False
    seen: set[str] = set()
    for name in header:
        if name in seen:
            result.add_error(1, f"column {name!r} appears twice")
        elif name not in spec.columns:
            expected = ", ".join(spec.columns)
            result.add_error(1, f"unknown column {name!r}; {spec.entity} have the columns {expected}")
        seen.add(name)
    for name in sorted(spec.required - seen):
        result.add_error(1, f"the required column {name!r} is missing")
    return not result.errors


_NOT_UTF8 = "the file is not UTF-8 text"


def _is_utf8(fields: list[str]) -> bool:
    text = "".join(fields)
    if text.isascii():  # most rows: no need to encode them to know
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unreadable(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return _NOT_UTF8
    return f"not valid CSV: {error}"


def _parsed_rows(
    spec: ImportSpec,
    header: list[str],
    reader: Any,
    source: BinaryIO,
    result: ImportResult,
    progress: Callable[[int, int], None] | None,
) -> Iterator[tuple[Any, ...]]:
    parse = spec.row_parser(header)
    width = len(header)
    line = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except (csv.Error, UnicodeDecodeError) as error:
            result.add_error(line, _unreadable(error))
            break
        start, line = line, reader.line_num + 1
        if not fields or fields == [""]:
            continue  # blank line
        if not _is_utf8(fields):
            result.add_error(start, _NOT_UTF8)
            continue
        if len(fields) != width:
            result.add_error(start, f"expected {width} fields, found {len(fields)}")
            continue
        try:
            values = parse(fields)
        except RowError as error:
            result.add_error(start, str(error))
            continue
        result.rows += 1
        if progress is not None and result.rows % _PROGRESS_EVERY == 0:
            progress(source.tell(), result.rows)
        if not result.errors:  # once a row is bad nothing will be written: stop copying, keep checking
            yield (start, *values)
    if progress is not None:
        progress(source.tell(), result.rows)


def parse_csv(spec: ImportSpec, data: bytes) -> tuple[list[tuple[Any, ...]], ImportResult]:
    """The rows of a small CSV held in memory (a form's upload), checked as ``import_csv`` checks
    them (header, UTF-8, field counts, ``spec.parse``): each row as (line, *values), and the result
    listing every bad line. For files read whole; ``import_csv`` streams large ones."""
    result = ImportResult()
    source = io.BytesIO(data)
    text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        result.add_error(1, "the file is empty; the first line must name the columns")
        return [], result
    except (csv.Error, UnicodeDecodeError) as error:
        result.add_error(1, _unreadable(error))
        return [], result
    if not _is_utf8(header):
        result.add_error(1, _NOT_UTF8)
        return [], result
    if not _header_ok(spec, header, result):
        return [], result
    rows: list[tuple[Any, ...]] = []
    width = len(header)
    line = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except (csv.Error, UnicodeDecodeError) as error:
            result.add_error(line, _unreadable(error))
            break
        start, line = line, reader.line_num + 1
        if not fields or fields == [""]:
            continue
        if not _is_utf8(fields):
            result.add_error(start, _NOT_UTF8)
        elif len(fields) != width:
            result.add_error(start, f"expected {width} fields, found {len(fields)}")
        else:
            try:
                rows.append((start, *spec.parse(dict(zip(header, fields, strict=True)))))
                result.rows += 1
            except RowError as error:
                result.add_error(start, str(error))
    return rows, result
