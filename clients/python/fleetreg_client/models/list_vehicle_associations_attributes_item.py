from enum import StrEnum


class ListVehicleAssociationsAttributesItem(StrEnum):
    BATCH = "batch"
    CARRIER = "carrier"
    NUMBER = "number"
    SERIAL = "serial"
    SERVICE_PROVIDER = "service_provider"

    def __str__(self) -> str:
        return str(self.value)
