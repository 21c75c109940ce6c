"""JSON request bodies: UTF-8, no member given twice, then validated by Pydantic into the route's type.

Python's ``json`` reads the text (with a hook that refuses a member given twice, which every other
JSON reader here silently resolves to the last one); Pydantic validates the result strictly, and
every fault it finds becomes one entry of the 400's ``errors``, with its JSON pointer.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from fleetreg.problems import BadRequest, DuplicateMember, MalformedJson, UnsupportedMediaType

# What a problem echoes of the request (a member name, a value) is cut here: a reply must not grow
# with what a client sends (a 1 MB member name came back twice before).
ECHO_LIMIT = 200

_MESSAGES = {"extra_forbidden": "unknown member", "missing": "required"}


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def pointer(parts: tuple[Any, ...] | list[Any]) -> str:
    """An RFC 6901 JSON pointer ("~" and "/" inside a member name escaped), each part clipped."""
    return "".join("/" + clip(str(part)).replace("~", "~0").replace("/", "~1") for part in parts)


def is_json_media(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def check_media_type(content_type: str | None) -> None:
    """415 unless the body is declared as JSON (a body without Content-Type included)."""
    if content_type is None:
        raise UnsupportedMediaType("send the body with Content-Type: application/json")
    if not is_json_media(content_type):
        raise UnsupportedMediaType(f"send the body as application/json, not {clip(content_type)}")


class _Duplicate(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _Duplicate(name)
            seen.add(name)
    return members


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)


def parse_json(body: bytes) -> Any:
    """The body's JSON value; 400 Malformed JSON or Duplicate Member otherwise."""
    if not body:
        raise BadRequest.from_errors([{"pointer": "", "detail": "a JSON body is required"}])
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedJson(f"the body is not UTF-8 text (byte {error.start})") from None
    try:
        return _DECODER.decode(text.removeprefix("\ufeff"))
    except _Duplicate:
        found = _first_duplicate(text)
        raise DuplicateMember(
            f"the member {clip(found[-1]) if found else '?'} is given twice",
            errors=[{"pointer": pointer(found or []), "detail": "given more than once"}],
        ) from None
    except json.JSONDecodeError as error:
        raise MalformedJson(f"the body is not valid JSON: {error.msg} at character {error.pos}") from None
    except (ValueError, RecursionError) as error:
        raise MalformedJson(f"the body is not valid JSON: {clip(str(error))}") from None


class _Pairs(list[tuple[str, Any]]):
    """An object as its member pairs, kept for finding where a duplicate is."""


def _first_duplicate(text: str) -> list[str] | None:
    """The path of the first member given twice (only on the error path: it parses again)."""
    tree = json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_Pairs)
    stack: list[tuple[Any, list[str]]] = [(tree, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Pairs):
            seen: set[str] = set()
            for name, _ in value:
                if name in seen:
                    return [*path, name]
                seen.add(name)
            stack.extend((inner, [*path, name]) for name, inner in reversed(value))
        elif isinstance(value, list):
            stack.extend((inner, [*path, str(number)]) for number, inner in reversed(list(enumerate(value))))
    return None


@functools.cache
def adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def validate(kind: Any, value: Any) -> Any:
    """``value`` validated into ``kind``; 400 listing every fault by its pointer otherwise."""
    try:
        return adapter(kind).validate_python(value)
    except ValidationError as error:
        raise validation_problem(error) from None


def validation_problem(error: ValidationError) -> BadRequest:
    errors: list[dict[str, str]] = []
    for item in error.errors(include_url=False, include_input=False):
        kind = item.get("type", "")
        location = tuple(item.get("loc", ()))
        detail = _MESSAGES.get(kind, item.get("msg", "invalid"))
        context = item.get("ctx") or {}
        if kind == "value_error" and "error" in context:
            detail = str(context["error"])  # the validator's own words, without "Value error, "
        if not location and kind in ("model_attributes_type", "dict_type", "model_type"):
            detail = "the body must be a JSON object"
        entry = {"pointer": pointer(location), "detail": clip(detail, 2 * ECHO_LIMIT)}
        if entry not in errors:
            errors.append(entry)
    return BadRequest.from_errors(errors)
