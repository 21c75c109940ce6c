"""CSV/JSONL exports of the fleet (``fleetreg export enterprises|vehicles|devices|chips``), derived
from each kind's declaration.

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
from fleetreg.fleet.kinds import CHIP, DEVICE, ENTERPRISE, VEHICLE, Kind


def export_spec(kind: Kind) -> ExportSpec:
    columns = imports.import_spec(kind).columns
    return ExportSpec(
        entity=kind.plural,
        columns=columns,
        query=f"SELECT {', '.join(columns)} FROM {kind.plural} AS t WHERE {kind.live} ORDER BY created_at, id",
        count=f"SELECT coalesce(sum(n), 0)::bigint FROM fleet_totals WHERE kind = '{kind.plural}'",
    )


ENTERPRISES, VEHICLES, DEVICES, CHIPS = (export_spec(kind) for kind in (ENTERPRISE, VEHICLE, DEVICE, CHIP))
