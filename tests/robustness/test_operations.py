"""Operations against a running ``fleetreg serve`` (issue 14 item 10): a restore is refused while it
serves, and forced it ends the tokens of the clients the restored data lacks; ``keys retire`` refuses
the key it signs with."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.processes import FLEETREG, environment, served

pytestmark = pytest.mark.slow


async def test_restore_while_served_is_refused_and_forced_it_ends_the_restored_away_clients_tokens(
    database_url: str, tmp_path: Path
) -> None:
    env = environment(FLEETREG_DATABASE_URL=database_url)
    dump = tmp_path / "before.dump"
    assert subprocess.run([*FLEETREG, "db", "backup", str(dump)], env=env, capture_output=True).returncode == 0
    with served(database_url, tmp_path / "data", workers=2) as server:
        created = subprocess.run(
            [*FLEETREG, "clients", "create", "--partner", "acme", "--create-partner", "--scope", "connectors:read",
             "--json"], env=env, capture_output=True, text=True,
        )  # fmt: skip
        client = json.loads(created.stdout)
        async with httpx.AsyncClient(base_url=server.base) as http:
            token = await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client["client_id"], client["client_secret"]),
            )
            assert token.status_code == 200, token.text
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for _ in range(4):  # both workers have it verified and cached
                assert (await http.get("/v2/customers/connectors", headers=bearer)).status_code == 200

            refused = subprocess.run(
                [*FLEETREG, "db", "restore", "--yes", str(dump)], env=env, capture_output=True, text=True
            )
            assert refused.returncode == 1
            assert refused.stderr == (
                "fleetreg: error: 2 workers of `fleetreg serve` use the database: "
                "stop the servers first, or give --force\n"
            )
            assert (await http.get("/v2/customers/connectors", headers=bearer)).status_code == 200

            forced = subprocess.run(
                [*FLEETREG, "db", "restore", "--yes", "--force", str(dump)], env=env, capture_output=True, text=True
            )
            assert forced.returncode == 0, forced.stderr
            # the restored database has no such client: its token stops at once, in every worker
            for _ in range(4):
                answer = await http.get("/v2/customers/connectors", headers=bearer)
                assert answer.status_code == 401, answer.text
                assert "does not exist or has been revoked" in answer.headers["www-authenticate"]


def test_keys_retire_refuses_the_key_a_running_server_signs_with(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = environment(FLEETREG_DATA_DIR=str(data_dir))

    def keys(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*FLEETREG, "keys", *args], env=env, capture_output=True, text=True, timeout=60)

    with served(database_url, data_dir, workers=2):
        [old] = [json.loads(line)["kid"] for line in keys("list", "--json").stdout.splitlines()]
        assert keys("rotate").returncode == 0
        refused = keys("retire", old)
        assert refused.returncode == 1
        assert "still signs with that key: restart the servers first" in refused.stderr
        assert len(refused.stderr.splitlines()) == 1
    with served(database_url, data_dir):  # restarted: it signs with the newest key
        retired = keys("retire", old)
        assert retired.returncode == 0, retired.stderr
