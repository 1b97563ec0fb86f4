"""Signed baselines: for a vehicle model + integration level, the approved hardware part
numbers and software versions per ECU; and a pure `compare` against a vehicle's ECUs.

File format (JSON): {"format": "workshop-baseline", "document": "<JSON text>",
"signature": "<base64>", "chain": "<PEM, signer first>"}. The signature (ECDSA P-256/SHA-256
or Ed25519, as for packages) covers the UTF-8 bytes of "document" exactly; the signer's
certificate must carry the baseline-signing EKU and chain to a baseline root
(Purpose.BASELINE), so a firmware code-signing key cannot approve a baseline. The document:
{"schema": 1, "vehicle_model", "integration_level", "created", "valid_from" (optional, ISO
8601; default: created), "ecus": {NAME: {"part_numbers": [...], "software_versions": [...]}}}.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop.foundation.names import safe_name
from workshop.foundation.paths import atomic_write
from workshop.packages.errors import BuildSpecError, ManifestError, PackageSignatureError
from workshop.packages.manifest import Manifest
from workshop.trust.certs import load_certs_pem
from workshop.trust.chain import VerifiedChain, verify_chain
from workshop.trust.demo import Signer
from workshop.trust.errors import TrustError
from workshop.trust.keys import sign, verify_signature
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore

FORMAT = "workshop-baseline"
SCHEMA = 1
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Approved:
    part_numbers: tuple[str, ...]
    software_versions: tuple[str, ...]


@dataclass(frozen=True)
class Baseline:
    vehicle_model: str
    integration_level: str
    created: str
    ecus: Mapping[str, Approved]
    signer: VerifiedChain | None = None
    valid_from: str | None = None  # ISO 8601; None: valid from `created`

    def effective_from(self) -> dt.datetime:
        """From when the baseline is in force (valid_from, else its creation time), UTC."""
        return _timestamp(self.valid_from or self.created)


def _timestamp(text: str) -> dt.datetime:
    """An ISO 8601 date or date-time; a date or a naive time is taken as UTC."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class EcuVerdict:
    ecu: str
    verdict: str  # approved | outdated | unapproved | unknown | missing | incomplete
    detail: str = ""
    package: str | None = None  # for "outdated": id of a known package that fixes it


def _spec_error(what: str) -> BuildSpecError:
    return BuildSpecError(f"baseline spec check failed: {what}",
                          hint="see resources/baselines/*.toml")


def _names(e: Any, ecu: str, key: str) -> list[str]:
    value = e.get(key) if isinstance(e, dict) else None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        example = "DC-ENG-HW-100" if key == "part_numbers" else "1.1.0"
        raise _spec_error(f"ecu.{ecu}.{key} must be a list of text values "
                          f'(e.g. {key} = ["{example}"])')
    return value


def _text(head: Mapping[str, Any], key: str) -> str:
    value = head.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _spec_error(f"baseline.{key} must be text (e.g. {key} = \"2026.11\")")
    return value


def _document(spec: Mapping[str, Any]) -> dict[str, Any]:
    head, table = spec.get("baseline"), spec.get("ecu")
    if not isinstance(head, dict):
        raise _spec_error("a [baseline] table with vehicle_model and integration_level is "
                          "missing")
    if not isinstance(table, dict) or not table:
        raise _spec_error("no [ecu.NAME] table with part_numbers and software_versions")
    model = safe_name("baseline.vehicle_model", _text(head, "vehicle_model"))
    ecus = {name: {"part_numbers": _names(e, name, "part_numbers"),
                   "software_versions": _names(e, name, "software_versions")}
            for name, e in table.items()}
    try:
        doc = {"schema": SCHEMA, "vehicle_model": model,
               "integration_level": _text(head, "integration_level"),
               "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
               "ecus": ecus}
        if "valid_from" in head:
            start = head["valid_from"]
            text = start.isoformat() if isinstance(start, dt.date) else str(start)
            _timestamp(text)
            doc["valid_from"] = text
        return doc
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise _spec_error(f"baseline.valid_from is not an ISO date ({exc})") from exc


def sign_baseline(spec_path: Path, out: Path, signer: Signer) -> Baseline:
    try:
        spec = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildSpecError(f"cannot read baseline spec {spec_path}: {exc}") from exc
    text = json.dumps(_document(spec), indent=1, sort_keys=True)
    envelope = {"format": FORMAT, "document": text,
                "signature": base64.b64encode(sign(signer.key, text.encode())).decode(),
                "chain": signer.chain_pem().decode()}
    atomic_write(out, json.dumps(envelope, indent=1).encode())
    return _parse(text.encode(), None)


def _parse(data: bytes, chain: VerifiedChain | None) -> Baseline:
    try:
        doc = json.loads(data)
        if doc["schema"] != SCHEMA:
            raise ManifestError(f"schema check failed: baseline schema {doc['schema']} is not "
                                f"supported (this tool reads {SCHEMA})")
        ecus = {str(n): Approved(tuple(e["part_numbers"]), tuple(e["software_versions"]))
                for n, e in doc["ecus"].items()}
        valid_from = doc.get("valid_from")
        baseline = Baseline(str(doc["vehicle_model"]), str(doc["integration_level"]),
                            str(doc["created"]), ecus, chain,
                            None if valid_from is None else str(valid_from))
        baseline.effective_from()  # refuse a date that cannot be read
        _timestamp(baseline.created)
        return baseline
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ManifestError("baseline check failed: document is malformed",
                            hint="obtain a new copy of the baseline") from exc


def load_baseline(path: Path, trust: TrustStore, *, at: dt.datetime | None = None
                  ) -> Baseline:
    """Read and verify a signed baseline (signer: baseline-signing EKU, a baseline root)."""
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_BYTES:
            raise ManifestError(f"baseline check failed: {path} is larger than {MAX_BYTES}")
        env = json.loads(raw)
        if not isinstance(env, dict) or env.get("format") != FORMAT:
            raise ManifestError(f"baseline check failed: {path} is not a workshop baseline")
        document = str(env["document"]).encode()
        signature = base64.b64decode(str(env["signature"]), validate=True)
        chain_pem = str(env["chain"]).encode()
    except OSError as exc:
        raise ManifestError(f"cannot read baseline {path}: {exc.strerror}") from exc
    except (ValueError, KeyError, binascii.Error) as exc:
        raise ManifestError(f"baseline check failed: {path} is malformed",
                            hint="obtain a new copy of the baseline") from exc
    try:
        chain = verify_chain(load_certs_pem(chain_pem), trust, purpose=Purpose.BASELINE, at=at)
        verify_signature(chain.leaf.public_key(), signature, document)
    except TrustError as exc:
        raise PackageSignatureError(exc.message, hint=exc.hint) from exc
    return _parse(document, chain)


def _fixing_package(name: str, part: str, version: str, approved: Approved,
                    packages: Iterable[Manifest]) -> str | None:
    for m in packages:
        for e in m.ecus:
            if (e.name == name and version in e.from_versions
                    and e.new_version in approved.software_versions
                    and (not e.hardware_part_numbers or part in e.hardware_part_numbers)):
                return m.id
    return None


def compare(baseline: Baseline, ecus: list[Mapping[str, str]],
            known_packages: Iterable[Manifest] = ()) -> list[EcuVerdict]:
    """Per-ECU verdicts for a scanned vehicle (`ecus`: name, part_number, software_version,
    and optionally `unread`: which of those the ECU answered but would not tell, and why).
    An ECU that answered without its part number or version is `incomplete`, not missing."""
    packages = list(known_packages)
    seen: set[str] = set()
    out: list[EcuVerdict] = []
    for ecu in ecus:
        name, part, version = ecu["name"], ecu["part_number"], ecu["software_version"]
        seen.add(name)
        approved = baseline.ecus.get(name)
        if approved is None:
            out.append(EcuVerdict(name, "unknown", "ECU is not in the baseline"))
        elif ecu.get("unread"):
            out.append(EcuVerdict(name, "incomplete", f"ECU answered but could not be read: "
                                  f"{ecu['unread']}"))
        elif part not in approved.part_numbers:
            out.append(EcuVerdict(name, "unapproved", f"part number {part} is not approved"))
        elif version in approved.software_versions:
            out.append(EcuVerdict(name, "approved", f"{part} {version}"))
        else:
            pkg = _fixing_package(name, part, version, approved, packages)
            if pkg is not None:
                out.append(EcuVerdict(name, "outdated", f"{version} -> update with {pkg}", pkg))
            else:
                out.append(EcuVerdict(name, "unapproved", f"software {version} is not "
                                      "approved and no known package updates it"))
    out.extend(EcuVerdict(n, "missing", "ECU in the baseline was not found on the vehicle")
               for n in baseline.ecus if n not in seen)
    return out
