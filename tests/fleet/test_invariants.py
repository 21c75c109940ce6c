"""The four invariants of docs/api.md held by the database itself (plain SQL, no service in the way), each
violation translated to the documented error; and the SQL format checks agreeing with Python's."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetreg.console import queries as console
from fleetreg.constraints import CONSTRAINT_ERRORS
from fleetreg.db import translate
from fleetreg.fleet import errors
from fleetreg.fleet import queries as fleet
from fleetreg.fleet.associations import queries as associations
from fleetreg.fleet.formats import check_iccid, check_imei, cnpj_check_digits, luhn_valid, normalize_cnpj

ENTERPRISE, OTHER = "E00000000000001", "E00000000000002"
V1, V2, V_OTHER = "V00000000000001", "V00000000000002", "V00000000000009"
D1, D2, D3, D_OTHER = "D00000000000001", "D00000000000002", "D00000000000003", "D00000000000009"


@pytest.fixture
async def rows(db: asyncpg.Connection) -> None:
    await db.execute(
        f"""
INSERT INTO enterprises (id, name, cnpj)
    VALUES ('{ENTERPRISE}', 'A', '11222333000181'), ('{OTHER}', 'B', '12ABC34501DE35');
INSERT INTO vehicles (id, enterprise_id, name) VALUES ('{V1}', '{ENTERPRISE}', 'v1'), ('{V2}', '{ENTERPRISE}', 'v2'),
    ('{V_OTHER}', '{OTHER}', 'v9');
INSERT INTO devices (id, enterprise_id, name, imei, code) VALUES
    ('{D1}', '{ENTERPRISE}', 'd1', '490154203237518', 'c'), ('{D2}', '{ENTERPRISE}', 'd2', '356938035643809', 'c'),
    ('{D3}', '{ENTERPRISE}', 'd3', '352099001761481', 'c'), ('{D_OTHER}', '{OTHER}', 'd9', '353918057512341', 'c');
"""
    )


async def associate(db: asyncpg.Connection, association: str, vehicle: str, device: str, main: bool) -> None:
    await db.execute(insert(association, vehicle, device, main))


async def violation(db: asyncpg.Connection, *statements: str) -> asyncpg.PostgresError:
    """The error of running ``statements`` in one transaction (commit included: deferred checks)."""
    try:
        async with db.transaction():
            for statement in statements:
                await db.execute(statement)
    except asyncpg.PostgresError as error:
        return error
    raise AssertionError(f"no error from {statements}")


def insert(association: str, vehicle: str, device: str, main: bool, enterprise: str = ENTERPRISE) -> str:
    return (
        "INSERT INTO device_associations (id, enterprise_id, vehicle_id, device_id, is_main_device) "
        f"VALUES ('{association}', '{enterprise}', '{vehicle}', '{device}', {str(main).lower()})"
    )


pytestmark = pytest.mark.usefixtures("rows")


async def test_1_a_device_has_at_most_one_active_association(db: asyncpg.Connection) -> None:
    await associate(db, "A00000000000001", V1, D1, True)
    error = await violation(db, insert("A00000000000002", V2, D1, True))
    assert error.constraint_name == "device_associations_active_device_key"
    assert isinstance(translate(error, CONSTRAINT_ERRORS), errors.DeviceAlreadyAssociated)
    await db.execute("UPDATE device_associations SET ended_at = now() WHERE id = 'A00000000000001'")
    await associate(db, "A00000000000002", V2, D1, True)


async def test_2_at_most_one_main(db: asyncpg.Connection) -> None:
    await associate(db, "A00000000000001", V1, D1, True)
    error = await violation(db, insert("A00000000000002", V1, D2, True))
    assert error.constraint_name == "device_associations_active_main_key"
    assert isinstance(translate(error, CONSTRAINT_ERRORS), errors.VehicleAlreadyHasMainDevice)


async def test_2_at_least_one_main_checked_at_commit(db: asyncpg.Connection) -> None:
    error = await violation(db, insert("A00000000000001", V1, D1, False))
    assert error.constraint_name == "device_associations_one_main_check"
    assert isinstance(translate(error, CONSTRAINT_ERRORS), errors.MainDeviceRequired)
    # within a transaction the vehicle may pass through "no main", as a PATCH of the main does
    await associate(db, "A00000000000001", V1, D1, True)
    await associate(db, "A00000000000002", V1, D2, False)
    async with db.transaction():
        await db.execute("UPDATE device_associations SET is_main_device = false WHERE id = 'A00000000000001'")
        await db.execute("UPDATE device_associations SET is_main_device = true WHERE id = 'A00000000000002'")
    error = await violation(db, "UPDATE device_associations SET ended_at = now() WHERE id = 'A00000000000002'")
    assert error.constraint_name == "device_associations_one_main_check"
    error = await violation(db, "UPDATE device_associations SET is_main_device = false WHERE id = 'A00000000000002'")
    assert error.constraint_name == "device_associations_one_main_check"


async def test_3_same_enterprise(db: asyncpg.Connection) -> None:
    error = await violation(db, insert("A00000000000001", V1, D_OTHER, True))
    assert error.constraint_name == "device_associations_device_fkey"
    assert isinstance(translate(error, CONSTRAINT_ERRORS), errors.EnterpriseMismatch)
    error = await violation(db, insert("A00000000000001", V_OTHER, D1, True))
    assert error.constraint_name == "device_associations_vehicle_fkey"
    assert isinstance(translate(error, CONSTRAINT_ERRORS), errors.EnterpriseMismatch)
    # and a vehicle with associations cannot leave their enterprise
    await associate(db, "A00000000000001", V1, D1, True)
    error = await violation(db, f"UPDATE vehicles SET enterprise_id = '{OTHER}' WHERE id = '{V1}'")
    assert error.constraint_name == "device_associations_vehicle_fkey"


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM device_associations",
        "TRUNCATE device_associations",
        "UPDATE device_associations SET vehicle_id = 'V00000000000002'",
        "UPDATE device_associations SET created_at = now() - interval '1 day'",
    ],
)
async def test_4_associations_are_never_erased_or_rewritten(db: asyncpg.Connection, statement: str) -> None:
    await associate(db, "A00000000000001", V1, D1, True)
    error = await violation(db, statement)
    assert error.constraint_name == "device_associations_history_check"
    assert await db.fetchval("SELECT count(*) FROM device_associations") == 1


async def test_4_an_ended_association_never_changes(db: asyncpg.Connection) -> None:
    await associate(db, "A00000000000001", V1, D1, True)
    await db.execute("UPDATE device_associations SET ended_at = now()")
    for statement in (
        "UPDATE device_associations SET ended_at = NULL",
        "UPDATE device_associations SET is_main_device = false",
    ):
        error = await violation(db, statement)
        assert error.constraint_name == "device_associations_history_check"


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (f"INSERT INTO enterprises (id, name, cnpj) VALUES ('{ENTERPRISE}', 'x', '11444777000161')", errors.IdInUse),
        (
            "INSERT INTO enterprises (id, name, cnpj) VALUES ('E00000000000003', 'x', '11222333000181')",
            errors.CnpjTaken,
        ),
        (
            "INSERT INTO devices (id, enterprise_id, name, imei, code) "
            f"VALUES ('D00000000000005', '{ENTERPRISE}', 'x', '490154203237518', 'c')",
            errors.ImeiTaken,
        ),
        (
            "INSERT INTO vehicles (id, enterprise_id, name) VALUES ('V00000000000005', 'E00000000000404', 'x')",
            errors.EnterpriseNotFound,
        ),
        (
            "INSERT INTO chips (id, serial, number, carrier, service_provider, batch, device_id) "
            "VALUES ('C00000000000001', '8955010000000000005', '+5511', 'c', 'c', 'c', 'D00000000000404')",
            errors.DeviceNotFound,
        ),
    ],
)
async def test_constraints_mean_the_documented_errors(db: asyncpg.Connection, statement: str, error: type) -> None:
    assert isinstance(translate(await violation(db, statement), CONSTRAINT_ERRORS), error)


async def test_chip_constraints(db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO chips (id, serial, number, carrier, service_provider, batch, device_id) "
        f"VALUES ('C00000000000001', '8955010000000000005', '+5511', 'c', 'c', 'c', '{D1}')"
    )
    taken_serial = await violation(
        db,
        "INSERT INTO chips (id, serial, number, carrier, service_provider, batch) "
        "VALUES ('C00000000000002', '8955010000000000005', '+5511', 'c', 'c', 'c')",
    )
    assert isinstance(translate(taken_serial, CONSTRAINT_ERRORS), errors.IccidTaken)
    second_chip = await violation(
        db,
        "INSERT INTO chips (id, serial, number, carrier, service_provider, batch, device_id) "
        f"VALUES ('C00000000000002', '8955010000000000013', '+5511', 'c', 'c', 'c', '{D1}')",
    )
    assert isinstance(translate(second_chip, CONSTRAINT_ERRORS), errors.DeviceHasChip)


# the database is only read: one for all examples is right
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet="0123456789", min_size=1, max_size=20), min_size=1, max_size=50))
async def test_sql_luhn_agrees_with_python(database_url: str, numbers: list[str]) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        verdicts = await connection.fetch("SELECT n, luhn_valid(n) AS ok FROM unnest($1::text[]) AS n", numbers)
    finally:
        await connection.close()
    for row in verdicts:
        assert row["ok"] == luhn_valid(row["n"]), row["n"]


def _python_cnpj_ok(text: str) -> bool:
    try:
        return normalize_cnpj(text) == text
    except ValueError:
        return False


CNPJ_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZa./-"


# the database is only read: one for all examples is right
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=CNPJ_ALPHABET, min_size=14, max_size=14),
            st.from_regex(r"\A[0-9A-Z]{12}\Z", fullmatch=True).map(lambda base: base + cnpj_check_digits(base)),
        ),
        min_size=1,
        max_size=50,
    )
)
async def test_sql_cnpj_agrees_with_python(database_url: str, candidates: list[str]) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        verdicts = await connection.fetch("SELECT c, cnpj_valid(c) AS ok FROM unnest($1::text[]) AS c", candidates)
    finally:
        await connection.close()
    for row in verdicts:
        assert row["ok"] == _python_cnpj_ok(row["c"]), row["c"]


def test_python_checks_reject_what_sql_rejects() -> None:
    with pytest.raises(ValueError, match="Luhn"):
        check_imei("490154203237519")
    with pytest.raises(ValueError, match="19 or 20"):
        check_iccid("89550100000000000")


# Every lookup of associations by device or vehicle id, as the code runs it: (statement, arguments).
def _lookups_by_id() -> dict[str, tuple[str, list[object]]]:
    now = datetime.now(UTC)
    return {
        "device history": (
            associations.device_history(as_of=True, known_at=True, count=True),
            [None, D1, 25, 0, now, now],
        ),
        "device history, plain": (
            associations.device_history(as_of=False, known_at=False, count=False),
            [None, D1, 25, 0],
        ),
        "before a device is deleted": (fleet.DEVICE_ASSOCIATIONS_AND_CHIP, [D1]),
        "a backdated write's conflicts": (associations.HISTORY_CONFLICTS, [[V1], [D1], [True], [now]]),
        "the console's pair": (console.ACTIVE_ASSOCIATION_OF_PAIR, [V1, D1, None]),
    }


def _index_searches(plan: object) -> list[str]:
    """The indexes a plan (EXPLAIN's JSON) searches by a condition."""
    if isinstance(plan, list):
        return [name for node in plan for name in _index_searches(node)]
    if not isinstance(plan, dict):
        return []
    here = [plan["Index Name"]] if "Index Name" in plan and "Index Cond" in plan else []
    return here + [name for value in plan.values() for name in _index_searches(value)]


@pytest.mark.parametrize("lookup", list(_lookups_by_id()))
async def test_exclusion_indexes_serve_only_their_constraints(db: asyncpg.Connection, lookup: str) -> None:
    """The history's GiST indexes are searched by the id's hash first: a lookup by the id alone reads
    most of them (migration 0022). With every other index of the table gone and sequential scans
    discouraged, the planner still cannot search one by the id."""
    statement, arguments = _lookups_by_id()[lookup]
    transaction = db.transaction()
    await transaction.start()
    try:
        others = await db.fetch(
            "SELECT i.indexrelid::regclass::text AS name, c.conname FROM pg_index AS i "
            "LEFT JOIN pg_constraint AS c ON c.conindid = i.indexrelid "
            "WHERE i.indrelid = 'device_associations'::regclass "
            "AND i.indexrelid::regclass::text NOT LIKE '%overlap_excl'"
        )
        for index in others:
            if index["conname"]:
                await db.execute(f"ALTER TABLE device_associations DROP CONSTRAINT {index['conname']} CASCADE")
            else:
                await db.execute(f"DROP INDEX {index['name']}")
        await db.execute("SET LOCAL enable_seqscan = off")
        plan = json.loads(await db.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *arguments))
    finally:
        await transaction.rollback()
    assert "device_associations" in json.dumps(plan)  # the statement reads the table at all
    assert not [name for name in _index_searches(plan) if name.endswith("overlap_excl")], plan
