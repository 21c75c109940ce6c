"""Every domain's constraint-to-problem map, for whoever opens a ``Database`` (the app, the CLI)."""

from __future__ import annotations

from fleetreg.db import ConstraintErrors
from fleetreg.fleet.errors import CONSTRAINT_ERRORS as FLEET
from fleetreg.partner.errors import CONSTRAINT_ERRORS as PARTNER

CONSTRAINT_ERRORS: ConstraintErrors = {**PARTNER, **FLEET}
