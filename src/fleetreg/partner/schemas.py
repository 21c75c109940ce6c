"""Shapes of the partner API's requests and responses, and the value types they are built from.

Request models forbid unknown members. The constraints match migration 0002's CHECKs, so a value the
API accepts is one the database stores: names 1..200 characters, versions 1..100, pin five ASCII
digits, type physical or virtual.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from fleetreg.values import INT64_MAX, parse_uuid, storable_text

ConnectorType = Literal["physical", "virtual"]
CONNECTOR_TYPES: tuple[ConnectorType, ...] = ("physical", "virtual")

LIMIT_DEFAULT = 25
LIMIT_MAX = 1000
OFFSET_MAX = INT64_MAX


def _uuid_text(value: Any) -> Any:
    # Pydantic alone would also take the hex without hyphens, "{...}" and "urn:uuid:...".
    return parse_uuid(value) if isinstance(value, str) else value


Uuid = Annotated[uuid.UUID, BeforeValidator(_uuid_text)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(storable_text)]
Version = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(storable_text)]
# [0-9], not \d: \d would also accept other scripts' digits, which the database's CHECK refuses.
Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]

CONNECTOR_EXAMPLE: JsonDict = {
    "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
    "customer_id": "160c0c4b-9966-4dc1-a916-8407eb10d74e",
    "hardware_version": "11",
    "name": "1005123",
    "pin": "01234",
    "software_version": "8756",
    "type": "virtual",
}
CUSTOMER_EXAMPLE: JsonDict = {
    "id": "160c0c4b-9966-4dc1-a916-8407eb10d74e",
    "name": "Rent-a-Car Lisboa",
    "created_at": "2026-11-22T10:00:00Z",
}


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- connectors -----------------------------------------------------------------------------------


class Connector(BaseModel):
    """A connector: hardware that talks to a customer's vehicle (also known as a 'remote')."""

    model_config = ConfigDict(json_schema_extra={"examples": [CONNECTOR_EXAMPLE]})

    id: uuid.UUID = Field(description="Connector identifier.")
    customer_id: uuid.UUID | None = Field(description="The customer the connector is assigned to, or null.")
    hardware_version: str = Field(description="The connector's hardware version.")
    name: str = Field(description="Human-readable connector identifier, unique within the partner.")
    pin: str | None = Field(description="The connector's pin code: five digits, or null.", pattern=r"^[0-9]{5}$")
    software_version: str = Field(description="The connector's software version.")
    type: ConnectorType = Field(description="physical or virtual.")


class ConnectorAssignment(_Request):
    """The connector settings to change: which customer it is assigned to."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"customer_id": "160c0c4b-9966-4dc1-a916-8407eb10d74e"}]}
    )

    customer_id: Uuid | None = Field(description="The customer to assign the connector to; null unassigns it.")


class NewConnector(_Request):
    """A connector to add to the partner's pool: every member of a connector except ``id``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{k: v for k, v in CONNECTOR_EXAMPLE.items() if k != "id"}]},
    )

    customer_id: Uuid | None = Field(default=None, description="A customer to assign it to at once (default none).")
    hardware_version: Version
    name: Name = Field(description="Unique within the partner.")
    pin: Pin | None = Field(default=None, description="Five digits, or null (the default).")
    software_version: Version
    type: ConnectorType


class ConnectorQuery(BaseModel):
    """The applied query parameters, including defaults. Filters appear only when given."""

    assigned: bool | None = None
    customer_id: uuid.UUID | None = None
    limit: int = Field(ge=0, le=LIMIT_MAX)
    name: str | None = None
    offset: int = Field(ge=0, le=OFFSET_MAX)
    type: list[ConnectorType] | None = None


class ConnectorList(BaseModel):
    query: ConnectorQuery = Field(description="Applied query parameters, including defaults.")
    result: list[Connector] = Field(description="The connectors of this page, ordered by name, then id.")
    total: int = Field(description="Total number of connectors matching the query parameters.")


# -- customers ------------------------------------------------------------------------------------


class Customer(BaseModel):
    """A customer of the partner, to whom connectors are assigned."""

    model_config = ConfigDict(json_schema_extra={"examples": [CUSTOMER_EXAMPLE]})

    id: uuid.UUID = Field(description="Customer identifier.")
    name: str = Field(description="The customer's name (not necessarily unique).")
    created_at: datetime = Field(description="When the customer was created (RFC 3339, UTC).")


class CustomerInput(_Request):
    """A customer's writable members: its name."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Rent-a-Car Lisboa"}]})

    name: Name


class CustomerQuery(BaseModel):
    """The applied query parameters, including defaults. Filters appear only when given."""

    limit: int = Field(ge=0, le=LIMIT_MAX)
    name: str | None = None
    offset: int = Field(ge=0, le=OFFSET_MAX)


class CustomerList(BaseModel):
    query: CustomerQuery = Field(description="Applied query parameters, including defaults.")
    result: list[Customer] = Field(description="The customers of this page, ordered by name, then id.")
    total: int = Field(description="Total number of customers matching the query parameters.")
