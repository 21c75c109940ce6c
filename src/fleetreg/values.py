"""Values every part of fleetreg reads from text the same way: query and path parameters, JSON
bodies, CSV imports. An integer is decimal digits (never ``2.5``, ``+5``, `` 5``, ``1_0``), a boolean
is ``true`` or ``false``, a UUID is its RFC 9562 hyphenated text, an instant is RFC 3339 with its
offset, text is what PostgreSQL can store. Each parser returns the value or raises ``ValueError``
with a message fit for a client.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

INT64_MAX = 2**63 - 1

_DIGITS = re.compile(r"-?[0-9]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# RFC 3339 section 5.6 date-time: any number of fraction digits, second 60 (a leap second), the
# offset "Z" or +hh:mm. Lower-case t and z, and a space for the T, are allowed by its section 5.6 note.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def parse_integer(text: str, minimum: int, maximum: int) -> int:
    if not _DIGITS.fullmatch(text):
        raise ValueError("must be an integer written in decimal digits")
    value = int(text)
    if not minimum <= value <= maximum:
        raise ValueError(f"must be between {minimum} and {maximum}")
    return value


def parse_boolean(text: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise ValueError("must be true or false")


def parse_uuid(text: str) -> uuid.UUID:
    if not _UUID.fullmatch(text):
        raise ValueError("must be a UUID such as 497f6eca-6276-4993-bfeb-53cbbbba6f08")
    return uuid.UUID(text)


def unstorable(text: str) -> str | None:
    """Why PostgreSQL cannot take ``text`` (a NUL character, a lone UTF-16 surrogate), or None."""
    if "\x00" in text:
        return "must not contain the NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode text (no lone surrogates)"
    return None


def storable_text(text: str) -> str:
    """``text`` unchanged, or ValueError when PostgreSQL could not store it."""
    if reason := unstorable(text):
        raise ValueError(reason)
    return text


def parse_instant(text: str) -> datetime:
    """An RFC 3339 date-time as an aware datetime in UTC. Digits past the microsecond are dropped;
    a leap second (``23:59:60Z``) is the instant that follows second 59, as PostgreSQL reads it."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError("must be an RFC 3339 time with its offset, e.g. 2026-11-22T10:00:00Z")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    fraction = (match.group(7) or "")[:6].ljust(6, "0")
    leap = second == 60
    try:
        offset = timedelta(0)
        if match.group(9):
            hours, minutes = int(match.group(10)), int(match.group(11))
            if hours > 23 or minutes > 59:
                raise ValueError
            offset = timedelta(hours=hours, minutes=minutes) * (1 if match.group(9) == "+" else -1)
        local = datetime(year, month, day, hour, minute, 59 if leap else second, int(fraction))
        instant = (local - offset).replace(tzinfo=UTC)
        if leap:
            instant += timedelta(seconds=1)
    except (ValueError, OverflowError):
        raise ValueError("must be a valid RFC 3339 time between years 0001 and 9999 in UTC") from None
    return instant
