"""The layers point one way (docs/architecture.md), checked on the source rather than promised:

- a router (the HTTP edge of a domain) never holds SQL: it imports no ``queries`` module and no asyncpg;
- the web kit (``fleetreg.web``) is transport only: it imports no domain, no database code;
- domain code (services, queries, imports, exports, the database helpers) never imports the web kit,
  so the CLI, the demo and the tests call it without HTTP;
- the CLI and the demo run no SQL of their own: no ``queries`` module, no asyncpg, no SQL text.

Every import statement counts, the lazy ones inside functions included."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "fleetreg"
# The modules that join the kit to the domains: the composition root, the caller of a route, how a
# write and a read run.
WEB_GLUE = {"auth/access.py", "writes.py", "reads.py", "app.py", "ops.py", "docs.py"}
DOMAINS = ("fleetreg.partner", "fleetreg.fleet", "fleetreg.auth", "fleetreg.console", "fleetreg.events")
DATABASE = ("asyncpg", "fleetreg.db", "fleetreg.pool", "fleetreg.writes", "fleetreg.idempotency")
SQL_TEXT = re.compile(r"^\s*(SELECT\s|INSERT INTO\s|UPDATE \w+ SET\s|DELETE FROM\s|WITH \w+ AS\s|NOTIFY\s|LISTEN\s)")


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if not relative.startswith("migrations/"):
            yield relative, ast.parse(path.read_text(), filename=str(path))


def imported(tree: ast.Module, module: str) -> set[str]:
    """Every module the file imports, absolute (``from fleetreg.auth import queries`` is
    ``fleetreg.auth.queries`` as well as ``fleetreg.auth``)."""
    package = module.rsplit(".", 1)[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def module_name(relative: str) -> str:
    return "fleetreg." + relative.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def is_router(relative: str) -> bool:
    """The HTTP edge of a domain: its routes and what they share (parameters, the envelope)."""
    return relative.rsplit("/", 1)[-1] in {"router.py", "routes.py", "http.py"} or relative in {"ops.py", "docs.py"}


def is_domain(relative: str) -> bool:
    return not relative.startswith(("web/", "cli/")) and relative not in WEB_GLUE and not is_router(relative)


def sql_constants(tree: ast.Module) -> list[str]:
    return [
        node.value[:40]
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.match(node.value)
    ]


LAYERED = list(modules())


def where(select: Callable[[str], bool]) -> list[Any]:
    """The modules ``select`` picks, as parameters named by their path."""
    return [pytest.param(relative, tree, id=relative) for relative, tree in LAYERED if select(relative)]


@pytest.mark.parametrize(("relative", "tree"), where(is_router))
def test_routers_hold_no_sql(relative: str, tree: ast.Module) -> None:
    names = imported(tree, module_name(relative))
    assert sorted(n for n in names if n == "asyncpg" or n.endswith(".queries")) == []
    assert sql_constants(tree) == []


@pytest.mark.parametrize(("relative", "tree"), where(lambda relative: relative.startswith("web/")))
def test_the_web_kit_knows_no_domain(relative: str, tree: ast.Module) -> None:
    names = imported(tree, module_name(relative))
    assert sorted(n for n in names if within(n, DOMAINS + DATABASE)) == []


@pytest.mark.parametrize(("relative", "tree"), where(is_domain))
def test_domain_code_never_imports_the_web_kit(relative: str, tree: ast.Module) -> None:
    names = imported(tree, module_name(relative))
    assert sorted(n for n in names if within(n, ("fleetreg.web", "granian"))) == []


@pytest.mark.parametrize(
    ("relative", "tree"), where(lambda relative: relative.startswith("cli/") or relative == "demo.py")
)
def test_the_cli_and_the_demo_run_no_sql_of_their_own(relative: str, tree: ast.Module) -> None:
    names = imported(tree, module_name(relative))
    assert sorted(n for n in names if n == "asyncpg" or n.endswith(".queries")) == []
    assert sql_constants(tree) == []


def test_the_check_sees_a_violation() -> None:
    """The checks above would fail on a router with SQL: the helpers find what they look for."""
    tree = ast.parse("from fleetreg.fleet import queries\nimport asyncpg\nQ = 'SELECT 1'\n")
    names = imported(tree, "fleetreg.fleet.router")
    assert {"fleetreg.fleet.queries", "asyncpg"} <= names
    assert sql_constants(tree) == ["SELECT 1"]
    relative_import = ast.parse("from . import queries\n")
    assert "fleetreg.fleet.queries" in imported(relative_import, "fleetreg.fleet.router")
