"""`redocly lint` (npm @redocly/cli, its recommended rules) finds no error and no warning in
/openapi.json, with the fleet API open or secured."""

from __future__ import annotations

import pytest

from tests.support import redocly


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["none", "required"])
def test_redocly_lint_passes(mode: str) -> None:
    result = redocly.lint(redocly.documents()[mode])
    print(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout, result.stdout
