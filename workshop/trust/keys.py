"""Private keys (ECDSA P-256 or Ed25519): generate, save encrypted, load, sign, verify."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from workshop.foundation.paths import atomic_write
from workshop.trust.errors import KeyFileError, SignatureInvalidError

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
KeyType = Literal["p256", "ed25519"]


def generate_key(kind: KeyType = "p256") -> PrivateKey:
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise KeyFileError(f"unknown key type {kind!r}", hint="use 'p256' or 'ed25519'")


def save_key(key: PrivateKey, path: Path, passphrase: bytes) -> None:
    """Write the key as PKCS#8 PEM encrypted with `passphrase`."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(passphrase))
    atomic_write(path, pem, private=True)


def load_key(path: Path, passphrase: bytes | None) -> PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read private key {path}: {exc.strerror}",
                           hint="check the --key path") from exc
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"cannot load private key {path}: wrong passphrase or not a PEM key",
                           hint="set WORKSHOP_KEY_PASSPHRASE or check the key file") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise KeyFileError(f"unsupported key type in {path}", hint="use ECDSA P-256 or Ed25519")
    return key


def sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify_signature(public_key: object, signature: bytes, data: bytes) -> None:
    """Raise SignatureInvalidError unless `signature` over `data` verifies."""
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            raise SignatureInvalidError("signature check failed: unsupported signer key type",
                                        hint="signer keys must be ECDSA P-256 or Ed25519")
    except InvalidSignature as exc:
        raise SignatureInvalidError("signature check failed: signature does not match the "
                                    "signed bytes", hint="the file was altered or signed by "
                                    "another key; obtain a genuine copy") from exc
