"""The object parameters of ``GET /v2/vehicles/{vehicle_id}/associations/devices``.

``attributes``, ``includes``, ``filters`` and ``sort`` come in the bracket notation of ``qs`` and
OpenAPI ``deepObject`` (``filters[device.name][eq]=x``, ``includes[device][]=name``,
``includes[device][0]=name``, ``attributes[]=serial``), or each as one JSON-encoded value
(``filters={"device.name":{"eq":"x"}}``), or both, merged. Every form is flattened to
(path, value) leaves first, so that one interpretation serves them all; anything unknown is a 400
naming the parameter as the client wrote it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fleetreg.problems import BadRequest
from fleetreg.values import unstorable

DEEP_PARAMETERS = ("attributes", "includes", "filters", "sort")
CHIP_FIELDS = ("serial", "number", "carrier", "service_provider", "batch")
INCLUDABLE = {"device": ("name", "imei", "code"), "enterprise": ("name", "cnpj")}
FILTER_FIELDS = (
    "chips.serial",
    "chips.number",
    "chips.carrier",
    "chips.service_provider",
    "chips.batch",
    "device.name",
    "device.imei",
    "device.code",
    "enterprise.name",
    "enterprise.cnpj",
)
OPERATORS = ("eq", "neq", "ilk", "sw", "ew")
SORT_FIELDS = ("number", "serial")
LONGEST_FILTER_VALUE = 200

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


@dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]
    value: Any
    """A string from the query, or a JSON scalar (str, number, bool, None) from a JSON value."""
    parameter: str
    """How the client named it, for error messages."""


_EMPTY = object()  # the value of a leaf standing for an empty JSON array or object


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: str


@dataclass(frozen=True)
class ObjectParameters:
    chip_fields: tuple[str, ...] = CHIP_FIELDS
    device_fields: tuple[str, ...] | None = None
    """None: the device is not included."""
    enterprise_fields: tuple[str, ...] | None = None
    filters: tuple[Filter, ...] = ()
    sort: tuple[tuple[str, int], ...] = ()

    @property
    def includes(self) -> list[str]:
        """The objects beside the chip the answer shows."""
        shown = (("device", self.device_fields), ("enterprise", self.enterprise_fields))
        return [name for name, fields in shown if fields is not None]


@dataclass
class _Errors:
    entries: list[dict[str, str]] = field(default_factory=list)

    def add(self, parameter: str, detail: str) -> None:
        entry = {"parameter": parameter, "detail": detail}
        if entry not in self.entries:
            self.entries.append(entry)


def parse_object_parameters(items: Iterable[tuple[str, str]]) -> ObjectParameters:
    """The object parameters among the query's (key, value) pairs (others are ignored), or
    ``BadRequest`` listing every fault."""
    errors = _Errors()
    leaves: dict[str, list[Leaf]] = {name: [] for name in DEEP_PARAMETERS}
    for key, value in items:
        match = _KEY.fullmatch(key)
        base = match.group(1) if match else key.split("[", 1)[0]
        if base not in leaves:
            continue
        if match is None:
            errors.add(key, "malformed brackets; write e.g. filters[device.name][eq]=value")
            continue
        path = tuple(_SEGMENT.findall(match.group(2)))
        if not path and base != "attributes":
            leaves[base].extend(_json_leaves(key, value, errors, expect=dict))
        elif not path:
            leaves[base].extend(_attribute_leaves(key, value, errors))
        else:
            leaves[base].append(Leaf(path, value, key))
    result = ObjectParameters(
        chip_fields=_chip_fields(leaves["attributes"], errors),
        **_includes(leaves["includes"], errors),
        filters=_filters(leaves["filters"], errors),
        sort=_sort(leaves["sort"], errors),
    )
    if errors.entries:
        raise BadRequest.from_errors(errors.entries)
    return result


# No object parameter nests deeper than 3 (filters={"device.name": {"eq": "x"}}); what does is refused
# before anything recurses into it.
_DEEPEST = 8


def _loads(text: str) -> Any:
    """``json.loads``, refusing (``ValueError``) JSON nested deeper than ``_DEEPEST``: parsing or walking
    ``[[[[...]]]]`` a few thousand deep would otherwise end in a RecursionError, a 500."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > _DEEPEST:
            raise ValueError("nested too deeply")
        if isinstance(item, dict):
            stack.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
    return value


def _json_leaves(parameter: str, text: str, errors: _Errors, *, expect: type) -> list[Leaf]:
    try:
        value = _loads(text)
    except ValueError:
        noun = "object" if expect is dict else "array"
        errors.add(parameter, f"give it in bracket notation or as one JSON {noun}; this is not valid JSON")
        return []
    if value is None:
        return []
    if not isinstance(value, expect):
        errors.add(parameter, f"the JSON value must be an {'object' if expect is dict else 'array'} or null")
        return []
    return list(_flatten((), value, parameter))


def _flatten(path: tuple[str, ...], value: Any, parameter: str) -> Iterable[Leaf]:
    if isinstance(value, dict):
        if not value:
            yield Leaf(path, _EMPTY, parameter)
        for key, inner in value.items():
            yield from _flatten((*path, str(key)), inner, parameter)
    elif isinstance(value, list):
        if not value:
            yield Leaf(path, _EMPTY, parameter)
        for inner in value:  # a nested array or object is refused by the interpretation
            yield Leaf((*path, ""), inner, parameter)
    else:
        yield Leaf(path, value, parameter)


def _attribute_leaves(parameter: str, text: str, errors: _Errors) -> list[Leaf]:
    """``attributes=serial,number``, ``attributes=["serial"]`` or ``attributes=null``."""
    if text == "null":
        return [Leaf((), None, parameter)]
    if text.startswith(("[", '"')):
        if text.startswith('"'):
            try:
                return [Leaf(("",), _loads(text), parameter)]
            except ValueError:
                errors.add(parameter, "not valid JSON")
                return []
        return _json_leaves(parameter, text, errors, expect=list)
    return [Leaf(("",), text, parameter)]


def _names(leaf: Leaf, errors: _Errors, allowed: tuple[str, ...], what: str) -> list[str] | None:
    """The comma-separated names of a leaf, each one of ``allowed``; None after an error."""
    value = leaf.value
    if isinstance(value, str) and value.startswith("["):
        try:
            decoded = _loads(value)
        except ValueError:
            decoded = None
        if not isinstance(decoded, list) or not all(isinstance(name, str) for name in decoded):
            errors.add(leaf.parameter, "not a JSON array of names")
            return None
        parts = decoded
    elif isinstance(value, str):
        parts = value.split(",")
    else:
        errors.add(leaf.parameter, f"must name {what}, not {json.dumps(value)}")
        return None
    names = []
    for part in parts:
        name = part.strip()
        if name not in allowed:
            shown = f"unknown {what} {name!r}" if name else f"an empty {what}"
            errors.add(leaf.parameter, f"{shown}; choose from {', '.join(allowed)}")
            return None
        names.append(name)
    return names


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _chip_fields(leaves: list[Leaf], errors: _Errors) -> tuple[str, ...]:
    if not leaves:
        return CHIP_FIELDS
    if any(leaf.value is None for leaf in leaves):
        if len(leaves) > 1:
            errors.add(leaves[0].parameter, "null (all chip fields) cannot be combined with field names")
        return CHIP_FIELDS
    names: list[str] = []
    for leaf in leaves:
        if leaf.value is _EMPTY:
            continue
        if len(leaf.path) != 1 or not (leaf.path[0] == "" or leaf.path[0].isdigit()):
            errors.add(leaf.parameter, "write attributes[]=serial, attributes=serial,number or a JSON array")
            continue
        names.extend(_names(leaf, errors, CHIP_FIELDS, "chip field") or ())
    return _unique(names)


def _includes(leaves: list[Leaf], errors: _Errors) -> dict[str, tuple[str, ...] | None]:
    chosen: dict[str, list[str]] = {}
    for leaf in leaves:
        if not leaf.path:
            continue  # an empty JSON object: nothing included
        entity = leaf.path[0]
        if entity not in INCLUDABLE:
            errors.add(leaf.parameter, f"unknown include {entity!r}; choose from device, enterprise")
            continue
        rest = leaf.path[1:]
        if len(rest) > 1 or (rest and not (rest[0] == "" or rest[0].isdigit())):
            errors.add(leaf.parameter, f"write includes[{entity}][]=field or includes[{entity}]=field,field")
            continue
        fields = chosen.setdefault(entity, [])
        if leaf.value is not _EMPTY:
            fields.extend(_names(leaf, errors, INCLUDABLE[entity], f"{entity} field") or ())
    return {
        "device_fields": _unique(chosen["device"]) if "device" in chosen else None,
        "enterprise_fields": _unique(chosen["enterprise"]) if "enterprise" in chosen else None,
    }


def _filters(leaves: list[Leaf], errors: _Errors) -> tuple[Filter, ...]:
    filters: dict[tuple[str, str], Filter] = {}
    for leaf in leaves:
        if not leaf.path or leaf.value is _EMPTY:
            continue
        if len(leaf.path) < 2:
            errors.add(leaf.parameter, "write filters[<field>][<op>]=value, e.g. filters[device.name][eq]=x")
            continue
        name, op = ".".join(leaf.path[:-1]), leaf.path[-1]
        if name not in FILTER_FIELDS:
            errors.add(leaf.parameter, f"unknown filter field {name!r}; choose from {', '.join(FILTER_FIELDS)}")
            continue
        if op not in OPERATORS:
            errors.add(leaf.parameter, f"unknown filter operator {op!r}; choose from {', '.join(OPERATORS)}")
            continue
        if not isinstance(leaf.value, str):
            errors.add(leaf.parameter, f"the value of filter {name} {op} must be a string")
            continue
        if len(leaf.value) > LONGEST_FILTER_VALUE:
            errors.add(leaf.parameter, f"a filter value has at most {LONGEST_FILTER_VALUE} characters")
            continue
        if reason := unstorable(leaf.value):
            errors.add(leaf.parameter, f"a filter value {reason}")
            continue
        if (name, op) in filters:
            errors.add(leaf.parameter, f"filter {name} {op} is given more than once")
            continue
        filters[(name, op)] = Filter(name, op, leaf.value)
    return tuple(filters.values())


def _sort(leaves: list[Leaf], errors: _Errors) -> tuple[tuple[str, int], ...]:
    keys: dict[str, int] = {}
    for leaf in leaves:
        if not leaf.path or leaf.value is _EMPTY:
            continue
        if len(leaf.path) != 1 or leaf.path[0] not in SORT_FIELDS:
            name = ".".join(leaf.path)
            errors.add(leaf.parameter, f"unknown sort field {name!r}; choose from {', '.join(SORT_FIELDS)}")
            continue
        direction = {"1": 1, "-1": -1}.get(str(leaf.value)) if not isinstance(leaf.value, bool) else None
        if direction is None:
            errors.add(leaf.parameter, f"sort direction must be 1 (ascending) or -1 (descending), not {leaf.value!r}")
            continue
        if leaf.path[0] in keys:
            errors.add(leaf.parameter, f"sort by {leaf.path[0]} is given more than once")
            continue
        keys[leaf.path[0]] = direction
    return tuple(keys.items())


# -- how /openapi.json describes them --------------------------------------------------------------------
#
# Every form above is accepted, but /openapi.json describes the ones that generic tools can send:
# attributes as a repeated parameter (attributes=serial&attributes=number) and the three objects as
# one JSON-encoded string each (filters={"device.name":{"eq":"x"}}). Measured: Swagger UI 5 sends a
# nested deepObject as filters[device.name]={"eq":"x"} (JSON below the first level), openapi-python-client
# 0.29 spreads an object parameter into top-level pairs (device.name=...) and drops a parameter
# described by ``content`` altogether; both send a string parameter as given. What the string holds is
# in ``x-json-schema``, not in JSON Schema's ``contentMediaType``/``contentSchema``: with those,
# Swagger UI 5 offers a file upload instead of a text field.


def _json_parameter(name: str, description: str, schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "x-json-schema": schema},
        "example": json.dumps(example, separators=(",", ":")),
    }


ASSOCIATION_LIST_PARAMETERS = [
    {
        "name": "attributes",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": True,
        "description": "Chip fields to return, repeated (attributes=serial&attributes=number); also "
        'attributes[]=serial, attributes=serial,number or a JSON array (["serial"]); absent or null: all. '
        f"One of {', '.join(CHIP_FIELDS)}.",
        "schema": {"type": "array", "items": {"type": "string", "enum": list(CHIP_FIELDS)}, "uniqueItems": True},
        "example": ["serial", "number"],
    },
    _json_parameter(
        "includes",
        'Related fields to add, as one JSON object ({"device": ["name"], "enterprise": ["cnpj"]}); also '
        "includes[device][]=name. Device fields: name, imei, code; enterprise fields: name, cnpj.",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                entity: {"type": "array", "items": {"type": "string", "enum": list(fields)}}
                for entity, fields in INCLUDABLE.items()
            },
        },
        {"device": ["name", "imei"], "enterprise": ["name"]},
    ),
    _json_parameter(
        "filters",
        'Filters, all combined with AND, as one JSON object of field -> operator -> value ({"device.name": '
        '{"ilk": "tracker"}}); also filters[<field>][<op>]=value. eq and neq are exact; ilk (contains), sw '
        "(starts with) and ew (ends with) ignore case and take % and _ literally. neq also matches an association "
        f"whose device has no chip. Fields: {', '.join(FILTER_FIELDS)}.",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                name: {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {op: {"type": "string", "maxLength": LONGEST_FILTER_VALUE} for op in OPERATORS},
                }
                for name in FILTER_FIELDS
            },
        },
        {"device.name": {"ilk": "tracker"}},
    ),
    _json_parameter(
        "sort",
        'Sort keys in the order given, as one JSON object ({"number": 1, "serial": -1}); also sort[number]=-1. '
        "1 ascending, -1 descending; associations without a chip come last. Then: main first, created_at, id.",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: {"type": "integer", "enum": [1, -1]} for name in SORT_FIELDS},
        },
        {"number": 1},
    ),
]
