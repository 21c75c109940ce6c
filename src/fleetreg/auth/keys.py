"""Token signing keys: EC P-256 (ES256) key pairs kept in DATA_DIR/keys, or one given by setting.

The newest key in the directory signs; every key in it is published in the JWKS, so tokens signed
before a rotation stay valid until they expire. ``fleetreg keys rotate`` adds a key; removing an old
key file retires it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }


class SigningKeyError(Exception):
    """A key file is unreadable or not an EC P-256 private key."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(private_key: ec.EllipticCurvePrivateKey) -> str:
    """RFC 7638 JWK thumbprint of the public key: a stable key id."""
    numbers = private_key.public_key().public_numbers()
    canonical = json.dumps(
        {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64(hashlib.sha256(canonical.encode()).digest())


def load_key(path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise SigningKeyError(f"cannot read the signing key {path}: {error}") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SigningKeyError(f"{path} is not an EC P-256 private key")
    return SigningKey(thumbprint(key), key)


def _write_new_key(directory: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # Names sort by creation time: the last one is the newest, the one that signs.
    path = directory / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{thumbprint(key)[:8]}.pem"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return path


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with (directory / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class KeyRing:
    """The signing key and every public key that tokens may be verified with."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise SigningKeyError("no signing key")
        self.signing = keys[-1]
        self.by_kid = {key.kid: key for key in keys}

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        return cls([load_key(path)])

    @classmethod
    def from_directory(cls, directory: Path, *, create: bool = True) -> KeyRing:
        """The keys in ``directory``; with none there (and ``create``), a new one, made once even when
        several workers start together."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(directory):
            paths = sorted(directory.glob("*.pem"))
            if not paths and create:
                paths = [_write_new_key(directory)]
        return cls([load_key(path) for path in paths])

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.by_kid.values()]}


def rotate(directory: Path) -> SigningKey:
    """Add a new signing key; the old ones stay published until they are retired."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(directory):
        return load_key(_write_new_key(directory))


def key_files(directory: Path) -> list[tuple[Path, SigningKey]]:
    """The keys of ``directory``, oldest first (the last one signs)."""
    return [(path, load_key(path)) for path in sorted(directory.glob("*.pem"))]


def retire(directory: Path, kid: str) -> Path:
    """Stop publishing the key ``kid``: its file moves to ``retired/``. The signing key cannot be
    retired (rotate first)."""
    with _locked(directory):
        keys = key_files(directory)
        for index, (path, key) in enumerate(keys):
            if key.kid == kid:
                if index == len(keys) - 1:
                    raise SigningKeyError("that key signs new tokens; rotate first, then retire it")
                retired = directory / "retired"
                retired.mkdir(mode=0o700, exist_ok=True)
                return path.rename(retired / path.name)
    raise SigningKeyError(f"no key {kid} in {directory}")
