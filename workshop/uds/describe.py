"""One UDS message in words for a trace: the service (udsoncan's names), request or answer,
the identifier it concerns, and a negative answer's reason."""

from __future__ import annotations

import inspect
from functools import cache

import udsoncan.services
from udsoncan.BaseService import BaseService

from workshop.uds.nrc import nrc_name

DID_SERVICES = {0x22, 0x2E}
ROUTINE_SERVICE = 0x31
SUBFUNCTION_SERVICES = {0x10, 0x11, 0x19, 0x27, 0x28, 0x31, 0x3E, 0x85}


@cache
def _names() -> dict[int, str]:
    return {c.request_id(): c.get_name()
            for _, c in inspect.getmembers(udsoncan.services, inspect.isclass)
            if issubclass(c, BaseService) and c is not BaseService}


def service_name(sid: int) -> str:
    return _names().get(sid, f"service 0x{sid:02X}")


def describe_uds(data: bytes, length: int | None = None) -> str:
    """`data`: the message or its first bytes (then `length` is the whole message's)."""
    length = len(data) if length is None else length
    if not data:
        return ""
    first = data[0]
    if first == 0x7F and len(data) >= 3:
        return f"{service_name(data[1])} refused: {nrc_name(data[2])}"
    names = _names()
    if first in names:
        sid, what = first, "request"
    elif first - 0x40 in names:
        sid, what = first - 0x40, "answer"
    else:
        return f"UDS 0x{first:02X}"
    text = f"{service_name(sid)} {what}"
    if sid in DID_SERVICES and len(data) >= 3:
        text += f" DID 0x{int.from_bytes(data[1:3], 'big'):04X}"
    elif sid == ROUTINE_SERVICE and len(data) >= 4:
        text += f" routine 0x{int.from_bytes(data[2:4], 'big'):04X}"
    elif sid == 0x36 and len(data) >= 2:
        text += f" block {data[1]}, {length - 2} bytes" if what == "request" \
            else f" block {data[1]}"
    elif sid in SUBFUNCTION_SERVICES and len(data) >= 2:
        text += f" 0x{data[1] & 0x7F:02X}"
    return text
