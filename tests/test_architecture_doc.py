"""docs/architecture.md stays true: the files, constraints, indexes, triggers and functions it names
exist, and every constraint registered as a problem is in its tables."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

from fleetreg.constraints import CONSTRAINT_ERRORS

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()
SOURCE = ROOT / "src" / "fleetreg"
CODE_SPANS = set(re.findall(r"`([^`\n]+)`", DOC))
SCHEMA_NAME = re.compile(r"[a-z_]+_(key|fkey|pkey|check|idx|totals|history|one_main|truncate)")


def test_named_files_exist() -> None:
    named = {span for span in CODE_SPANS if re.fullmatch(r"[\w/]+\.py", span)}
    assert named
    known = {path.relative_to(SOURCE).as_posix() for path in SOURCE.rglob("*.py")}
    known |= {path.relative_to(ROOT).as_posix() for path in ROOT.glob("tests/**/*.py")}
    known |= {path.name for path in SOURCE.rglob("*.py")}
    assert sorted(named - known) == []


async def test_named_schema_objects_exist(db: asyncpg.Connection) -> None:
    named = {span for span in CODE_SPANS if SCHEMA_NAME.fullmatch(span)}
    named |= {span.split()[0] for span in CODE_SPANS if SCHEMA_NAME.fullmatch(span.split()[0])}
    assert len(named) > 20
    existing = {
        row[0]
        for row in await db.fetch(
            "SELECT conname FROM pg_constraint UNION SELECT relname FROM pg_class UNION SELECT tgname FROM pg_trigger"
        )
    }
    # constraint names that triggers give the errors they raise (RAISE ... CONSTRAINT = '...')
    migrations = "\n".join(path.read_text() for path in (SOURCE / "migrations" / "versions").glob("*.py"))
    raised = set(re.findall(r"CONSTRAINT = '([a-z_]+)'", migrations))
    assert sorted(named - existing - raised) == []


async def test_named_functions_exist(db: asyncpg.Connection) -> None:
    named = {span.removesuffix("()") for span in CODE_SPANS if re.fullmatch(r"[a-z_]+\(\)", span)}
    sql_functions = {row[0] for row in await db.fetch("SELECT proname FROM pg_proc")}
    python = "\n".join(path.read_text() for path in SOURCE.rglob("*.py"))
    missing = [name for name in sorted(named) if name not in sql_functions and f"def {name}(" not in python]
    assert missing == []


def test_every_registered_constraint_is_documented() -> None:
    assert CONSTRAINT_ERRORS
    assert [name for name in sorted(CONSTRAINT_ERRORS) if not re.search(rf"\b{name}\b", DOC)] == []


def test_development_guide_links_it() -> None:
    assert "(architecture.md)" in (ROOT / "docs" / "development.md").read_text()
