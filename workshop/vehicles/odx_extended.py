"""DTC extended data records as an ODX description declares them: each ReadDTCInformation
service with sub-function 0x06 (reportDTCExtDataRecordByDTCNumber) whose request fixes the
record number (a CODED-CONST after the DTC) describes that record by its positive response's
parameters after the same constant: their names, types, scaling and units.

A description may also describe "all records" (0xFF) in one response; such a service names no
one record and is left out (its records' sizes are what splitting needs, and they come from the
per-record services).
"""

from __future__ import annotations

from typing import Any

_SID = 0x19
_SUB_EXTENDED = 0x06


def extended_records(layer: Any, value: Any) -> dict[int, list[Any]]:
    """Record number -> the `value(param)` of each parameter the record's data holds, for
    every per-record 0x19 06 service of `layer` (an odxtools diagnostic layer)."""
    out: dict[int, list[Any]] = {}
    for service in layer.services:
        request = service.request
        responses = getattr(service, "positive_responses", None)
        if request is None or not responses:
            continue
        consts = _consts(request.parameters)
        if consts.get(0) != _SID or consts.get(1) != _SUB_EXTENDED:
            continue
        # the record number: the one constant after the DTC (byte 5 in ISO 14229-1)
        numbers = [v for pos, v in consts.items() if pos >= 2]
        if len(numbers) != 1 or not 1 <= numbers[0] <= 0xEF:
            continue
        record = numbers[0]
        params = list(responses[0].parameters)
        answer = _consts(params)
        at = [pos for pos, v in answer.items() if pos >= 2 and v == record]
        if not at:
            continue
        data = [p for p in params if (p.byte_position or 0) > at[0]]
        if data:
            out.setdefault(record, [value(p) for p in data])
    return out


def _consts(params: Any) -> dict[int, int]:
    """Byte position -> value of each whole-byte CODED-CONST parameter."""
    out: dict[int, int] = {}
    for p in params:
        if getattr(p, "parameter_type", "") != "CODED-CONST" or p.byte_position is None:
            continue
        try:
            out[p.byte_position] = int(p.coded_value)
        except (TypeError, ValueError):
            continue
    return out
