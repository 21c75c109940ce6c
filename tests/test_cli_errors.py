"""The command line's contract with people and scripts: every mistake is one line on stderr
(``fleetreg: error: ...``), never a traceback; exit status 1 when the operation failed, 2 when the
command was used wrongly; ``--json`` for scripts; ``--help`` with an example everywhere."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
import typer
import typer.main

from fleetreg.cli import app
from fleetreg.cli.common import run_app
from tests.support.processes import FLEETREG, environment

FAILED, USAGE = 1, 2


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FLEETREG, *args], env=environment(**env), capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("fleetreg: error: "), result.stderr
    assert message in result.stderr
    assert result.stdout == ""


@pytest.fixture
def unreachable(tmp_path: Path) -> str:
    """A database URL nothing listens on (a unix socket directory with no server)."""
    return f"postgresql://postgres@/postgres?host={tmp_path}"


@pytest.fixture
def bad_enterprises(tmp_path: Path) -> Path:
    path = tmp_path / "enterprises.csv"
    path.write_text("name,cnpj\nAcme,123\n")
    return path


class TestUsageErrors:
    """Exit status 2: the command line itself is wrong; nothing was attempted."""

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["bogus"], "no such command 'bogus' (see fleetreg --help)"),
            (["export", "nothing"], "no such command 'nothing' (see fleetreg export --help)"),
            (["import", "customers", "x.csv"], "missing option '--partner' (see fleetreg import customers --help)"),
            (["import", "enterprises"], "missing argument 'file'"),
            (["export", "enterprises", "--format", "xml"], "invalid value for '--format': 'xml' is not one of"),
            (["clients", "list", "--verbose"], "no such option: --verbose"),
            (["serve", "--port", "99999"], "--port: Input should be less than or equal to 65535"),
            (["serve", "--port", "eighty"], "invalid value for '--port'"),
        ],
    )
    def test_bad_command_line(self, args: list[str], message: str) -> None:
        assert_one_line_error(run(*args), USAGE, message)

    @pytest.mark.parametrize("url", ["mysql://app@db/fleetreg", "not a url"])
    def test_bad_database_url(self, url: str) -> None:
        result = run("clients", "list", FLEETREG_DATABASE_URL=url)
        assert_one_line_error(result, USAGE, "FLEETREG_DATABASE_URL: must start with postgresql://")

    def test_restore_without_yes_and_no_terminal_to_ask(self, tmp_path: Path) -> None:
        dump = tmp_path / "x.dump"
        dump.write_bytes(b"PGDMP")
        result = run("db", "restore", str(dump), FLEETREG_DATA_DIR=str(tmp_path / "var"))
        assert_one_line_error(result, USAGE, "confirm with --yes")

    def test_unknown_revision(self, database_url: str) -> None:
        result = run("db", "upgrade", "nosuchrev", FLEETREG_DATABASE_URL=database_url)
        assert_one_line_error(result, USAGE, "revision 'nosuchrev': Can't locate revision")

    def test_a_group_without_command_shows_its_help(self) -> None:
        result = run("db")
        assert result.returncode == USAGE
        assert "Usage: fleetreg db" in result.stderr
        assert "Traceback" not in result.stderr


class TestFailures:
    """Exit status 1: the command was right, the operation could not be done."""

    @pytest.mark.parametrize(
        "args",
        [
            ["db", "current"],
            ["db", "upgrade"],
            ["clients", "list"],
            ["clients", "revoke", "cl_x"],
            ["export", "chips"],
            ["export", "customers", "--partner", "acme"],
        ],
    )
    def test_database_unreachable(self, unreachable: str, args: list[str]) -> None:
        assert_one_line_error(run(*args, FLEETREG_DATABASE_URL=unreachable), FAILED, "cannot reach the database")

    def test_port_in_use(self, unreachable: str) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = run("serve", "--port", str(port), FLEETREG_DATABASE_URL=unreachable)
        assert_one_line_error(result, FAILED, f"cannot listen on 127.0.0.1:{port}: Address already in use")

    def test_import_with_database_unreachable(self, unreachable: str, tmp_path: Path) -> None:
        path = tmp_path / "e.csv"
        path.write_text("name,cnpj\n")
        result = run("import", "enterprises", str(path), FLEETREG_DATABASE_URL=unreachable)
        assert_one_line_error(result, FAILED, "cannot reach the database")

    def test_backup_with_database_unreachable(self, unreachable: str, tmp_path: Path) -> None:
        result = run("db", "backup", str(tmp_path / "b.dump"), FLEETREG_DATABASE_URL=unreachable)
        assert_one_line_error(result, FAILED, "pg_dump failed")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["import", "enterprises", "{tmp}/missing.csv"], "cannot read {tmp}/missing.csv: no such file"),
            (["import", "enterprises", "{tmp}"], "cannot read {tmp}: it is a directory"),
            (["db", "restore", "--yes", "{tmp}/missing.dump"], "cannot read {tmp}/missing.dump: no such file"),
        ],
    )
    def test_missing_file(self, tmp_path: Path, args: list[str], message: str) -> None:
        result = run(*(arg.format(tmp=tmp_path) for arg in args), FLEETREG_DATABASE_URL="postgresql://nobody@/x")
        assert_one_line_error(result, FAILED, message.format(tmp=tmp_path))

    def test_unknown_partner(self, database_url: str, tmp_path: Path) -> None:
        path = tmp_path / "customers.csv"
        path.write_text("name\nAlice\n")
        result = run("import", "customers", "--partner", "nobody", str(path), FLEETREG_DATABASE_URL=database_url)
        assert_one_line_error(result, FAILED, "no partner named 'nobody'")

    def test_unknown_client(self, database_url: str) -> None:
        result = run("clients", "revoke", "cl_nobody", FLEETREG_DATABASE_URL=database_url)
        assert_one_line_error(result, FAILED, "no client with id cl_nobody")

    def test_unknown_enterprise_for_a_client(self, database_url: str) -> None:
        result = run(
            "clients", "create", "--scope", "fleet:read", "--enterprise", "AAAAAAAAAAAAAAA",
            FLEETREG_DATABASE_URL=database_url,
        )  # fmt: skip
        assert_one_line_error(result, USAGE, "no enterprise")

    def test_bad_csv_reports_each_row_then_one_error_line(self, database_url: str, bad_enterprises: Path) -> None:
        result = run("import", "enterprises", str(bad_enterprises), FLEETREG_DATABASE_URL=database_url)
        assert result.returncode == FAILED
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines() == [
            f"{bad_enterprises}:2: cnpj '123': a CNPJ has 14 characters, 12 digits or letters and 2 check digits "
            "(dots, slash and dash allowed)",
            f"fleetreg: error: nothing was imported: 1 error in {bad_enterprises}",
        ]

    def test_bad_csv_with_json(self, database_url: str, bad_enterprises: Path) -> None:
        result = run("import", "enterprises", "--json", str(bad_enterprises), FLEETREG_DATABASE_URL=database_url)
        assert result.returncode == FAILED
        assert result.stderr == ""
        summary = json.loads(result.stdout)
        assert summary["imported"] == 0
        assert [error["line"] for error in summary["errors"]] == [2]

    def test_backup_to_a_missing_directory(self, database_url: str) -> None:
        result = run("db", "backup", "/nonexistent/dir/b.dump", FLEETREG_DATABASE_URL=database_url)
        assert_one_line_error(result, FAILED, "cannot write /nonexistent/dir/b.dump: no directory /nonexistent/dir")

    def test_restore_of_a_file_that_is_no_dump(self, database_url: str, bad_enterprises: Path) -> None:
        result = run("db", "restore", "--yes", str(bad_enterprises), FLEETREG_DATABASE_URL=database_url)
        assert_one_line_error(result, FAILED, "pg_restore failed, nothing was changed")

    def test_retire_an_unknown_key(self, tmp_path: Path) -> None:
        result = run("keys", "retire", "nokid", FLEETREG_DATA_DIR=str(tmp_path))
        assert_one_line_error(result, FAILED, "no key nokid")

    def test_a_kid_may_start_with_a_dash(self, tmp_path: Path) -> None:
        """A kid is base64url: "-abc" is the argument, not an unknown option."""
        (tmp_path / "keys").mkdir()
        result = run("keys", "retire", "-abc", FLEETREG_DATA_DIR=str(tmp_path))
        assert_one_line_error(result, FAILED, "no key -abc")

    def test_data_dir_that_is_a_file(self, tmp_path: Path) -> None:
        (tmp_path / "file").touch()
        result = run("keys", "rotate", FLEETREG_DATA_DIR=str(tmp_path / "file"))
        assert_one_line_error(result, FAILED, f"Not a directory: {tmp_path}/file/keys")


class TestJsonForScripts:
    def test_db_upgrade_current_and_backup(self, empty_database_url: str, tmp_path: Path) -> None:
        upgraded = run("db", "upgrade", "--json", FLEETREG_DATABASE_URL=empty_database_url)
        assert upgraded.returncode == 0, upgraded.stderr
        state = json.loads(upgraded.stdout.splitlines()[-1])
        assert state["current"] == state["head"]
        current = json.loads(run("db", "current", "--json", FLEETREG_DATABASE_URL=empty_database_url).stdout)
        assert current["up_to_date"] is True
        # "-1" is a relative revision, not an unknown option
        one_back = run("db", "downgrade", "-1", "--json", FLEETREG_DATABASE_URL=empty_database_url)
        assert one_back.returncode == 0, one_back.stderr
        assert json.loads(one_back.stdout)["current"] == str(int(state["head"]) - 1).zfill(4)
        assert run("db", "upgrade", FLEETREG_DATABASE_URL=empty_database_url).returncode == 0
        dump = tmp_path / "b.dump"
        backed_up = run("db", "backup", "--json", str(dump), FLEETREG_DATABASE_URL=empty_database_url)
        assert json.loads(backed_up.stdout) == {"file": str(dump), "bytes": dump.stat().st_size}

    def test_keys_rotate_list_retire(self, tmp_path: Path) -> None:
        env = {"FLEETREG_DATA_DIR": str(tmp_path)}
        first = json.loads(run("keys", "rotate", "--json", **env).stdout)["kid"]
        second = json.loads(run("keys", "rotate", "--json", **env).stdout)["kid"]
        listed = [json.loads(line) for line in run("keys", "list", "--json", **env).stdout.splitlines()]
        assert [(key["kid"], key["signing"]) for key in listed] == [(first, False), (second, True)]
        retired = run("keys", "retire", "--json", first, **env)
        assert json.loads(retired.stdout)["kid"] == first
        assert_one_line_error(run("keys", "retire", second, **env), FAILED, "rotate first")


def every_command_path() -> list[list[str]]:
    """["db"], ["db", "upgrade"], ...: every group and command of the CLI."""
    paths: list[list[str]] = [[]]
    root = typer.main.get_command(app)
    pending = [([], root)]
    while pending:
        prefix, command = pending.pop()
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            paths.append([*prefix, name])
            pending.append(([*prefix, name], sub))
    return paths


@pytest.mark.parametrize("path", every_command_path(), ids=lambda path: " ".join(path) or "fleetreg")
def test_help_has_an_example(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_app(app, [*path, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "Example" in text, text
    # kept as written, one per line, under the heading (click rewraps paragraphs not marked \b)
    first_example = text.split("Example", 1)[1].splitlines()[1]
    assert "fleetreg " in first_example, text


def test_top_level_help_documents_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_app(app, ["--help"])
    text = capsys.readouterr().out
    assert "Exit status:" in text
    for line in ("0  done", "1  the operation failed", "2  the command was used wrongly"):
        assert line in text
