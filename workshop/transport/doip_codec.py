"""DoIP messages on the wire: the generic header (ISO 13400-2 table 16) and a stream framer
over doipclient's message classes."""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence
from typing import Any

from doipclient.client import Parser
from doipclient.messages import ReservedMessage, payload_type_to_message

PROTOCOL_VERSION = 0x02  # ISO 13400-2:2012

# What a DoIP flash's rate and ETA are measured against: 100BASE-TX, the Ethernet an OBD
# socket's activation line gives (ISO 13400-3), nominal, not measured. Of each full-size
# frame, 1500 bytes plus 38 on the wire (preamble, header, FCS, inter-frame gap), 1460 are
# TCP payload; the DoIP and UDS headers (14 bytes per 64 KiB block) do not count.
NOMINAL_LINK_BITS_PER_S = 100_000_000
ETHERNET_MTU = 1500


def doip_ceiling_bps(link_bits_per_s: float = NOMINAL_LINK_BITS_PER_S,
                     mtu: int = ETHERNET_MTU) -> float:
    """Payload bytes per second a DoIP connection can carry at most on the link."""
    return link_bits_per_s / 8 * (mtu - 40) / (mtu + 38)


def pack(message: Any) -> bytes:
    """One DoIP message with its generic header."""
    body = message.pack()
    return struct.pack("!BBHL", PROTOCOL_VERSION, 0xFF ^ PROTOCOL_VERSION,
                       message.payload_type, len(body)) + body


HEADER = struct.Struct("!BBHL")
DIAGNOSTIC_HEAD = struct.Struct("!BBHLHH")  # generic header, source and target address
DIAGNOSTIC_MESSAGE = 0x8001


def diagnostic_head(source: int, target: int, length: int) -> bytes:
    """A diagnostic message's first 12 bytes, for a payload of `length` bytes."""
    return DIAGNOSTIC_HEAD.pack(PROTOCOL_VERSION, 0xFF ^ PROTOCOL_VERSION, DIAGNOSTIC_MESSAGE,
                                length + 4, source, target)


def write_parts(sock: socket.socket, parts: Sequence[bytes | memoryview]) -> None:
    """One gathered write: a 64 KiB block goes out behind its header without being copied
    into one buffer with it."""
    sent = sock.sendmsg(parts)
    if sent < sum(len(p) for p in parts):  # a partial write (rare): the rest in one piece
        sock.sendall(b"".join(parts)[sent:])


class Framer:
    """Splits a DoIP byte stream into messages; doipclient's message classes decode each.

    doipclient's own Parser formats every payload as hex for a debug log line even when
    debug logging is off: for a 64 KiB TransferData block that cost most of its time.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buf += data
        out = []
        while len(self._buf) >= HEADER.size:
            version, inverse, payload_type, length = HEADER.unpack_from(self._buf)
            if inverse != version ^ 0xFF:
                del self._buf[0]  # not a header: look one byte further, as doipclient does
                continue
            end = HEADER.size + length
            if len(self._buf) < end:
                break
            with memoryview(self._buf) as view:  # one copy of a 64 KiB block, not two
                payload = bytes(view[HEADER.size:end])
            del self._buf[:end]
            kind: Any = payload_type_to_message.get(payload_type)
            out.append(kind.unpack(payload, length) if kind is not None
                       else ReservedMessage.unpack(payload_type, payload, length))
        return out


def read_messages(parser: Framer | Parser, data: bytes) -> list[Any]:
    """Every complete message in `data` (plus what the parser kept from earlier reads)."""
    if isinstance(parser, Framer):
        return parser.feed(data)
    out = []
    message = parser.read_message(data)
    while message is not None:
        out.append(message)
        message = parser.read_message(b"")
    return out
