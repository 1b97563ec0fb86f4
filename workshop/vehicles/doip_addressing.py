"""A vehicle's Diagnostics over IP (ISO 13400-2) addressing, as data: the `[doip]` table and
each ECU's `doip_address`.

```toml
[doip]
gateway_address = 0x0010     # the DoIP edge node's own logical address
tester_address = 0x0E00      # this tester (ISO 13400-2 external test equipment 0x0E00-0x0FFF)
functional_address = 0xE400  # functional requests to every ECU behind the gateway
port = 13400                 # TCP and UDP port (ISO 13400-2 UDP_DISCOVERY / TCP_DATA)

[[ecus]]
name = "ENGINE"
doip_address = 0x1001        # omitted: 0x1000 + the CAN request ID (11-bit) or target byte
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from workshop.foundation.addressing import ADDRESSING_29BIT_FIXED

DEFAULT_GATEWAY = 0x0010
DEFAULT_TESTER = 0x0E00
DEFAULT_FUNCTIONAL = 0xE400
DEFAULT_PORT = 13400
DEFAULT_ECU_BASE = 0x1000

# ISO 13400-2 table 13: which logical addresses name what.
ECU_RANGES = ((0x0001, 0x0DFF), (0x1000, 0x7FFF))
TESTER_RANGE = (0x0E00, 0x0FFF)
FUNCTIONAL_RANGE = (0xE400, 0xEFFF)


class DoipAddressingError(ValueError):
    """A `[doip]` value or an ECU's `doip_address` the definition cannot use."""


@dataclass(frozen=True)
class DoipAddressing:
    gateway_address: int = DEFAULT_GATEWAY
    tester_address: int = DEFAULT_TESTER
    functional_address: int = DEFAULT_FUNCTIONAL
    port: int = DEFAULT_PORT
    ecu_addresses: dict[str, int] = field(default_factory=dict)  # ECU name -> logical address

    def address(self, ecu_name: str) -> int:
        return self.ecu_addresses[ecu_name]

    def ecu_at(self, address: int) -> str | None:
        """The ECU of the definition at a logical address, if any."""
        return next((n for n, a in self.ecu_addresses.items() if a == address), None)


def _in(value: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= value <= high for low, high in ranges)


def _address(table: dict[str, Any], key: str, default: int, where: str,
             ranges: tuple[tuple[int, int], ...], what: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DoipAddressingError(f"{where}.{key} must be a whole number (e.g. 0x{default:04X})")
    if not _in(value, ranges):
        spans = " or ".join(f"0x{lo:04X}-0x{hi:04X}" for lo, hi in ranges)
        raise DoipAddressingError(f"{where}.{key} 0x{value:04X} is not {what} "
                                  f"(ISO 13400-2: {spans})")
    return value


def default_ecu_address(request_id: int, logical_address: int, extended: bool) -> int:
    """0x1000 + the 11-bit request ID (0x7E0 -> 0x17E0), or + the 29-bit target byte: the
    number a technician already knows from the CAN side, and stable when ECUs are added."""
    return DEFAULT_ECU_BASE + (logical_address if extended else request_id)


class _Ecu(Protocol):  # definition.EcuDefinition, which imports this module
    @property
    def name(self) -> str: ...
    @property
    def request_id(self) -> int: ...
    @property
    def addressing(self) -> str: ...
    @property
    def logical_address(self) -> int: ...


def parse_doip(raw: dict[str, Any], ecus: Sequence[_Ecu], tables: list[dict[str, Any]]
               ) -> DoipAddressing:
    """The `[doip]` table of a definition, and the address of each of its `ecus` (parsed
    from `tables`, their `[[ecus]]` tables, in definition order)."""
    table = raw.get("doip", {})
    if not isinstance(table, dict):
        raise DoipAddressingError("doip must be a table ([doip])")
    unknown = set(table) - {"gateway_address", "tester_address", "functional_address", "port"}
    if unknown:
        raise DoipAddressingError(f"doip.{sorted(unknown)[0]} is not a DoIP setting (known: "
                                  "gateway_address, tester_address, functional_address, port)")
    gateway = _address(table, "gateway_address", DEFAULT_GATEWAY, "doip", ECU_RANGES,
                       "a DoIP node address")
    tester = _address(table, "tester_address", DEFAULT_TESTER, "doip", (TESTER_RANGE,),
                      "an external test equipment address")
    functional = _address(table, "functional_address", DEFAULT_FUNCTIONAL, "doip",
                          (FUNCTIONAL_RANGE,), "a functional address")
    port = table.get("port", DEFAULT_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise DoipAddressingError(f"doip.port must be a TCP/UDP port number 1-65535 "
                                  f"(ISO 13400-2: {DEFAULT_PORT}), not {port!r}")
    addresses: dict[str, int] = {}
    owner: dict[int, str] = {gateway: "doip.gateway_address"}
    for i, (parsed, ecu) in enumerate(zip(ecus, tables, strict=True)):
        where, name = f"ecus[{i}]", parsed.name
        default = default_ecu_address(parsed.request_id, parsed.logical_address,
                                      parsed.addressing == ADDRESSING_29BIT_FIXED)
        given = "doip_address" in ecu
        address = _address(ecu, "doip_address", default, where, ECU_RANGES,
                           "an ECU address")
        if address in owner:
            hint = "" if given else (" (the default, 0x1000 + its CAN address; give "
                                     f"{where}.doip_address)")
            raise DoipAddressingError(f"{where} ({name}) DoIP address 0x{address:04X} is "
                                      f"already {owner[address]}'s{hint}")
        owner[address] = f"{where} ({name})"
        addresses[name] = address
    return DoipAddressing(gateway, tester, functional, port, addresses)
