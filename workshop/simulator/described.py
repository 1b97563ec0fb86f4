"""A simulated ECU that speaks from its ODX/PDX description (`odx = "file.pdx"`).

Where the ECU's TOML gives no identification, no DTCs or nothing for a routine, the
simulator serves what the description says, encoded by odxtools:
- each 0x22 service whose answer has PHYSICAL-DEFAULT-VALUEs: the raw bytes odxtools encodes
  from them (so the tester decodes the same physical values with the same description);
- every DTC of the ECU's DTC-DOPs, stored as testFailed + confirmed (status 0x09);
- each RoutineControl start (31 01 <id>) described, answered with its encoded positive
  response (one whose request takes values: the same answer whatever the values; one whose
  answer has values without defaults is not served: requestOutOfRange).
The variant is the TOML's `variant`, else the one whose ECU-VARIANT-PATTERNs the served
values match (odxtools' VariantMatcher), else the base variant.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from typing import Any

from workshop.vehicles import EcuDefinition
from workshop.vehicles.definition import DtcDefinition

log = logging.getLogger(__name__)

STORED = 0x09  # testFailed | confirmedDTC


@dataclasses.dataclass(frozen=True)
class DescribedEcu:
    definition: EcuDefinition
    routine_answers: dict[int, bytes]
    variant: str | None


def described(ecu: EcuDefinition) -> DescribedEcu:
    """`ecu` with what its description gives the simulator added where the TOML is silent."""
    if ecu.odx is None:
        return DescribedEcu(ecu, {}, None)
    desc = ecu.odx.description
    variant = ecu.odx.variant or ecu.odx._fallback()
    served = _encoded_answers(desc.database, variant)
    if ecu.odx.variant is None and desc.patterned():
        found = desc.identify(lambda request: _answer(served, request))
        if found is not None and found != variant:
            variant = found
            served = _encoded_answers(desc.database, variant)
    ident = dict(ecu.identification)
    routines: dict[int, bytes] = {}
    for prefix, answer in served.items():
        if prefix[:1] == b"\x22" and len(prefix) == 3 and answer[:3] == b"\x62" + prefix[1:]:
            ident.setdefault(int.from_bytes(prefix[1:], "big"), answer[3:])
        elif prefix[:2] == b"\x31\x01" and len(prefix) == 4 and answer[:1] == b"\x71":
            routines[int.from_bytes(prefix[2:], "big")] = answer
    dtcs = ecu.dtcs or tuple(DtcDefinition(_j2012(d.code), STORED)
                             for d in ecu.odx.summary(variant).dtcs)
    return DescribedEcu(dataclasses.replace(ecu, identification=ident, dtcs=dtcs), routines,
                        variant)


def _answer(served: dict[bytes, bytes], request: bytes) -> bytes:
    found = served.get(bytes(request))
    return found if found is not None else bytes([0x7F, request[0] if request else 0, 0x31])


def _encoded_answers(database: Any, variant: str) -> dict[bytes, bytes]:
    """Request bytes -> the positive answer odxtools encodes from the physical defaults, for
    each service of `variant` whose request and answer encode without further values."""
    out: dict[bytes, bytes] = {}
    layer = database.diag_layers[variant]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for service in layer.services:
            responses = getattr(service, "positive_responses", None)
            if service.request is None or not responses:
                continue
            try:
                request = bytes(service.request.encode())
                out[request] = bytes(responses[0].encode(coded_request=request))
            except Exception as exc:  # a value with no default: not served from here
                log.debug("%s: %s not served: %s", variant, service.short_name, exc)
                _routine_with_parameters(out, service, responses[0])
    return out


def _routine_with_parameters(out: dict[bytes, bytes], service: Any, response: Any) -> None:
    """A routine start whose request takes values: answered (whatever the values) with the
    answer its defaults encode, keyed by its constant 31 01 <id>."""
    prefix = bytes(service.request.coded_const_prefix())
    if len(prefix) != 4 or prefix[:2] != b"\x31\x01":
        return
    try:
        out[prefix] = bytes(response.encode())
    except Exception as exc:  # an answer value with no default: the ECU refuses the routine
        log.debug("%s not served: %s", service.short_name, exc)


def _j2012(number: int) -> str:
    """The 3-byte DTC number as the definition writes it (SAE J2012: P033500)."""
    return f"{'PCBU'[number >> 22 & 3]}{number >> 8 & 0x3FFF:04X}{number & 0xFF:02X}"
