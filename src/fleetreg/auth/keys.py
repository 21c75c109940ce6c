"""Token signing keys: EC P-256 (ES256) key pairs kept in DATA_DIR/keys, or one given by setting.

The newest key in the directory signs; every key in it is published in the JWKS, so tokens signed
before a rotation stay valid until they expire. ``fleetreg keys rotate`` adds a key; removing an old
key file retires it.

A process that loads the keys of a directory (every server worker) notes in ``.signers.json`` which
key it signs with, until it exits: ``fleetreg keys retire`` refuses the key a running server still
signs with (it reads the keys at start, so after a rotation it signs with the old one until restarted).
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

import psutil
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
            ring = cls([load_key(path) for path in paths])
            _note_signer(directory, ring.signing.kid)
        return ring

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


_SIGNERS = ".signers.json"


def _this_process() -> list[Any]:
    return [os.getpid(), psutil.Process().create_time()]


def _live_signers(directory: Path) -> list[list[Any]]:
    """[pid, start time, kid] of the live processes that sign with a key of ``directory``."""
    try:
        signers = json.loads((directory / _SIGNERS).read_text())
    except (FileNotFoundError, ValueError):
        return []
    live = []
    for signer in signers:
        with contextlib.suppress(psutil.Error, ValueError, TypeError, IndexError):
            # the start time tells the process apart from a later one that got the same pid
            if abs(psutil.Process(int(signer[0])).create_time() - float(signer[1])) < 0.01:
                live.append(signer)
    return live


def _note_signer(directory: Path, kid: str) -> None:
    """Note (under the directory's lock) that this process signs with ``kid``."""
    me = _this_process()
    signers = [s for s in _live_signers(directory) if s[:2] != me] + [[*me, kid]]
    temporary = directory / f"{_SIGNERS}.tmp"
    temporary.write_text(json.dumps(signers))
    temporary.replace(directory / _SIGNERS)


def retire(directory: Path, kid: str) -> Path:
    """Stop publishing the key ``kid``: its file moves to ``retired/``. The signing key cannot be
    retired (rotate first), nor a key a running server still signs with (restart it first)."""
    with _locked(directory):
        keys = key_files(directory)
        for index, (path, key) in enumerate(keys):
            if key.kid == kid:
                if index == len(keys) - 1:
                    raise SigningKeyError("that key signs new tokens; rotate first, then retire it")
                signing = [str(s[0]) for s in _live_signers(directory) if s[2] == kid]
                if signing:
                    raise SigningKeyError(
                        f"a running server (pid {', '.join(signing)}) still signs with that key: "
                        "restart the servers first (they then sign with the newest), then retire it"
                    )
                retired = directory / "retired"
                retired.mkdir(mode=0o700, exist_ok=True)
                return path.rename(retired / path.name)
    raise SigningKeyError(f"no key {kid} in {directory}")
