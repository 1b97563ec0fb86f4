"""udsoncan's Response.from_payload, with its per-response reflection done once per kind.

udsoncan finds the service and the response code's name by walking classes with `inspect`
on every answer: about 1.7 ms each, which over DoIP (64 KiB blocks, a fraction of a
millisecond on the wire) was most of a flash's time. The parse of a response's head (SID,
and for a negative answer the requested SID and NRC) is the same for every answer of that
kind, so it is made once and copied; the data is the answer's own.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from udsoncan import Response


@lru_cache(maxsize=512)
def _head(head: bytes) -> Response:
    return Response.from_payload(head)


def parse_response(payload: bytes) -> Response:
    negative = payload[:1] == b"\x7f"
    start = 3 if negative else 1
    if len(payload) < (3 if negative else 2):
        return Response.from_payload(payload)  # short: udsoncan says what is missing
    # a positive head is its SID alone (a placeholder byte keeps udsoncan's length check)
    template = _head(bytes(payload[:3]) if negative else bytes(payload[:1]) + b"\x00")
    if not template.valid:
        return Response.from_payload(payload)
    response = copy.copy(template)
    response.original_payload = payload
    response.data = payload[start:] if len(payload) > start else b""
    return response
