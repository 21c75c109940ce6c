"""CSV/JSONL exports of the fleet (``fleetreg export enterprises|vehicles|devices|chips``).

The columns are those of the imports (``fleet.imports``), values in their stored form (CNPJ bare and
upper-case, VIN upper-case), so an export imports again as it is, ids kept. Only live rows are
exported: a deleted enterprise, vehicle or device is history that only the associations still name,
and the import has no way to write it. Nothing live refers to a deleted row (an enterprise with live
vehicles or devices, a device holding a chip cannot be deleted), so importing the four files in the
order enterprises, vehicles, devices, chips into an empty database rebuilds them.

Rows come in list order, ``(created_at, id)``, read through the partial indexes the lists use;
the counts for the progress bar come from ``fleet_totals``, not from a scan.
"""

from __future__ import annotations

from fleetreg.exporter import ExportSpec
from fleetreg.fleet import imports


def _total(kind: str) -> str:
    return f"SELECT coalesce(sum(n), 0)::bigint FROM fleet_totals WHERE kind = '{kind}'"


ENTERPRISES = ExportSpec(
    entity="enterprises",
    columns=imports.ENTERPRISES.columns,
    query="SELECT id, name, cnpj FROM enterprises WHERE deleted_at IS NULL ORDER BY created_at, id",
    count=_total("enterprises"),
)

VEHICLES = ExportSpec(
    entity="vehicles",
    columns=imports.VEHICLES.columns,
    query="""
SELECT id, enterprise_id, name, plate, vin FROM vehicles WHERE deleted_at IS NULL ORDER BY created_at, id
""",
    count=_total("vehicles"),
)

DEVICES = ExportSpec(
    entity="devices",
    columns=imports.DEVICES.columns,
    query="""
SELECT id, enterprise_id, name, imei, code FROM devices WHERE deleted_at IS NULL ORDER BY created_at, id
""",
    count=_total("devices"),
)

CHIPS = ExportSpec(
    entity="chips",
    columns=imports.CHIPS.columns,
    query="""
SELECT id, serial, number, carrier, service_provider, batch, device_id FROM chips ORDER BY created_at, id
""",
    count=_total("chips"),
)
