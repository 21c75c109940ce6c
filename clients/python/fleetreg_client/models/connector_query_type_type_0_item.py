from enum import StrEnum


class ConnectorQueryTypeType0Item(StrEnum):
    PHYSICAL = "physical"
    VIRTUAL = "virtual"

    def __str__(self) -> str:
        return str(self.value)
