"""Path and query parameters: a strict parser for each (``fleetreg.values``) and the schema OpenAPI
shows. A parser raises ``ValueError``; the router turns it into a 400 naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fleetreg.values import INT64_MAX, parse_boolean, parse_instant, parse_integer, parse_uuid, storable_text

__all__ = ["INT64_MAX", "MISSING", "DeepObjects", "Param"]


class MissingType:
    """The example of a parameter that has none."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = MissingType()


# -- parameters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A parameter: its parser, whether it may be repeated, its default and its OpenAPI schema.

    ``parse`` takes the parameter's values as given (one for a single-valued parameter, every
    occurrence for a repeatable one) and returns the value handed to the endpoint."""

    parser: Callable[[str], Any]
    schema: dict[str, Any]
    description: str = ""
    default: Any = None
    """What the endpoint receives when the parameter is absent."""
    repeatable: bool = False
    unique: bool = False
    min_items: int = 0
    example: Any = MISSING
    alias: str | None = None
    """The endpoint's argument name when the parameter's own name cannot be one (``type``...)."""

    def parse(self, values: Sequence[str]) -> Any:
        if not self.repeatable:
            return self.parser(values[0])
        parsed = [self.parser(value) for value in values]
        if self.unique:
            repeated = sorted({str(item) for item in parsed if parsed.count(item) > 1})
            if repeated:
                raise ValueError(f"each value may be given once; {', '.join(repeated)} is repeated")
        return parsed

    def openapi_schema(self) -> dict[str, Any]:
        if not self.repeatable:
            schema = dict(self.schema)
            if self.default is not None:
                schema["default"] = self.default
            return schema
        array: dict[str, Any] = {"type": "array", "items": dict(self.schema)}
        if self.min_items:
            array["minItems"] = self.min_items
        if self.unique:
            array["uniqueItems"] = True
        return array


def integer(
    minimum: int,
    maximum: int,
    *,
    default: int | None = None,
    description: str = "",
    example: Any = MISSING,
) -> Param:
    schema = {
        "type": "integer",
        "format": "int64" if maximum > 2**31 - 1 else "int32",
        "minimum": minimum,
        "maximum": maximum,
    }
    return Param(lambda text: parse_integer(text, minimum, maximum), schema, description, default, example=example)


def boolean(*, default: bool | None = None, description: str = "") -> Param:
    return Param(parse_boolean, {"type": "boolean"}, description, default)


def uuid_param(*, description: str = "", example: str = "497f6eca-6276-4993-bfeb-53cbbbba6f08") -> Param:
    return Param(parse_uuid, {"type": "string", "format": "uuid"}, description, example=example)


def text(
    *, max_length: int | None = None, repeatable: bool = False, description: str = "", example: Any = MISSING
) -> Param:
    """Any text PostgreSQL can store (an exact-match filter: a value no row has simply matches none)."""

    def parse(value: str) -> str:
        if max_length is not None and len(value) > max_length:
            raise ValueError(f"must have at most {max_length} characters")
        return storable_text(value)

    schema: dict[str, Any] = {"type": "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    return Param(parse, schema, description, repeatable=repeatable, example=example)


def pattern(regex: str, message: str, *, description: str = "", example: Any = MISSING) -> Param:
    compiled = re.compile(regex)

    def parse(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return Param(parse, {"type": "string", "pattern": regex}, description, example=example)


def choice(
    values: Sequence[str],
    *,
    repeatable: bool = False,
    description: str = "",
    alias: str | None = None,
    example: Any = MISSING,
) -> Param:
    allowed = tuple(values)

    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, not {value[:200]!r}")
        return value

    return Param(
        parse,
        {"type": "string", "enum": list(allowed)},
        description,
        repeatable=repeatable,
        unique=repeatable,
        min_items=1 if repeatable else 0,
        alias=alias,
        example=example,
    )


def instant(*, description: str = "", example: Any = MISSING) -> Param:
    """No example by default: one fixed instant, pre-filled by Swagger UI's "Try it out", would ask
    about the past and show nothing."""
    return Param(parse_instant, {"type": "string", "format": "date-time"}, description, example=example)


@dataclass(frozen=True)
class DeepObjects:
    """Parameters in the bracket notation of ``qs`` and OpenAPI ``deepObject``
    (``filters[device.name][eq]=x``): every query pair whose key is one of ``names`` or starts with
    ``name[`` goes, in order, to ``parse``, whose result the endpoint receives as ``argument``."""

    names: tuple[str, ...]
    parse: Callable[[list[tuple[str, str]]], Any]
    argument: str
    parameters: tuple[dict[str, Any], ...] = field(default=())
    """Their OpenAPI parameter objects."""

    def owns(self, key: str) -> bool:
        return key in self.names or ("[" in key and key.split("[", 1)[0] in self.names)
