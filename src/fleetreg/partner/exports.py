"""CSV/JSONL exports of a partner's customers and connectors ($1 is the partner's id); the columns
are those of the imports, so an export imports again as it is."""

from __future__ import annotations

from fleetreg.exporter import ExportSpec
from fleetreg.partner import imports

CUSTOMERS = ExportSpec(
    entity="customers",
    columns=imports.CUSTOMERS.columns,
    query="SELECT id, name FROM customers WHERE partner_id = $1 ORDER BY name, id",
    count="SELECT coalesce((SELECT n FROM customer_totals WHERE partner_id = $1), 0)",
)

CONNECTORS = ExportSpec(
    entity="connectors",
    columns=imports.CONNECTORS.columns,
    query="""
SELECT id, name, type, hardware_version, software_version, pin, customer_id
FROM connectors WHERE partner_id = $1 ORDER BY name, id
""",
    count="SELECT coalesce(sum(n), 0) FROM connector_totals WHERE partner_id = $1",
)
