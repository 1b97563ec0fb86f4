"""A package's manifest and payloads from an ODX-F flash session (in a PDX or an .odx-f file).

What maps onto what:
- each DATABLOCK of the session is read from its FLASHDATA (inline, or a data file the PDX
  holds) and each of its SEGMENTs becomes a region at its SOURCE-START-ADDRESS, which must lie
  in the ECU-MEM's PHYS-MEM where the container declares one;
- EXPECTED-IDENTs named for the hardware become the hardware check, those named for the
  software version the versions the package updates from; OWN-IDENTs give the new version
  (and, named security_version, the anti-rollback security version);
- CHECKSUMs give the check-memory method and are verified against the data; a block's
  SECURITY gives the region's signature (FW-SIGNATURE, passed on to the ECU) and, for an
  encoded payload, the plain image's SHA-256 (FW-CHECKSUM);
- data the OEM encoded (ENCRYPT-COMPRESS-METHOD) passes through untouched with that value as
  its dataFormatIdentifier;
- the SECURITY-METHOD, read as a seed/key level, is checked against the ECU's flash profile
  when the vehicle definition knows the ECU: a difference refuses the build.
Anything missing or inconsistent refuses the build in words; nothing is written until the
whole container has been read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bincopy

from workshop.foundation.names import safe_name
from workshop.foundation.text import printable
from workshop.packages.build import ERASE_BLOCK, _Payload, write_package
from workshop.packages.errors import BuildSpecError, PackageError
from workshop.packages.manifest import (
    DEFAULT_ADDRESS_FORMAT,
    SCHEMA_VERSION,
    EcuUpdate,
    Manifest,
    Region,
    check_dates,
    check_order,
    check_regions,
)
from workshop.trust.demo import Signer
from workshop.trust.keys import sign
from workshop.vehicles.definition import EcuDefinition
from workshop.vehicles.odx import Description, load_description
from workshop.vehicles.odx_flash import (
    PhysRange,
    find_session,
    ident_kind,
    phys_ranges,
    security_level,
)

MAX_FLASHDATA = 256 * 1024 * 1024
TEXT_FORMATS = ("INTEL-HEX", "MOTOROLA-S")  # addressed records: a segment is cut by address
# CHECKSUM-ALG names (normalised: lower case, letters and digits) -> check-memory methods
CHECKSUM_ALGS = {"crc32": "crc32", "crc16x25": "crc16_x25", "crc16": "crc16_x25",
                 "sum8": "sum8", "sum16": "sum16", "sum32": "sum32", "sha256": "sha256"}


@dataclass
class OdxBuild:
    manifest: Manifest
    payloads: list[_Payload]
    notes: list[str] = field(default_factory=list)  # what was taken or not checked, in words


def _refuse(text: str, hint: str = "ask the ECU's supplier for a complete, unmodified "
            "flash container") -> BuildSpecError:
    # names and values in it are the supplier's text: shown escaped, never obeyed by a terminal
    return BuildSpecError(printable(text)[:500], hint=hint)


def odx_manifest(path: Path, session_name: str, ecu_name: str, *,
                 ecu: EcuDefinition | None = None, vehicle_model: str | None = None,
                 package_id: str | None = None, now: dt.datetime | None = None) -> OdxBuild:
    """The manifest and payloads of a package flashing ODX-F session `session_name` of the
    container at `path` into ECU `ecu_name` (its definition `ecu` when the vehicle knows it).
    Raises BuildSpecError (or ConfigError for an unreadable container) in words."""
    ecu_name = safe_name("--ecu", ecu_name)
    desc = load_description(path)
    src = path.name
    found = find_session(desc.database, session_name)
    if found is None:
        known = [s.name for s in desc.flash_sessions]
        raise _refuse(f"{src} has no flash session {session_name!r}",
                      hint=f"choose one of: {', '.join(known)}" if known else
                      f"{src} holds no ODX-F flash data; give the ECU's flash container")
    ecu_mem, session = found
    where = f"{src} session {session_name}"
    notes: list[str] = []
    memory = phys_ranges(ecu_mem)
    if not memory:
        notes.append(f"{ecu_mem.short_name} declares no physical memory: the regions are "
                     "checked against the ECU's definition when flashing")
    expected: dict[str, list[str]] = {"hardware": [], "version": []}
    for ident in session.expected_idents:
        kind = ident_kind(ident.short_name)
        if kind not in expected:
            raise _refuse(f"{where}: EXPECTED-IDENT {ident.short_name!r} is neither a hardware "
                          "number nor a software version the tool can check",
                          hint="name the hardware ident e.g. hardware_part_number and the "
                          "software one e.g. software_version")
        expected[kind].extend(str(v.value_raw) for v in ident.ident_values)
    for kind, what in (("hardware", "hardware part numbers"), ("version", "software versions")):
        if not expected[kind]:
            raise _refuse(f"{where} expects no {what}: the package would flash any ECU",
                          hint=f"the session needs an EXPECTED-IDENT with the {what} it "
                          "updates")
    regions: list[Region] = []
    payloads: list[_Payload] = []
    owns: dict[str, set[str]] = {"version": set(), "security_version": set()}
    for block in session.datablocks:
        data = _block_data(desc, block, where)
        for own in block.own_idents:
            kind = ident_kind(own.short_name)
            if kind in owns:
                owns[kind].add(str(own.ident_value.value_raw))
        _block_regions(block, data, session, memory, ecu_name, where, regions, payloads,
                       notes)
    if not regions:
        raise _refuse(f"{where} writes no data blocks")
    versions, securities = owns["version"], owns["security_version"]
    if len(versions) != 1:
        said = f"versions {', '.join(sorted(versions))}" if versions else "no new version"
        raise _refuse(f"{where}: the blocks' OWN-IDENTs give {said}",
                      hint="each block needs one OWN-IDENT software_version, the same in all")
    security = sorted(securities)[0] if len(securities) == 1 else "0"
    if not security.isdigit() or len(securities) > 1:
        raise _refuse(f"{where}: the blocks' security_version OWN-IDENTs "
                      f"({', '.join(sorted(securities))}) are not one whole number")
    if not securities:
        notes.append("no OWN-IDENT security_version: the package's security version is 0")
    check = _check_method(session, where, notes)
    level, method = security_level([*session.securities,
                                    *(s for b in session.datablocks for s in b.securities)])
    address = _address(desc, ecu, ecu_name, where)
    if ecu is not None and level is not None and ecu.flash.security_level != level:
        raise _refuse(f"{where}: its SECURITY-METHOD asks seed/key level 0x{level:02X}; "
                      f"{ecu.name}'s flash profile unlocks with 0x{ecu.flash.security_level:02X}",
                      hint="the package would not unlock this ECU: set security_level in the "
                      "ECU's [ecus.flash] or check that the container is for this ECU")
    if method and level is None:
        notes.append(f"security method {method!r} is not a seed/key level; not checked "
                     "against the ECU's flash profile")
    elif ecu is None and level is not None:
        notes.append(f"security level 0x{level:02X} not checked: the vehicle definition has "
                     f"no ECU {ecu_name}")
    update = EcuUpdate(ecu_name, address, expected["hardware"], expected["version"],
                       next(iter(versions)), int(security), check, regions, [],
                       DEFAULT_ADDRESS_FORMAT)
    created = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    manifest = Manifest(SCHEMA_VERSION,
                        safe_name("--id", package_id or f"{ecu_name.lower()}-{session_name}"),
                        update.new_version, f"from {src}, ODX-F session {session_name}",
                        [vehicle_model] if vehicle_model else [], created.isoformat(), None,
                        [ecu_name], [update])
    try:
        check_regions(update)
        check_dates(manifest)
        check_order(manifest)
    except PackageError as exc:
        raise BuildSpecError(exc.message, hint=exc.hint) from exc
    return OdxBuild(manifest, payloads, [printable(n) for n in notes])


def _address(desc: Description, ecu: EcuDefinition | None, name: str, where: str) -> int:
    if ecu is not None:
        return (ecu.request_id >> 8) & 0xFF if ecu.addressing == "normal_fixed_29bit" \
            else ecu.request_id
    for summary in desc.summaries.values():
        if summary.can_request_id is not None:
            return summary.can_request_id
    raise _refuse(f"{where}: the description gives no CAN request id and the vehicle "
                  f"definition has no ECU {name}",
                  hint="name the vehicle whose definition has the ECU (--vehicle FILE)")


def _check_method(session: Any, where: str, notes: list[str]) -> str:
    methods = set()
    for c in session.checksums:
        alg = "".join(ch for ch in str(c.checksum_alg or "").lower() if ch.isalnum())
        if alg not in CHECKSUM_ALGS:
            raise _refuse(f"{where}: checksum {c.short_name} uses {c.checksum_alg!r}, which "
                          "no check-memory routine here computes",
                          hint=f"supported: {', '.join(sorted(set(CHECKSUM_ALGS.values())))}")
        methods.add(CHECKSUM_ALGS[alg])
    if len(methods) > 1:
        raise _refuse(f"{where}: checksums use several methods ({', '.join(sorted(methods))})",
                      hint="one check-memory method per ECU is supported")
    if not methods:
        notes.append("the session declares no CHECKSUM: memory is checked with CRC-32")
    return methods.pop() if methods else "crc32"


def _block_data(desc: Description, block: Any, where: str) -> bytes:
    """The bytes of a block's FLASHDATA: inline hex, or a data file the PDX holds (its name
    is the supplier's text: one plain name, never a path)."""
    flashdata = block.flashdata
    at = f"{where} block {block.short_name}"
    if flashdata is None:
        raise _refuse(f"{at} names no FLASHDATA")
    selection = flashdata.dataformat.selection.value
    if selection not in ("BINARY", *TEXT_FORMATS):
        raise _refuse(f"{at}: its data is {selection}; BINARY, INTEL-HEX and MOTOROLA-S "
                      "flash data are read", hint="ask the supplier for the container with "
                      "binary, Intel HEX or S-record data")
    if getattr(block, "target_addr_offset", None) is not None:
        raise _refuse(f"{at} moves its data with a TARGET-ADDR-OFFSET, which is not supported")
    if hasattr(flashdata, "data"):
        if selection in TEXT_FORMATS:
            return str(flashdata.data).encode("ascii", "replace")
        try:
            return bytes.fromhex(flashdata.data)
        except ValueError:
            raise _refuse(f"{at}: its inline FLASHDATA {flashdata.short_name} is not hex "
                          "digits") from None
    name = str(flashdata.datafile.value)
    parts = name.replace("\\", "/").split("/")
    if (not name or name.startswith(("/", "\\")) or ".." in parts or ":" in name
            or any(p in ("", ".") for p in parts)):
        raise _refuse(f"{at}: its data file {name!r} is a path, not a file in the container; "
                      "refused (a name that leaves the container could read or overwrite "
                      "other files)")
    if desc.path.suffix.lower() != ".pdx":
        raise _refuse(f"{at}: its data is in file {name!r}; give the PDX that holds it")
    member = desc.database.auxiliary_files.get(name)
    if member is None:
        raise _refuse(f"{at}: its data file {name!r} is not in {desc.path.name}")
    member.seek(0)
    data = bytes(member.read(MAX_FLASHDATA + 1))
    if len(data) > MAX_FLASHDATA:
        raise _refuse(f"{at}: its data file {name!r} is larger than {MAX_FLASHDATA} bytes")
    return data


def _block_regions(block: Any, data: bytes, session: Any, memory: list[PhysRange],
                   ecu: str, where: str, regions: list[Region],
                   payloads: list[_Payload], notes: list[str]) -> None:
    """A region per segment: BINARY segments take the block's data one after another, Intel
    HEX / S-record segments the bytes their records put at the segment's addresses."""
    at = f"{where} block {block.short_name}"
    flash_method = block.flashdata.encrypt_compress_method
    selection = block.flashdata.dataformat.selection.value
    addressed = _addressed(data, selection, at) if selection in TEXT_FORMATS else None
    signature = next((str(s.fw_signature.value_raw) for s in block.securities
                      if s.fw_signature is not None), None)
    sha = next((str(s.fw_checksum.value_raw).lower() for s in block.securities
                if s.fw_checksum is not None), None)
    offset = 0
    for seg in block.segments:
        method = seg.encrypt_compress_method or flash_method
        start = seg.source_start_address
        plain = seg.uncompressed_size
        if plain is None and seg.source_end_address is not None:
            plain = seg.source_end_address - start + 1
        stored = seg.compressed_size if method is not None else plain
        if plain is None or stored is None or plain <= 0:
            raise _refuse(f"{at} segment {seg.short_name} gives no size"
                          + (" (an encoded segment needs COMPRESSED-SIZE and "
                             "UNCOMPRESSED-SIZE)" if method is not None else ""))
        if addressed is not None:
            if method is not None:
                raise _refuse(f"{at}: encoded {selection} data is not supported")
            found = next((d[start - a:start - a + plain] for a, d in addressed
                          if a <= start and start + plain <= a + len(d)), None)
            if found is None:
                raise _refuse(f"{at} segment {seg.short_name} (0x{start:X}+0x{plain:X}) is not "
                              f"wholly in the records of its {selection} data")
            payload = found
        elif len(data) < offset + stored:
            raise _refuse(f"{at} segment {seg.short_name} needs {stored} bytes at offset "
                          f"{offset} of its data, which has {len(data)}: the data is truncated")
        else:
            payload = data[offset:offset + stored]
            offset += stored
        if addressed is None and seg is block.segments[-1] and len(data) > offset:
            notes.append(f"block {block.short_name}: {len(data) - offset} bytes of its data "
                         "follow its last segment and are not flashed")
        home = next((m for m in memory if m.holds(start, plain)), None)
        if memory and home is None:
            known = ", ".join(f"{m.name} 0x{m.start:X}+0x{m.size:X}" for m in memory)
            raise _refuse(f"{at} segment {seg.short_name} (0x{start:X}+0x{plain:X}) lies "
                          f"outside the ECU-MEM's physical memory ({known})")
        declared = _declared_crc(session, start, plain, at)
        index = len(regions)
        block_size = (home.block_size if home and home.block_size else ERASE_BLOCK)
        erase = -(-plain // block_size) * block_size
        if home is not None:
            erase = min(erase, home.end - start)
        if method is None:
            crc = zlib.crc32(payload)
            if declared is not None and declared != crc:
                raise _refuse(f"{at} segment {seg.short_name}: its CHECKSUM says "
                              f"{declared:08X}, its data gives {crc:08X}: the data is not the "
                              "one the container describes")
            if sha is not None and len(block.segments) == 1 \
                    and sha != hashlib.sha256(payload).hexdigest():
                raise _refuse(f"{at}: its FW-CHECKSUM (SHA-256) does not match its data")
            p = _Payload(f"payloads/{ecu}/region{index}.bin", payload)
            regions.append(Region(start, plain, start, erase, hashlib.sha256(payload).hexdigest(),
                                  crc, p.ref(), signature=signature))
        else:
            dfi = _data_format(method, at)
            if declared is None or sha is None or len(sha) != 64 or len(block.segments) != 1:
                raise _refuse(f"{at} is encoded (method {method.value_raw}) but the container "
                              "does not declare the plain image's CRC-32 (CHECKSUM) and "
                              "SHA-256 (FW-CHECKSUM) for its one segment",
                              hint="the tool never decodes an OEM's payload: the container "
                              "must say what the ECU will hold")
            p = _Payload(f"payloads/{ecu}/region{index}.oem", payload)
            regions.append(Region(start, plain, start, erase, sha, declared, p.ref(), None,
                                  dfi, signature))
        payloads.append(p)


def _addressed(data: bytes, selection: str, at: str) -> list[tuple[int, bytes]]:
    """Intel HEX or S-record text as (address, bytes) runs, read by bincopy."""
    binfile = bincopy.BinFile()
    try:
        text = data.decode("ascii")
        if selection == "INTEL-HEX":
            binfile.add_ihex(text)
        else:
            binfile.add_srec(text)
    except (UnicodeDecodeError, bincopy.Error, ValueError) as exc:
        raise _refuse(f"{at}: its {selection} data is malformed: {exc}") from None
    return [(seg.minimum_address, bytes(seg.data)) for seg in binfile.segments]


def _declared_crc(session: Any, start: int, size: int, at: str) -> int | None:
    for c in session.checksums:
        alg = "".join(ch for ch in str(c.checksum_alg or "").lower() if ch.isalnum())
        end = c.source_end_address
        if alg != "crc32" or c.source_start_address != start or (
                end is not None and end != start + size - 1):
            continue
        try:
            return int(str(c.checksum_result.value_raw), 16)
        except ValueError:
            raise _refuse(f"{at}: checksum {c.short_name}'s result "
                          f"{c.checksum_result.value_raw!r} is not hex digits") from None
    return None


def _data_format(method: Any, at: str) -> int:
    text = str(method.value_raw).strip()
    try:
        value = int(text, 16 if method.value_type.value == "A_BYTEFIELD" else 0)
    except ValueError:
        value = -1
    if not 0x01 <= value <= 0xFF:
        raise _refuse(f"{at}: ENCRYPT-COMPRESS-METHOD {text!r} is not a dataFormatIdentifier "
                      "(one byte, 01..FF)")
    return value


def build_odx_package(path: Path, session: str, ecu_name: str, out: Path, signer: Signer, *,
                      ecu: EcuDefinition | None = None, vehicle_model: str | None = None,
                      package_id: str | None = None) -> OdxBuild:
    """Read the container whole, then sign and write the package (atomically)."""
    built = odx_manifest(path, session, ecu_name, ecu=ecu, vehicle_model=vehicle_model,
                         package_id=package_id)
    data = built.manifest.to_json()
    write_package(out, data, sign(signer.key, data), signer.chain_pem(), built.payloads)
    return built
