"""Run a routine an ECU's ODX description names (`workshop routine ECU NAME PARAM=VALUE`):
the request encoded by odxtools from named physical values, sent in the extended session,
bracketed by an audit intent and outcome, the positive answer decoded into named values.

The request is checked against the description before anything is sent (`prepare`); the
variant the ECU identifies as is used for the run itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workshop.audit import AuditLog, intent_and_outcome
from workshop.diagnostics.described import ecu_variant
from workshop.foundation.errors import ConfigError
from workshop.services.audit_trail import technician
from workshop.services.connection import VehicleConnection
from workshop.services.diagnose import read_vin
from workshop.uds.errors import NegativeResponseError
from workshop.vehicles import EcuDefinition
from workshop.vehicles.odx_routine import (
    RoutineValue,
    decode_response,
    encode_request,
    find_routine,
    routines,
)

EXTENDED_SESSION = 0x03  # routines run outside the default session (ISO 14229-1)


@dataclass(frozen=True)
class RoutineResult:
    ecu: str
    routine: str
    variant: str
    request: str                       # hex, as sent
    values: list[RoutineValue] = field(default_factory=list)
    variant_note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"ecu": self.ecu, "routine": self.routine, "variant": self.variant,
                "variant_note": self.variant_note or None, "request": self.request,
                "values": [{"name": v.name, "value": v.value, "unit": v.unit,
                            "text": v.text, **({"raw": v.raw} if v.raw else {})}
                           for v in self.values]}


def _described(conn: VehicleConnection, ecu_name: str) -> EcuDefinition:
    definition = conn.vehicle.ecu(ecu_name)
    if definition.odx is None:
        raise ConfigError(f"{definition.name}: no ODX description names its routines",
                          hint="name the ECU's PDX in the vehicle definition (odx = "
                               "\"file.pdx\")")
    return definition


def prepare(conn: VehicleConnection, ecu_name: str, routine: str,
            params: dict[str, str]) -> bytes:
    """The request as the description encodes it (the named variant, else the base variant
    every variant shares, else an ECU variant that has the routine); ConfigError in words for
    anything the description does not allow. Nothing is sent."""
    definition = _described(conn, ecu_name)
    odx = definition.odx
    assert odx is not None
    layers = odx.description.database.diag_layers
    first = odx.summary().name
    # a routine only some ECU variants have is checked against the first that has it; the
    # run itself uses the variant the ECU identifies as (and refuses if it lacks the routine)
    names = [first] + ([] if odx.variant else [
        n for n, s in odx.description.summaries.items() if s.kind == "ECU-VARIANT"])
    having = next((n for n in names if routine in routines(layers[n])), first)
    return encode_request(find_routine(layers[having], routine, definition.name), params,
                          definition.name)


def run_routine(conn: VehicleConnection, ecu_name: str, routine: str, params: dict[str, str],
                log: AuditLog) -> RoutineResult:
    """Start `routine` on the ECU and decode its answer. An ECU's refusal raises
    NegativeResponseError (its NRC in words), recorded as the outcome."""
    definition = _described(conn, ecu_name)
    odx = definition.odx
    assert odx is not None
    name = definition.name
    vin = read_vin(conn, [name])
    with conn.client(name) as ecu:
        variant, note = ecu_variant(ecu, definition)
        assert variant is not None
        service = find_routine(odx.description.database.diag_layers[variant], routine, name)
        request = encode_request(service, params, name)
        with intent_and_outcome(log, "routine.run", vin=vin, ecu=name,
                                technician=technician(),
                                details={"routine": routine, "parameters": dict(params),
                                         "variant": variant, "request": request.hex().upper()}
                                ) as intent:
            ecu.change_session(EXTENDED_SESSION)
            answer = ecu.request(request)
            if answer[:1] == b"\x7f":
                intent.outcome = "refused"
                nrc = answer[2] if len(answer) > 2 else 0
                raise NegativeResponseError(name, f"routine {routine}", request[0], nrc)
            values = decode_response(service, request, answer)
            intent.result = {"answer": answer.hex().upper(),
                             "values": {v.name: v.text for v in values}}
    return RoutineResult(name, routine, variant, request.hex().upper(), values, note)
