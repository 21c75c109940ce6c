"""Generate clients/python from fleetreg's OpenAPI document with openapi-python-client.

    python clients/generate.py [--output DIR]     (make client: into clients/python)

The document is the one /openapi.json serves, of a service run with FLEETREG_FLEET_AUTH=required (so
that the fleet operations carry their security too); it is kept beside the client as openapi.json.
openapi-python-client pins dependencies of its own that fleetreg's do not allow (typer), so it runs
from a virtual environment of its own under .cache/, made here when missing.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CODEGEN_VERSION = "0.29.1"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CODEGEN_VENV = ROOT / ".cache" / f"openapi-python-client-{CODEGEN_VERSION}"
CONFIG = HERE / "openapi-python-client.yaml"
TEMPLATES = HERE / "templates"
DEFAULT_OUTPUT = HERE / "python"


def codegen() -> Path:
    """The openapi-python-client command, installed from PyPI first when missing (one process at a time)."""
    command = CODEGEN_VENV / "bin" / "openapi-python-client"
    CODEGEN_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(CODEGEN_VENV.parent / "codegen.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not command.exists():
            shutil.rmtree(CODEGEN_VENV, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(CODEGEN_VENV)], check=True)
            pip = [str(CODEGEN_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            subprocess.run([*pip, f"openapi-python-client=={CODEGEN_VERSION}"], check=True)
    return command


def openapi_document() -> bytes:
    """/openapi.json of a service with the fleet API secured (built without starting it)."""
    from fleetreg.app import create_app
    from fleetreg.settings import Settings

    return create_app(Settings(fleet_auth="required")).openapi_json()


def generate(output: Path) -> None:
    document = openapi_document()
    with tempfile.TemporaryDirectory() as work:
        spec = Path(work) / "openapi.json"
        spec.write_bytes(document)
        # The post hooks (ruff) are this interpreter's: the client is formatted as the project is.
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        subprocess.run(
            [str(codegen()), "generate", "--path", str(spec), "--output-path", str(output), "--overwrite",
             "--meta", "uv", "--config", str(CONFIG), "--custom-template-path", str(TEMPLATES), "--fail-on-warning"],
            check=True,
            env=env,
            cwd=work,
        )  # fmt: skip
    (output / "openapi.json").write_bytes(document)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the client's directory (replaced)")
    generate(parser.parse_args().output.resolve())


if __name__ == "__main__":
    main()
