"""`redocly lint` (npm @redocly/cli) of fleetreg's OpenAPI documents, installed from npm under
.cache/ when missing (npm itself with apt-get when missing and root).

    python -m tests.support.redocly      (make lint): lints both documents, prints what it says
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REDOCLY_VERSION = "2.77.0"
ROOT = Path(__file__).resolve().parents[2]
PREFIX = ROOT / ".cache" / f"redocly-cli-{REDOCLY_VERSION}"
COMMAND = PREFIX / "node_modules" / ".bin" / "redocly"


def _apt_install(package: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]
    subprocess.run([*apt, "update"], check=True, env=env, stdin=subprocess.DEVNULL)
    subprocess.run([*apt, "install", "--no-install-recommends", package], check=True, env=env, stdin=subprocess.DEVNULL)


def redocly() -> Path:
    """The redocly command, installed first when missing (one process at a time)."""
    PREFIX.parent.mkdir(parents=True, exist_ok=True)
    with open(PREFIX.parent / "redocly.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not COMMAND.exists():
            if shutil.which("npm") is None:
                if os.geteuid() != 0:
                    raise RuntimeError("redocly lint needs npm: run `sudo apt-get install npm`")
                _apt_install("npm")
            subprocess.run(
                ["npm", "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", "--loglevel=error",
                 f"@redocly/cli@{REDOCLY_VERSION}"],
                check=True,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
    return COMMAND


def documents() -> dict[str, bytes]:
    """/openapi.json as each fleet-auth setting makes it (built without starting the service)."""
    from fleetreg.app import create_app
    from fleetreg.settings import Settings

    return {mode: create_app(Settings(fleet_auth=mode)).openapi_json() for mode in ("none", "required")}


def lint(document: bytes) -> subprocess.CompletedProcess[str]:
    """``redocly lint`` of ``document`` with the recommended rules: its exit status and output."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "openapi.json"
        path.write_bytes(document)
        env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
        return subprocess.run(
            [str(redocly()), "lint", "--format=stylish", str(path)],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            stdin=subprocess.DEVNULL,
        )


def main() -> int:
    failed = 0
    for mode, document in documents().items():
        result = lint(document)
        print(f"== redocly lint: /openapi.json with FLEETREG_FLEET_AUTH={mode}")
        print(result.stdout + result.stderr)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
