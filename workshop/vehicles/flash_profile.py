"""Flash profiles: everything the executor needs to program one ECU, as data.

Real bootloaders differ in sessions, security levels per step, routine ids and argument
layouts, how an erase reports completion, checksum algorithms, fingerprint DIDs and layouts,
identification DIDs, data formats and timings. A profile names them, so that flashing a new
ECU type means writing its profile, never code. A vehicle definition gives defaults in
`[flash]` and each ECU may override any key in `[ecus.flash]`; keys not given keep the
ISO 14229 / common-OEM defaults below. Every key is used by the executor: an unknown key is
refused when the definition loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from workshop.foundation.errors import ConfigError

# Fields of a routine's argument layout (what the tester puts after the routine id), in
# order. `hex:<bytes>` is a constant (e.g. VAG's erase: ["hex:01", "block"]).
ARG_FIELDS = ("address_length", "address", "length", "block", "region_index", "checksum",
              "crc32", "crc16_x25", "sum8", "sum16", "sum32", "sha256", "signature")
LEGACY_ARGS = ("none",)  # the empty layout, as older profiles name it
# How a routine says it has finished: in its (possibly 0x78-delayed) answer; by repeating
# the start until the status byte leaves `status_busy` (PSA); by polling 31 03 results.
COMPLETIONS = ("answer", "repeat_start", "results")
# How the preconditions routine reports: one status byte (0 = all met), or a bit set per
# condition that is not met (bit 0 battery voltage, 1 vehicle speed, 2 ignition, 3 engine).
PRECONDITION_ANSWERS = ("status_byte", "failed_bits")
TRANSFER_MODES = ("plain", "lz4", "bsdiff4")
BANKS = ("single", "ab")
# What 0x34 carries as its memoryAddress: the region's address, or its logical block number.
DOWNLOAD_ADDRESSES = ("address", "block")
# Fingerprint template fields: the tool's magic "WS", the date as BCD (YYMMDD), 4 bytes of
# the technician id's hash, the tester id text (ASCII, 8 bytes padded), a 2-byte workshop
# code, the package hash (first N bytes: package_hash:N), CRC-32 of the package hash, or
# a constant hex:<bytes>.
FINGERPRINT_FIELDS = ("magic", "date_bcd", "tester_hash", "tester_id", "workshop_code",
                      "package_hash", "package_crc32")
DEFAULT_TEMPLATE = ("magic", "date_bcd", "tester_hash", "package_hash:7")
FINGERPRINT_TIMES = ("before_erase", "after_download")
SECURITY_STEPS = ("fingerprint", "erase", "download", "check_memory", "check_dependencies")
TESTER_PRESENT = ("physical", "functional")
# How a single-bank ECU's running image is read out before it is erased (the rollback image):
# 0x35 RequestUpload + TransferData, or 0x23 ReadMemoryByAddress; none: it cannot be.
READOUTS = ("none", "upload", "read_memory")


# An Ethernet ECU's maxNumberOfBlockLength: the largest a 2-byte lengthFormatIdentifier says
ETHERNET_BLOCK_LENGTH = 0xFFFF

@dataclass(frozen=True)
class RoutineSpec:
    id: int
    args: tuple[str, ...] | str = ()
    completion: str = "answer"
    status_ok: int = 0x00
    status_busy: int = 0x01  # only for repeat_start / results: "still working"
    poll_ms: int = 50

    def __post_init__(self) -> None:
        if isinstance(self.args, str):  # RoutineSpec(0xFF00, "address_length")
            object.__setattr__(self, "args", () if self.args in LEGACY_ARGS
                               else (self.args,))

    @property
    def layout(self) -> tuple[str, ...]:
        return tuple(self.args)


@dataclass(frozen=True)
class FingerprintSpec:
    did: int
    template: tuple[str, ...] = DEFAULT_TEMPLATE


@dataclass(frozen=True)
class BootDetect:
    """How the tool knows the ECU sits in its bootloader: reading `did` gets NRC `nrc`, or
    (when `equals` is set) its value is `equals` (e.g. F186 activeDiagnosticSession 02)."""

    did: int = 0xF189
    nrc: int | None = 0x31
    equals: bytes | None = None


@dataclass(frozen=True)
class FlashProfile:
    extended_session: int = 0x03
    programming_session: int = 0x02
    security_level: int = 0x11  # requestSeed sub-function; sendKey is level + 1
    # Another level before a step, where the bootloader asks for one (e.g. erase: 0x13).
    step_security: dict[str, int] = field(default_factory=dict)
    security_delay_ms: int = 10_000  # NRC 0x37: wait at most this long, then ask again
    seed_key: str | None = None  # None: the ECU's own algorithm (its `seed_key`)
    preconditions: RoutineSpec | None = RoutineSpec(0x0204)
    precondition_answer: str = "status_byte"
    erase: RoutineSpec = RoutineSpec(0xFF00, "address_length")
    check_memory: RoutineSpec = RoutineSpec(0x0202, "checksum")
    check_dependencies: RoutineSpec | None = RoutineSpec(0xFF01)
    # A/B only: make the previous bank active again at the next reset (rollback).
    rollback: RoutineSpec | None = RoutineSpec(0xFF02)
    fingerprint_did: int = 0xF15A  # read back to recognise this tool's interrupted flash
    fingerprint: tuple[FingerprintSpec, ...] = ()  # (): fingerprint_did, default template
    fingerprint_when: str = "before_erase"
    # The ECU's anti-rollback counter (unsigned, big-endian); None: the ECU has none.
    anti_rollback_did: int | None = 0xF1A0
    version_did: int = 0xF189
    hardware_did: int = 0xF191
    boot_version_did: int | None = 0xF180
    boot_detect: BootDetect = BootDetect()
    address_and_length_format: int = 0x44  # ALFID: 4-byte address, 4-byte length
    download_address: str = "address"
    # dataFormatIdentifier of each transfer mode this bootloader accepts (0x34 byte 1).
    data_formats: dict[str, int] = field(default_factory=lambda: {"plain": 0x00})
    dtc_setting_off: bool = True
    dtc_setting_record: bytes = b""  # DTCSettingControlOptionRecord (e.g. FFFFFF)
    communication_control: bool = True
    communication_control_type: int = 0x01  # enableRxAndDisableTx
    communication_type: int = 0x01  # normal communication messages
    max_block_length: int | None = None  # cap on the ECU's maxNumberOfBlockLength
    reset_type: int = 0x01
    reset_wait_ms: int = 15_000  # how long the ECU may take to come back after a reset
    tester_present: str = "physical"  # keep-alive of the programmed ECU itself
    tester_present_ms: int = 2000
    p2_ms: int | None = None  # overrides the ECU's own P2 (its 0x10 answer)
    p2_star_ms: int | None = None
    banks: str = "single"
    readout: str = "none"
    readout_chunk: int = 0x400  # bytes per 0x23 request
    sector_size: int = 4096
    erase_ms_per_sector: float = 20.0
    write_bytes_per_s: float = 100_000.0

    def supports(self, mode: str) -> bool:
        return mode in self.data_formats

    @property
    def fingerprints(self) -> tuple[FingerprintSpec, ...]:
        return self.fingerprint or (FingerprintSpec(self.fingerprint_did),)

    def level_for(self, step: str) -> int:
        return self.step_security.get(step, self.security_level)


def parse_profile(raw: dict[str, Any] | None, base: FlashProfile | None = None,
                  where: str = "flash") -> FlashProfile:
    """`base` with the keys of `raw` applied; every key checked, unknown keys refused."""
    profile = base or FlashProfile()
    if not raw:
        return profile
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    known = {f.name for f in fields(FlashProfile)}
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where}.{key} is not a flash profile key",
                              hint=f"known keys: {', '.join(sorted(known))}")
        changes[key] = _value(key, value, f"{where}.{key}")
    return replace(profile, **changes)


OPTIONAL_ROUTINES = ("preconditions", "check_dependencies", "rollback")
ROUTINES = ("erase", "check_memory", *OPTIONAL_ROUTINES)


def parse_routine(value: Any, where: str, optional: bool = False) -> RoutineSpec:
    if not isinstance(value, dict) or "id" not in value:
        raise ConfigError(f"{where} must be {{ id = 0x..., args = [...] }}"
                          + (" or false" if optional else ""),
                          hint='e.g. { id = 0xFF00, args = ["hex:01", "block"] }')
    unknown = set(value) - {"id", "args", "completion", "status_ok", "status_busy", "poll_ms"}
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]} is not a routine key",
                          hint="routine keys: id, args, completion, status_ok, status_busy, "
                               "poll_ms")
    args = value.get("args", "none")
    layout = [args] if isinstance(args, str) else args
    if not isinstance(layout, list):
        raise ConfigError(f"{where}.args must be a list of argument fields")
    for item in layout:
        _arg_field(item, f"{where}.args")
    return RoutineSpec(_int(value["id"], f"{where}.id", 0, 0xFFFF),
                       tuple(a for a in layout if a not in LEGACY_ARGS),
                       _choice(value.get("completion", "answer"), COMPLETIONS,
                               f"{where}.completion"),
                       _int(value.get("status_ok", 0), f"{where}.status_ok", 0, 0xFF),
                       _int(value.get("status_busy", 1), f"{where}.status_busy", 0, 0xFF),
                       _int(value.get("poll_ms", 50), f"{where}.poll_ms", 1, 60_000))


def _arg_field(item: Any, where: str) -> None:
    if isinstance(item, str) and (item in ARG_FIELDS or item in LEGACY_ARGS):
        return
    if isinstance(item, str) and item.startswith("hex:"):
        _hex(item[4:], where)
        return
    raise ConfigError(f"{where}: {item!r} is not an argument field",
                      hint=f"fields: {', '.join(ARG_FIELDS)}, or hex:<bytes> for a constant")


def _value(key: str, value: Any, where: str) -> Any:
    if key in (*OPTIONAL_ROUTINES, "anti_rollback_did", "boot_version_did") and value is False:
        return None
    if key in ROUTINES:
        return parse_routine(value, where, key in OPTIONAL_ROUTINES)
    if key == "data_formats":
        if not isinstance(value, dict) or "plain" not in value:
            raise ConfigError(f"{where} must map transfer modes to dataFormatIdentifiers "
                              "and include plain", hint='e.g. { plain = 0x00, lz4 = 0x10 }')
        bad = set(value) - set(TRANSFER_MODES)
        if bad:
            raise ConfigError(f"{where}: unknown transfer mode {sorted(bad)[0]!r}",
                              hint=f"modes: {', '.join(TRANSFER_MODES)}")
        return {m: _int(v, f"{where}.{m}", 0, 0xFF) for m, v in value.items()}
    if key == "step_security":
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must map steps to security levels",
                              hint="e.g. { erase = 0x13 }")
        bad = set(value) - set(SECURITY_STEPS)
        if bad:
            raise ConfigError(f"{where}: {sorted(bad)[0]!r} is not a step",
                              hint=f"steps: {', '.join(SECURITY_STEPS)}")
        return {k: _odd_level(v, f"{where}.{k}") for k, v in value.items()}
    if key == "fingerprint":
        return _fingerprints(value, where)
    if key == "boot_detect":
        return _boot_detect(value, where)
    if key == "dtc_setting_record":
        return _hex(value, where)
    choices = {"precondition_answer": PRECONDITION_ANSWERS, "banks": BANKS,
               "fingerprint_when": FINGERPRINT_TIMES, "download_address": DOWNLOAD_ADDRESSES,
               "tester_present": TESTER_PRESENT, "readout": READOUTS}
    if key in choices:
        return _choice(value, choices[key], where)
    if key == "seed_key":
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where} must name a seed/key algorithm")
        return value
    if key in ("dtc_setting_off", "communication_control"):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if key in ("erase_ms_per_sector", "write_bytes_per_s"):
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{where} must be a positive number")
        return float(value)
    if key in ("security_level",):
        return _odd_level(value, where)
    if key == "max_block_length":
        return _int(value, where, 8, 0xFFFFFFFF)
    if key in ("anti_rollback_did", "fingerprint_did", "version_did", "hardware_did",
               "boot_version_did"):
        return _int(value, where, 0, 0xFFFF)
    if key in ("security_delay_ms", "reset_wait_ms"):
        return _int(value, where, 0, 600_000)
    if key == "tester_present_ms":
        return _int(value, where, 100, 60_000)
    if key in ("p2_ms", "p2_star_ms"):
        return _int(value, where, 1, 655_350)
    if key == "readout_chunk":
        return _int(value, where, 1, 0xFFFF)
    if key == "sector_size":
        return _int(value, where, 1, 1 << 24)
    if key == "address_and_length_format":
        alfid = _int(value, where, 0x11, 0xFF)
        if not (1 <= alfid & 0xF <= 5 and 1 <= alfid >> 4 <= 4):
            raise ConfigError(f"{where} 0x{alfid:02X} is not a valid "
                              "addressAndLengthFormatIdentifier",
                              hint="high nibble: length bytes 1-4, low nibble: address bytes "
                                   "1-5, e.g. 0x44")
        return alfid
    return _int(value, where, 0, 0xFF)


def _fingerprints(value: Any, where: str) -> tuple[FingerprintSpec, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where} must list {{ did = 0x..., template = [...] }}",
                          hint='e.g. [{ did = 0xF15A, template = ["date_bcd", '
                               '"workshop_code", "tester_id"] }]')
    out = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, dict) or "did" not in item or set(item) - {"did", "template"}:
            raise ConfigError(f"{at} must be {{ did = 0x..., template = [...] }}")
        template = item.get("template", list(DEFAULT_TEMPLATE))
        if not isinstance(template, list) or not template:
            raise ConfigError(f"{at}.template must list fingerprint fields")
        for t in template:
            _template_field(t, f"{at}.template")
        out.append(FingerprintSpec(_int(item["did"], f"{at}.did", 0, 0xFFFF), tuple(template)))
    return tuple(out)


def _template_field(item: Any, where: str) -> None:
    if isinstance(item, str):
        name, _, arg = item.partition(":")
        if name == "hex":
            _hex(arg, where)
            return
        if name == "package_hash" and arg.isdigit() and 1 <= int(arg) <= 32:
            return
        if name in FINGERPRINT_FIELDS and not arg and name != "package_hash":
            return
    raise ConfigError(f"{where}: {item!r} is not a fingerprint field",
                      hint=f"fields: {', '.join(FINGERPRINT_FIELDS)} (package_hash:N with N "
                           "bytes), or hex:<bytes>")


def _boot_detect(value: Any, where: str) -> BootDetect:
    if not isinstance(value, dict) or "did" not in value or set(value) - {"did", "nrc",
                                                                          "equals"}:
        raise ConfigError(f"{where} must be {{ did = 0x..., nrc = 0x.. }} or "
                          "{ did = 0x..., equals = \"hex\" }",
                          hint="e.g. { did = 0xF189, nrc = 0x31 } or "
                               "{ did = 0xF186, equals = \"02\" }")
    did = _int(value["did"], f"{where}.did", 0, 0xFFFF)
    if "equals" in value:
        return BootDetect(did, None, _hex(value["equals"], f"{where}.equals"))
    return BootDetect(did, _int(value.get("nrc", 0x31), f"{where}.nrc", 1, 0xFF))


def _odd_level(value: Any, where: str) -> int:
    level = _int(value, where, 1, 0x7D)
    if not level % 2:
        raise ConfigError(f"{where} 0x{level:02X} is a sendKey level",
                          hint="give the requestSeed level (odd); the key is sent at level + 1")
    return level


def _hex(value: Any, where: str) -> bytes:
    try:
        if isinstance(value, str):
            return bytes.fromhex(value)
    except ValueError:
        pass
    raise ConfigError(f"{where} must be hex digits", hint='e.g. "FFFFFF"')


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"{where} must be an integer in 0x{lo:X}..0x{hi:X}")
    return value


def _choice(value: Any, options: tuple[str, ...], where: str) -> str:
    if value not in options:
        raise ConfigError(f"{where} must be one of {', '.join(options)}",
                          hint=f"not {value!r}")
    return str(value)
