"""Shapes of the partner API's requests and responses, and the value types they are built from.

Request models forbid unknown members. The constraints match migration 0002's CHECKs, so a value the
API accepts is one the database stores: names 1..200 characters, versions 1..100, pin five ASCII
digits, type physical or virtual.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

ConnectorType = Literal["physical", "virtual"]
CONNECTOR_TYPES: tuple[ConnectorType, ...] = ("physical", "virtual")

LIMIT_DEFAULT = 25
LIMIT_MAX = 1000
OFFSET_MAX = 2**63 - 1  # int64

# The RFC 9562 text form, hex digits in either case. Pydantic alone would also take the hex without
# hyphens, "{...}" and "urn:uuid:..."; an id has one spelling here.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DECIMAL = re.compile(r"-?[0-9]+")


def _uuid_text(value: Any) -> Any:
    if isinstance(value, str) and not _UUID.fullmatch(value):
        raise ValueError("must be a UUID such as 497f6eca-6276-4993-bfeb-53cbbbba6f08")
    return value


def _storable_text(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate (legal in JSON's \u escapes) is not UTF-8.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def _decimal_integer(value: Any) -> Any:
    # Pydantic alone would read "25.0", " 25", "+25" and "1_000" as integers; a query integer is digits.
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError("must be an integer written in decimal digits")
    return value


def _true_or_false(value: Any) -> Any:
    # Pydantic alone would also read 1/0, yes/no, on/off, t/f.
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise ValueError("must be true or false")
        return value == "true"
    return value


def _unique_types(value: list[ConnectorType]) -> list[ConnectorType]:
    repeated = sorted({item for item in value if value.count(item) > 1})
    if repeated:
        raise ValueError(f"each type may be given once; {', '.join(repeated)} is repeated")
    return value


Uuid = Annotated[uuid.UUID, BeforeValidator(_uuid_text)]
QueryBool = Annotated[bool, BeforeValidator(_true_or_false)]
# The bounds come before the validator, so that OpenAPI shows them as minimum/maximum.
Limit = Annotated[int, Ge(0), Le(LIMIT_MAX), BeforeValidator(_decimal_integer)]
Offset = Annotated[int, Ge(0), Le(OFFSET_MAX), BeforeValidator(_decimal_integer)]
ConnectorTypes = Annotated[list[ConnectorType], Field(min_length=1), AfterValidator(_unique_types)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_storable_text)]
# An exact-match filter: any text PostgreSQL can compare (a name no row can have simply matches none).
TextFilter = Annotated[str, AfterValidator(_storable_text)]
Version = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_storable_text)]
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
