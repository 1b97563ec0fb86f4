"""Bus trace for the app: every frame on the bus, kept in a bounded buffer, recorded to a file
with python-can's writers (ASC, BLF, candump .log by suffix), decoded with a DBC (cantools).

The tap runs on the bus's receive thread and only appends to a deque, so a saturated bus
(about 4,500 frames/s at 500 kbit/s) costs it microseconds per frame; the view takes batches.

The buffer holds plain tuples of numbers and bytes, which Python's cycle collector stops
tracking: 100,000 frame objects in it made each full collection take 60-150 ms, during which
every thread, the GUI's included, stood still.

Over DoIP the same trace holds the connection's DoIP messages (`DoipTraceFrame`: direction,
source and target logical address, payload type, the UDS payload), from the connection's
trace observer; recording to a file keeps CAN frames only (ASC/BLF/candump are CAN formats).
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import can

from workshop.foundation.errors import ConfigError
from workshop.services.connection import VehicleConnection
from workshop.transport.doip import DoipConnection
from workshop.transport.doip_trace import DoipTraceEvent, payload_type_name
from workshop.uds.describe import describe_uds

MAX_FRAMES = 100_000
RECORD_SUFFIXES = (".asc", ".blf", ".log")


@dataclass(frozen=True)
class TraceFrame:
    time: float
    id: int
    extended: bool
    dlc: int
    data: bytes
    direction: str  # "rx" (an ECU sent it) or "tx" (the tester sent it)

    @classmethod
    def of(cls, raw: Raw) -> TraceFrame:
        return cls(*raw)


Raw = tuple[float, int, bool, int, bytes, str]  # TraceFrame's fields, untracked by the GC
# DoipTraceFrame's fields (7 of them, so a buffer entry says which kind it is)
DoipRaw = tuple[float, str, int, int | None, int | None, bytes, int]
DIAGNOSTIC_MESSAGE = 0x8001
# A DoIP message's first bytes kept: TransferData blocks are 64 KiB, and the buffer holds
# 100,000 entries.
DOIP_KEPT_BYTES = 256


@dataclass(frozen=True)
class DoipTraceFrame:
    time: float
    direction: str  # "tx" (the tester sent it) or "rx"
    payload_type: int
    source: int | None
    target: int | None
    data: bytes  # the first DOIP_KEPT_BYTES of the UDS payload (or the DoIP payload)
    length: int  # of the whole payload

    @classmethod
    def of(cls, raw: DoipRaw) -> DoipTraceFrame:
        return cls(*raw)

    @property
    def id(self) -> int:
        """The ECU's (or gateway's) logical address: what the ID filter matches."""
        peer = self.target if self.direction == "tx" else self.source
        return -1 if peer is None else peer

    @property
    def kind(self) -> str:
        return payload_type_name(self.payload_type)

    @property
    def addresses(self) -> str:
        src = "-" if self.source is None else f"{self.source:04X}"
        dst = "-" if self.target is None else f"{self.target:04X}"
        return f"{src} \u2192 {dst}"

    def decoded(self) -> str:
        if self.payload_type == DIAGNOSTIC_MESSAGE:
            return f"{self.kind}: {describe_uds(self.data, self.length)}"
        return self.kind


Frame = TraceFrame | DoipTraceFrame


def frame_of(raw: Raw | DoipRaw) -> Frame:
    return DoipTraceFrame.of(raw) if len(raw) == 7 else TraceFrame.of(raw)  # type: ignore[arg-type]


class BusTrace:
    def __init__(self, conn: VehicleConnection, max_frames: int = MAX_FRAMES) -> None:
        self.conn = conn
        self._frames: deque[Raw | DoipRaw] = deque(maxlen=max_frames)
        self._new: deque[Raw | DoipRaw] = deque(maxlen=max_frames)
        self._lock = threading.Lock()
        self._writer: can.Listener | None = None
        self.paused = False
        self.seen = 0
        self._doip: DoipConnection | None = None
        if conn.endpoint is not None:
            conn.endpoint.router.add_tap(self._on_frame)
            conn.endpoint.router.add_tx_tap(self._on_frame)
        doip = getattr(conn, "doip", None)  # the connection's DoIP link, when it has one
        if isinstance(doip, DoipConnection):
            self.attach_doip(doip)

    def attach_doip(self, doip: DoipConnection) -> None:
        """Show this DoIP connection's messages too."""
        self._doip = doip
        doip.observers.append(self._on_doip)

    def _on_doip(self, event: DoipTraceEvent) -> None:
        self.seen += 1
        entry: DoipRaw = (event.time, event.direction, event.payload_type, event.source,
                          event.target, event.data[:DOIP_KEPT_BYTES], len(event.data))
        with self._lock:
            if not self.paused:
                self._new.append(entry)

    def _on_frame(self, msg: can.Message) -> None:
        self.seen += 1
        response = self.conn.is_response_id(msg.arbitration_id)
        frame = (msg.timestamp, msg.arbitration_id, msg.is_extended_id, msg.dlc,
                 bytes(msg.data), "rx" if response else "tx")
        with self._lock:
            if self._writer is not None:
                self._writer.on_message_received(msg)
            if not self.paused:
                self._new.append(frame)

    def take(self) -> list[Frame]:
        """Frames since the last call (the view's batch)."""
        with self._lock:
            batch = list(self._new)
            self._new.clear()
        self._frames.extend(batch)
        return [frame_of(r) for r in batch]

    def recent(self, n: int) -> list[Frame]:
        """The last `n` frames taken."""
        start = max(len(self._frames) - n, 0)
        return [frame_of(r) for r in itertools.islice(self._frames, start, None)]

    @property
    def kept(self) -> int:
        return len(self._frames)

    def clear(self) -> None:
        with self._lock:
            self._new.clear()
        self._frames.clear()

    def record(self, path: Path) -> None:
        if path.suffix.lower() not in RECORD_SUFFIXES:
            raise ConfigError(f"cannot record to {path.name}: unknown trace format",
                              hint="use .asc, .blf or .log (candump)")
        with self._lock:
            self._stop_locked()
            self._writer = can.Logger(str(path))

    def stop_recording(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        if self._writer is not None:
            self._writer.stop()
            self._writer = None

    def close(self) -> None:
        self.stop_recording()
        if self.conn.endpoint is not None:
            self.conn.endpoint.router.remove_tap(self._on_frame)
            self.conn.endpoint.router.remove_tx_tap(self._on_frame)
        if self._doip is not None and self._on_doip in self._doip.observers:
            self._doip.observers.remove(self._on_doip)


class DbcDecoder:
    """Signals of the frames a DBC describes (cantools, from the `gui` extra)."""

    def __init__(self, path: Path) -> None:
        try:
            import cantools
        except ImportError as exc:
            raise ConfigError("DBC decoding needs cantools",
                              hint="pip install 'workshop[gui]'") from exc
        self.lenient = False
        try:
            self.db: Any = cantools.database.load_file(str(path))
        except Exception:  # cantools raises many parser types
            # Real DBCs often overlap signals or exceed a frame; other tools load them
            # anyway, so do we, and say so.
            try:
                self.db = cantools.database.load_file(str(path), strict=False)
                self.lenient = True
            except Exception as exc:
                raise ConfigError(f"cannot read DBC {path.name}: {exc}",
                                  hint="check that the file is a DBC database") from exc
        self._ids = {m.frame_id for m in getattr(self.db, "messages", [])}
        self.messages = len(self._ids)

    def decode(self, frame: Frame) -> str:
        if isinstance(frame, DoipTraceFrame) or frame.id not in self._ids:
            return ""
        try:
            msg = self.db.get_message_by_frame_id(frame.id)
            values = msg.decode(frame.data, decode_choices=True)
        except Exception:  # a frame the DBC describes differently: show it raw
            return ""
        return f"{msg.name}: " + ", ".join(f"{k}={v}" for k, v in values.items())
