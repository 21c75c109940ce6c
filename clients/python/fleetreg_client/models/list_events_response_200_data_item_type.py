from enum import StrEnum


class ListEventsResponse200DataItemType(StrEnum):
    ASSOCIATION_ENDED = "association.ended"
    ASSOCIATION_MAIN_CHANGED = "association.main_changed"
    ASSOCIATION_REPLACED = "association.replaced"
    ASSOCIATION_STARTED = "association.started"
    CHIP_CREATED = "chip.created"
    CHIP_DELETED = "chip.deleted"
    CHIP_INSTALLED = "chip.installed"
    CHIP_REMOVED = "chip.removed"
    CHIP_UPDATED = "chip.updated"
    CONNECTOR_ASSIGNED = "connector.assigned"
    CONNECTOR_CREATED = "connector.created"
    CONNECTOR_DELETED = "connector.deleted"
    CONNECTOR_UNASSIGNED = "connector.unassigned"
    CONNECTOR_UPDATED = "connector.updated"
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_DELETED = "customer.deleted"
    CUSTOMER_UPDATED = "customer.updated"
    DEVICE_CREATED = "device.created"
    DEVICE_DELETED = "device.deleted"
    DEVICE_UPDATED = "device.updated"
    ENTERPRISE_CREATED = "enterprise.created"
    ENTERPRISE_DELETED = "enterprise.deleted"
    ENTERPRISE_UPDATED = "enterprise.updated"
    VEHICLE_CREATED = "vehicle.created"
    VEHICLE_DELETED = "vehicle.deleted"
    VEHICLE_UPDATED = "vehicle.updated"

    def __str__(self) -> str:
        return str(self.value)
