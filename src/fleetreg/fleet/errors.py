"""Errors of the fleet API, and the constraints of its schema mapped to them.

The titles of the errors the original document names are its exact text. Each error that concerns items
of a request body carries ``errors: [{"pointer": "/data/3/device_id", "detail": ...}]``, one entry per
offending item.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from fleetreg.db import ConstraintErrorFactory
from fleetreg.problems import AppError, BadRequest, Conflict, NotFound

# -- 404: what does not exist, or that the caller may not see -------------------------------------


class EnterpriseNotFound(NotFound):
    """No live enterprise has this id, or the caller is bound to another enterprise. Deleted
    enterprises are not found either."""

    slug = "enterprise-not-found"
    title = "Enterprise Not Found"


class VehicleNotFound(NotFound):
    """No live vehicle has this id, or it belongs to an enterprise the caller may not see."""

    slug = "vehicle-not-found"
    title = "Vehicle Not Found"


class DeviceNotFound(NotFound):
    """No live device has this id, or it belongs to an enterprise the caller may not see."""

    slug = "device-not-found"
    title = "Device Not Found"


class ChipNotFound(NotFound):
    """No chip has this id, or (for a client bound to an enterprise) it is not installed in one of
    that enterprise's devices."""

    slug = "chip-not-found"
    title = "Chip Not Found"


class AssociationNotFound(NotFound):
    """No active vehicle-device association has this id (for this vehicle, where the path names one):
    it does not exist, it has ended already, or the caller may not see it."""

    slug = "association-not-found"
    title = "Association Not Found"


# -- 400: the original document's association rules ------------------------------------------------------------


class DeviceAlreadyAssociated(BadRequest):
    """A device has at most one active association. The device is active on a vehicle already (this
    one or another), or the request lists it more than once."""

    slug = "device-already-associated"
    title = "Device(s) Already Associated With Another Vehicle"


class VehicleAlreadyHasMainDevice(BadRequest):
    """A vehicle has exactly one main device while it has associations. It has one already, or the
    request makes more than one device main for it. To change the main device, PATCH the new one's
    association with ``is_main_device: true``."""

    slug = "vehicle-already-has-main-device"
    title = "Vehicle Already Has Main Device"


class EnterpriseMismatch(BadRequest):
    """A vehicle and a device can only be associated when they belong to the same enterprise."""

    slug = "vehicle-device-enterprise-mismatch"
    title = "Vehicle And Device Are in Different Enterprises"


class MainDeviceRequired(BadRequest):
    """A vehicle with active associations must have exactly one main device: the request would leave
    a vehicle with associations but none of them main (by creating only secondary ones, by ending
    the main one while others stay, or by making the main one secondary)."""

    slug = "main-device-required"
    title = "One Vehicle-Device Association Must Be Main"


# -- 409: conflicts with what exists ---------------------------------------------------------------


class IdInUse(Conflict):
    """A resource with this id exists already (or existed: the ids of deleted vehicles, devices and
    enterprises stay taken, so that their history keeps naming them unambiguously)."""

    slug = "id-in-use"
    title = "Id Already In Use"


class CnpjTaken(Conflict):
    """Another live enterprise has this CNPJ."""

    slug = "cnpj-taken"
    title = "CNPJ Already Registered"


class ImeiTaken(Conflict):
    """Another live device has this IMEI."""

    slug = "imei-taken"
    title = "IMEI Already Registered"


class IccidTaken(Conflict):
    """Another chip has this serial number (ICCID)."""

    slug = "iccid-taken"
    title = "ICCID Already Registered"


class DeviceHasChip(Conflict):
    """A device holds at most one chip, and this one holds another already. Remove that chip first
    (PATCH it with ``device_id: null``)."""

    slug = "device-has-chip"
    title = "Device Already Has Chip"


class EnterpriseInUse(Conflict):
    """The enterprise still has live vehicles or devices; delete or move them first."""

    slug = "enterprise-in-use"
    title = "Enterprise In Use"


class VehicleInUse(Conflict):
    """The vehicle is still needed: it cannot be deleted while it has active associations, and it
    cannot move to another enterprise once it has had any (their history records its enterprise)."""

    slug = "vehicle-in-use"
    title = "Vehicle In Use"


class DeviceInUse(Conflict):
    """The device is still needed: it cannot be deleted while it has an active association or an
    installed chip, and it cannot move to another enterprise once it has had any association."""

    slug = "device-in-use"
    title = "Device In Use"


# -- constraints -> errors, for races the service's own checks cannot see ---------------------------


def _fixed(error: Callable[[str], AppError], detail: str) -> Callable[[asyncpg.PostgresError], AppError]:
    return lambda _violation: error(detail)


# Constraint name -> the problem its violation means (given to ``Database``; see fleetreg.db.translate).
CONSTRAINT_ERRORS: dict[str, ConstraintErrorFactory] = {
    "enterprises_pkey": _fixed(IdInUse, "an enterprise with this id exists already"),
    "vehicles_pkey": _fixed(IdInUse, "a vehicle with this id exists already"),
    "devices_pkey": _fixed(IdInUse, "a device with this id exists already"),
    "chips_pkey": _fixed(IdInUse, "a chip with this id exists already"),
    "enterprises_cnpj_key": _fixed(CnpjTaken, "another enterprise has this CNPJ"),
    "devices_imei_key": _fixed(ImeiTaken, "another device has this IMEI"),
    "chips_serial_key": _fixed(IccidTaken, "another chip has this serial"),
    "chips_device_id_key": _fixed(DeviceHasChip, "the device holds another chip already"),
    "vehicles_enterprise_id_fkey": _fixed(EnterpriseNotFound, "the enterprise does not exist"),
    "devices_enterprise_id_fkey": _fixed(EnterpriseNotFound, "the enterprise does not exist"),
    "chips_device_id_fkey": _fixed(DeviceNotFound, "the device does not exist"),
    "device_associations_active_device_key": _fixed(
        DeviceAlreadyAssociated, "a device of the request became active on a vehicle meanwhile"
    ),
    "device_associations_active_main_key": _fixed(
        VehicleAlreadyHasMainDevice, "a vehicle of the request got a main device meanwhile"
    ),
    "device_associations_one_main_check": _fixed(
        MainDeviceRequired, "a vehicle would be left with associations but no main device"
    ),
    "device_associations_vehicle_fkey": _fixed(
        EnterpriseMismatch, "the vehicle is not in the enterprise of the association"
    ),
    "device_associations_device_fkey": _fixed(
        EnterpriseMismatch, "the device is not in the enterprise of the association"
    ),
}
