"""CSV imports: all rows or none, every bad row reported with its line, ids kept, totals exact."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from fleetreg.importer import import_csv
from fleetreg.partner.imports import CONNECTORS, CUSTOMERS

HEADER = "id,name,type,hardware_version,software_version,pin,customer_id\n"


@pytest.fixture
async def partner_id(db: asyncpg.Connection) -> uuid.UUID:
    return await db.fetchval("INSERT INTO partners (name) VALUES ('acme') RETURNING id")  # type: ignore[no-any-return]


def csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


async def count(db: asyncpg.Connection, table: str) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table}")  # type: ignore[no-any-return]


class TestGoodFiles:
    async def test_ids_kept_and_generated(self, db: asyncpg.Connection, partner_id: uuid.UUID) -> None:
        kept = uuid.uuid4()
        result = await import_csv(db, CUSTOMERS, csv(f"id,name\n{kept},Kept\n,Generated\n"), [partner_id])
        assert result.ok
        assert result.rows == 2
        rows = {row["name"]: row["id"] for row in await db.fetch("SELECT id, name FROM customers")}
        assert rows["Kept"] == kept
        assert isinstance(rows["Generated"], uuid.UUID)

    async def test_every_spelling_of_a_uuid_is_the_same_id(self, db: asyncpg.Connection, partner_id: uuid.UUID) -> None:
        upper, braced, bare = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        text = f"id,name\n{str(upper).upper()},Upper\n{{{braced}}},Braced\n{bare.hex},Bare\n"
        result = await import_csv(db, CUSTOMERS, csv(text), [partner_id])
        assert result.ok, result.errors
        rows = {row["name"]: row["id"] for row in await db.fetch("SELECT id, name FROM customers")}
        assert rows == {"Upper": upper, "Braced": braced, "Bare": bare}
        again = await import_csv(db, CUSTOMERS, csv(f"id,name\n{upper},Again\nurn:uuid:{upper},Twice\n"), [partner_id])
        assert [(e.line, e.reason.split(" ")[0]) for e in again.errors] == [(2, "a"), (3, "id"), (3, "a")]

    async def test_connectors_with_every_column_and_totals(self, db: asyncpg.Connection, partner_id: uuid.UUID) -> None:
        customer = uuid.uuid4()
        await import_csv(db, CUSTOMERS, csv(f"id,name\n{customer},C\n"), [partner_id])
        text = HEADER + "".join(
            f",c{i},{'physical' if i % 2 else 'virtual'},1.{i},2.{i},{f'{i:05d}' if i % 3 else ''},"
            f"{customer if i < 4 else ''}\n"
            for i in range(10)
        )
        result = await import_csv(db, CONNECTORS, csv(text), [partner_id])
        assert result.ok, result.errors
        assert result.rows == 10
        row = await db.fetchrow("SELECT * FROM connectors WHERE name = 'c1'")
        assert (row["type"], row["hardware_version"], row["software_version"], row["pin"], row["customer_id"]) == (
            "physical",
            "1.1",
            "2.1",
            "00001",
            customer,
        )
        assert await db.fetchval("SELECT pin FROM connectors WHERE name = 'c3'") is None
        totals = {(r["type"], r["assigned"]): r["n"] for r in await db.fetch("SELECT * FROM connector_totals")}
        actual = {
            (r["type"], r["assigned"]): r["n"]
            for r in await db.fetch(
                "SELECT type, customer_id IS NOT NULL AS assigned, count(*) AS n FROM connectors GROUP BY 1, 2"
            )
        }
        assert (
            totals
            == actual
            == {("physical", True): 2, ("virtual", True): 2, ("physical", False): 3, ("virtual", False): 3}
        )

    async def test_optional_columns_may_be_left_out(self, db: asyncpg.Connection, partner_id: uuid.UUID) -> None:
        text = "name,type,hardware_version,software_version\nx,virtual,1,2\n"
        assert (await import_csv(db, CONNECTORS, csv(text), [partner_id])).ok
        assert await count(db, "connectors") == 1

    async def test_quoted_fields_bom_and_blank_lines(self, db: asyncpg.Connection, partner_id: uuid.UUID) -> None:
        text = '\ufeffid,name\n,"Smith, Jones & Co"\n\n,"two\nlines"\n,Last\n'
        result = await import_csv(db, CUSTOMERS, csv(text), [partner_id])
        assert result.ok
        names = {row[0] for row in await db.fetch("SELECT name FROM customers")}
        assert names == {"Smith, Jones & Co", "two\nlines", "Last"}


class TestBadFiles:
    async def test_every_bad_row_reported_nothing_written(self, db: asyncpg.Connection, partner_id: uuid.UUID) -> None:
        text = (
            HEADER
            + ",ok,physical,1,2,,\n"  # line 2: fine
            + ",b,weird,1,2,,\n"  # 3
            + ",c,virtual,1,2,1234,\n"  # 4
            + ",d,virtual,1,2,,not-a-uuid\n"  # 5
            + ",,virtual,1,2,,\n"  # 6
            + ",f,virtual,,2,,\n"  # 7
            + ",g,virtual,1,2\n"  # 8: too few fields
            + "not-uuid,h,virtual,1,2,,\n"  # 9
        )
        result = await import_csv(db, CONNECTORS, csv(text), [partner_id])
        assert not result.ok
        assert result.rows == 0
        assert [(e.line, e.reason) for e in result.errors] == [
            (3, "type must be physical or virtual, not 'weird'"),
            (4, "pin must be five digits, not '1234'"),
            (5, "customer_id 'not-a-uuid' is not a UUID"),
            (6, "name is empty"),
            (7, "hardware_version is empty"),
            (8, "expected 7 fields, found 5"),
            (9, "id 'not-uuid' is not a UUID"),
        ]
        assert await count(db, "connectors") == 0
        assert await count(db, "connector_totals") == 0

    async def test_conflicts_found_by_the_database(self, db: asyncpg.Connection, partner_id: uuid.UUID) -> None:
        other_partner = await db.fetchval("INSERT INTO partners (name) VALUES ('other') RETURNING id")
        foreign_customer = await db.fetchval(
            "INSERT INTO customers (partner_id, name) VALUES ($1, 'theirs') RETURNING id", other_partner
        )
        existing = await db.fetchval(
            "INSERT INTO connectors (partner_id, name, type, hardware_version, software_version)"
            " VALUES ($1, 'taken', 'virtual', '1', '1') RETURNING id",
            partner_id,
        )
        repeated = uuid.uuid4()
        text = (
            HEADER
            + f"{repeated},a,virtual,1,1,,\n"  # 2
            + f"{repeated},b,virtual,1,1,,\n"  # 3: id again
            + ",a,virtual,1,1,,\n"  # 4: name again
            + ",taken,virtual,1,1,,\n"  # 5: name exists
            + f"{existing},e,virtual,1,1,,\n"  # 6: id exists
            + f",f,virtual,1,1,,{foreign_customer}\n"  # 7: another partner's customer
            + f",g,virtual,1,1,,{uuid.uuid4()}\n"  # 8: no such customer
        )
        result = await import_csv(db, CONNECTORS, csv(text), [partner_id])
        reasons = {(e.line, e.reason.split(" ")[0]) for e in result.errors}
        assert sorted(e.line for e in result.errors) == [3, 4, 5, 6, 7, 8]
        assert (3, "id") in reasons
        assert (4, "name") in reasons
        assert await count(db, "connectors") == 1

    async def test_names_of_another_partner_do_not_conflict(
        self, db: asyncpg.Connection, partner_id: uuid.UUID
    ) -> None:
        other_partner = await db.fetchval("INSERT INTO partners (name) VALUES ('other') RETURNING id")
        await import_csv(db, CONNECTORS, csv(HEADER + ",same,virtual,1,1,,\n"), [other_partner])
        result = await import_csv(db, CONNECTORS, csv(HEADER + ",same,virtual,1,1,,\n"), [partner_id])
        assert result.ok

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("", "the file is empty"),
            ("name,colour\nx,red\n", "unknown column 'colour'"),
            ("id,id,name\n", "column 'id' appears twice"),
            ("id\n", "the required column 'name' is missing"),
        ],
    )
    async def test_header_problems(self, db: asyncpg.Connection, partner_id: uuid.UUID, text: str, reason: str) -> None:
        result = await import_csv(db, CUSTOMERS, csv(text), [partner_id])
        assert not result.ok
        assert result.errors[0].line == 1
        assert reason in result.errors[0].reason

    async def test_not_utf8(self, db: asyncpg.Connection, partner_id: uuid.UUID) -> None:
        result = await import_csv(db, CUSTOMERS, io.BytesIO(b"id,name\n,Caf\xe9\n"), [partner_id])
        assert [(e.line, e.reason) for e in result.errors] == [(2, "the file is not UTF-8 text")]
        assert await count(db, "customers") == 0


class TestBesideOtherWriters:
    """An import writes its events under the events' lock (migration 0019): a writer that began
    before it and commits while it runs must neither deadlock with it nor slip past its checks."""

    async def test_a_writer_that_commits_during_the_import_comes_first_and_is_checked_against(
        self, db: asyncpg.Connection, partner_id: uuid.UUID, database_url: str
    ) -> None:
        writer = await asyncpg.connect(database_url)
        try:
            await writer.execute("BEGIN")
            await writer.execute(
                "INSERT INTO connectors (partner_id, name, type, hardware_version, software_version) "
                "VALUES ($1, 'taken', 'virtual', '1', '2')",
                partner_id,
            )
            text = HEADER + ",taken,virtual,1,2,,\n,free,virtual,1,2,,\n"
            importing = asyncio.create_task(import_csv(db, CONNECTORS, csv(text), [partner_id]))
            await asyncio.sleep(0.5)
            assert not importing.done()  # it waits for the writer's table lock, before its checks
            await writer.execute("COMMIT")
            result = await asyncio.wait_for(importing, 10)
        finally:
            await writer.close()
        assert [(error.line, error.reason) for error in result.errors] == [
            (2, "the partner has a connector named taken already")
        ]
        assert await count(db, "connectors") == 1


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
    env["FLEETREG_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "fleetreg", *args], env=env, capture_output=True, text=True, timeout=120
    )


class TestCommand:
    async def test_reports_like_a_compiler_and_exits_1(
        self, database_url: str, partner_id: uuid.UUID, tmp_path: Path
    ) -> None:
        bad = tmp_path / "bad.csv"
        bad.write_text("name,type,hardware_version,software_version\nok,virtual,1,1\nno,weird,1,1\n")
        result = run_cli(database_url, "import", "connectors", "--partner", "acme", str(bad))
        assert result.returncode == 1
        assert f"{bad}:3: type must be physical or virtual, not 'weird'" in result.stderr
        assert "nothing was imported: 1 error in" in result.stderr

    async def test_json_result(
        self, database_url: str, partner_id: uuid.UUID, tmp_path: Path, db: asyncpg.Connection
    ) -> None:
        good = tmp_path / "good.csv"
        good.write_text("name\n" + "".join(f"customer {i}\n" for i in range(50)))
        result = run_cli(database_url, "import", "customers", "--partner", "acme", str(good), "--json")
        assert result.returncode == 0, result.stderr
        body = json.loads(result.stdout)
        assert (body["imported"], body["entity"], body["errors"]) == (50, "customers", [])
        assert await db.fetchval("SELECT n FROM customer_totals WHERE partner_id = $1", partner_id) == 50

    async def test_one_row_is_one_connector(self, database_url: str, partner_id: uuid.UUID, tmp_path: Path) -> None:
        one = tmp_path / "one.csv"
        one.write_text("name,type,hardware_version,software_version\nsolo,virtual,1,1\n")
        result = run_cli(database_url, "import", "connectors", "--partner", "acme", str(one))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("imported 1 connector in "), result.stdout

    async def test_the_first_hundred_errors_then_their_count_and_all_in_the_errors_file(
        self, database_url: str, partner_id: uuid.UUID, tmp_path: Path
    ) -> None:
        bad = tmp_path / "bad.csv"
        bad.write_text(
            "name,type,hardware_version,software_version\n" + "".join(f"c{i},weird,1,1\n" for i in range(150))
        )
        shown = run_cli(database_url, "import", "connectors", "--partner", "acme", str(bad))
        lines = shown.stderr.splitlines()
        assert sum(line.startswith(f"{bad}:") and "weird" in line for line in lines) == 100
        assert f"{bad}: and 50 more errors (--errors-file F writes them all to F)" in lines
        assert "nothing was imported: 150 errors in" in shown.stderr
        errors = tmp_path / "errors.txt"
        run_cli(database_url, "import", "connectors", "--partner", "acme", str(bad), "--errors-file", str(errors))
        written = errors.read_text().splitlines()
        assert len(written) == 150
        assert written[-1] == f"{bad}:151: type must be physical or virtual, not 'weird'"

    async def test_a_semicolon_separated_file_gets_a_hint(
        self, database_url: str, partner_id: uuid.UUID, tmp_path: Path
    ) -> None:
        excel = tmp_path / "excel.csv"
        excel.write_text("name;type;hardware_version;software_version\nc1;virtual;1;1\n")
        result = run_cli(database_url, "import", "connectors", "--partner", "acme", str(excel))
        assert result.returncode == 1
        assert f"{excel}:1: the columns are separated by ';', not ','." in result.stderr

    def test_unknown_partner_and_missing_file(self, database_url: str, tmp_path: Path) -> None:
        file = tmp_path / "c.csv"
        file.write_text("name\nx\n")
        unknown = run_cli(database_url, "import", "customers", "--partner", "nobody", str(file))
        assert unknown.returncode == 1
        assert unknown.stderr.startswith("fleetreg: error: no partner named 'nobody'")
        missing = run_cli(database_url, "import", "customers", "--partner", "nobody", str(tmp_path / "nope.csv"))
        assert missing.returncode == 1
        assert "no such file" in missing.stderr


@pytest.mark.parametrize(
    "header",
    [
        ["id", "name", "type", "hardware_version", "software_version", "pin", "customer_id"],
        ["type", "software_version", "name", "hardware_version"],  # no optional column, another order
        ["customer_id", "pin", "hardware_version", "software_version", "type", "name"],
    ],
)
def test_the_connectors_positional_parser_is_the_mapping_one(header: list[str]) -> None:
    """The connectors' fast parser (fields by position) answers what ``parse`` (a mapping) answers:
    the same values, or the same first reason, for good and bad rows."""
    from fleetreg.importer import RowError
    from fleetreg.partner.imports import CONNECTORS

    good = {
        "id": "0b1c2d3e-4f50-4617-8899-aabbccddeeff",
        "name": "c1",
        "type": "virtual",
        "hardware_version": "1",
        "software_version": "2",
        "pin": "12345",
        "customer_id": " {0B1C2D3E-4F50-4617-8899-AABBCCDDEEFF} ",
    }
    changes = [
        {},
        {"type": "weird"},
        {"pin": "1234"},
        {"pin": ""},
        {"id": "not-uuid"},
        {"id": ""},
        {"customer_id": "nope"},
        {"name": ""},
        {"name": "n" * 201},
        {"hardware_version": ""},
        {"software_version": "s" * 101},
        {"type": "weird", "name": ""},
    ]
    positional = CONNECTORS.row_parser(header)
    for change in changes:
        row = {name: {**good, **change}[name] for name in header}
        try:
            expected: object = CONNECTORS.parse(row)
        except RowError as error:
            expected = str(error)
        try:
            answered: object = positional([row[name] for name in header])
        except RowError as error:
            answered = str(error)
        assert answered == expected, change
