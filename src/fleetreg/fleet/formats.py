"""The formats of the fleet API's identifiers and business keys, checked the same way by the HTTP
bodies, the CSV imports and (as CHECK constraints) the database.

Every function here takes text and either returns it in its stored form or raises ``ValueError``
with a message fit for a client.
"""

from __future__ import annotations

import re
import secrets
import string

from fleetreg.values import unstorable

ID_PATTERN = r"^[A-Za-z0-9]{15}$"
_ID = re.compile(r"[A-Za-z0-9]{15}")
_ID_ALPHABET = string.ascii_letters + string.digits
_CNPJ = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_CNPJ_PUNCTUATION = str.maketrans("", "", "./-")
_CNPJ_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_IMEI = re.compile(r"[0-9]{15}")
_ICCID = re.compile(r"[0-9]{19,20}")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


def new_id() -> str:
    """A fresh resource id: 15 letters or digits from the operating system's CSPRNG (about 89 bits)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15))


def is_id(text: str) -> bool:
    return _ID.fullmatch(text) is not None


def check_id(text: str) -> str:
    if not is_id(text):
        raise ValueError("must be 15 ASCII letters or digits")
    return text


def luhn_valid(digits: str) -> bool:
    """The Luhn check (IMEI, ICCID): from the right, every second digit doubled, the sum ends in 0."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def cnpj_check_digits(base: str) -> str:
    """The two mod-11 check digits of 12 CNPJ characters (0-9, A-Z; a character is worth its ASCII
    code minus 48), as the Receita Federal defines them for the alphanumeric CNPJ of July 2026."""
    value = base
    for length in (12, 13):
        weights = _CNPJ_WEIGHTS[13 - length :]
        total = sum((ord(char) - 48) * weight for char, weight in zip(value, weights, strict=True))
        remainder = total % 11
        value += str(0 if remainder < 2 else 11 - remainder)
    return value[12:]


def normalize_cnpj(text: str) -> str:
    """``text`` as stored: without ``.``, ``/``, ``-``, in upper case; ``ValueError`` unless it is a
    valid CNPJ (numeric or alphanumeric)."""
    bare = text.translate(_CNPJ_PUNCTUATION).upper()
    if not _CNPJ.fullmatch(bare):
        raise ValueError(
            "a CNPJ has 14 characters, 12 digits or letters and 2 check digits (dots, slash and dash allowed)"
        )
    if cnpj_check_digits(bare[:12]) != bare[12:]:
        raise ValueError("the CNPJ's check digits are wrong")
    return bare


def check_imei(text: str) -> str:
    if not _IMEI.fullmatch(text):
        raise ValueError("an IMEI has exactly 15 digits")
    if not luhn_valid(text):
        raise ValueError("the IMEI's check digit (Luhn) is wrong")
    return text


def check_iccid(text: str) -> str:
    if not _ICCID.fullmatch(text):
        raise ValueError("an ICCID has 19 or 20 digits")
    if not luhn_valid(text):
        raise ValueError("the ICCID's check digit (Luhn) is wrong")
    return text


def check_e164(text: str) -> str:
    if not _E164.fullmatch(text):
        raise ValueError("a phone number is in E.164 form: + and 2 to 15 digits, the first not 0")
    return text


def normalize_vin(text: str) -> str:
    """``text`` in upper case; ``ValueError`` unless it is 17 letters or digits without I, O and Q."""
    upper = text.upper()
    if not _VIN.fullmatch(upper):
        raise ValueError("a VIN has 17 letters or digits, without I, O and Q")
    return upper


def check_text(text: str, *, longest: int) -> str:
    if not text:
        raise ValueError("must not be empty")
    if len(text) > longest:
        raise ValueError(f"must have at most {longest} characters")
    if reason := unstorable(text):
        raise ValueError(reason)
    return text
