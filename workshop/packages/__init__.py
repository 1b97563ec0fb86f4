"""Signed update packages: build, verify, inspect; delta images; signed baselines.

May import workshop.trust and workshop.foundation only.

Package format (schema 1): one zip, entries STORED, holding `manifest.json`, `signature.bin`
(detached ECDSA P-256/SHA-256 or Ed25519 signature over the exact manifest bytes),
`chain.pem` (signer certificate, then intermediates) and `payloads/<ECU>/regionN.bin|.bsdiff`.
The manifest lists per package id, version, release notes, vehicle models, creation and
expiry dates, and the flashing `order`; per ECU name, diagnostic address, compatible hardware
part numbers, software versions it applies over, new version, anti-rollback security
version, check-memory algorithm, dependencies (`depends_on`, which must come earlier in
`order`) and memory regions (address, length, erase address/length, SHA-256 and CRC-32 of the
full image, and either a full payload or a bsdiff4 delta against a base image named by its
SHA-256), each payload with SHA-256 and exact length. Verification (`verify.verify_package`)
runs container -> chain -> signature -> manifest -> expiry -> payloads and stops at the first
failure; payload bytes are only reachable through the `VerifiedPackage` it returns.
"""
