"""Live data: chosen DIDs of one ECU read again and again, each decoded to a named value
with its unit, reported as typed events until the count, the duration or a cancel.

Several described DIDs go in one 0x22 request (ISO 14229-1 allows it, the answer's records
are split by the descriptions' sizes). An ECU that answers such a request with NRC 0x13,
0x14 or 0x31 cannot take it: from then on each DID goes alone, said once in words. A DID
the ECU leaves out of a combined answer, or an undescribed one (its size unknown), is read
alone too. A refusal or a timeout concerns only the DIDs of that request; the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workshop.foundation.errors import WorkshopError
from workshop.foundation.events import CancelToken, Event, EventSink, ignore_events
from workshop.uds.client import EcuClient
from workshop.uds.errors import NegativeResponseError
from workshop.vehicles.data_ids import DataDescription, DataDescriptions

TASK = "live"
MAX_DIDS_PER_REQUEST = 8
SINGLE_ONLY_NRCS = {0x13, 0x14, 0x31}  # the ECU cannot answer several DIDs at once
RETRY_AFTER_FAILURE_S = 0.5  # a cycle where nothing answered: no tight loop on a dead bus


@dataclass(frozen=True)
class Signal:
    """One DID as the technician sees it: its name and unit, or its number when undescribed."""

    did: int
    description: DataDescription | None

    @property
    def described(self) -> bool:
        return self.description is not None and bool(self.description.name)

    @property
    def name(self) -> str:
        if self.description is not None and self.description.name:
            return self.description.name
        return f"DID {self.did:04X} (undescribed)"

    @property
    def unit(self) -> str:
        return self.description.unit if self.described and self.description else ""


@dataclass(frozen=True)
class LiveSample(Event):
    """One value: `value` None when undescribed or its bytes do not fit the description
    (then `text` is the hex of `raw`, marked as such)."""

    ecu: str
    time: float  # seconds since the epoch
    did: int
    name: str
    value: float | None
    unit: str
    raw: bytes
    text: str


@dataclass(frozen=True)
class LiveProblem(Event):
    """A DID (or None: the whole ECU) that gave no value this time, in words."""

    ecu: str
    time: float
    did: int | None
    message: str


@dataclass(frozen=True)
class LiveCycle(Event):
    """Every requested DID of cycle `index` (1-based) was tried: a row is complete."""

    ecu: str
    time: float
    index: int


@dataclass
class LiveSummary:
    cycles: int = 0
    samples: int = 0
    problems: int = 0
    cancelled: bool = False


def sample(ecu: str, signal: Signal, raw: bytes, at: float) -> LiveSample:
    d = signal.description
    value = d.value(raw) if d is not None else None
    if value is not None and d is not None:
        text = d.text(raw) or raw.hex().upper()
    else:
        if d is None or not d.name:
            why = "undescribed"
        elif len(raw) != d.size:
            why = f"{len(raw)} bytes where the description says {d.size}"
        else:
            why = "not a number"
        text = f"{raw.hex(' ').upper() or '(empty)'} (hex, {why})"
    return LiveSample(TASK, ecu, at, signal.did, signal.name, value, signal.unit, raw, text)


class LiveReader:
    """`LiveReader(client, dids, descriptions).run()` blocks until `count` cycles, `duration_s`
    or the cancel token; `period_s` 0 reads as fast as the ECU answers."""

    def __init__(self, client: EcuClient, dids: Sequence[int], descriptions: DataDescriptions,
                 *, period_s: float = 0.0, count: int | None = None,
                 duration_s: float | None = None, events: EventSink = ignore_events,
                 cancel: CancelToken | None = None, max_per_request: int = MAX_DIDS_PER_REQUEST,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.ecu = client.target.name
        self.signals = [Signal(did, descriptions.did(did)) for did in dict.fromkeys(dids)]
        self.period_s = max(period_s, 0.0)
        self.count, self.duration_s = count, duration_s
        self.events = events
        self.cancel = cancel or CancelToken()
        self.max_per_request = max(1, max_per_request)
        self.clock = clock
        self.single_only = False
        self.alone: set[int] = {s.did for s in self.signals if not self._sized(s)}
        self.summary = LiveSummary()

    @staticmethod
    def _sized(signal: Signal) -> bool:
        return signal.description is not None and signal.description.size > 0

    def run(self) -> LiveSummary:
        start = time.monotonic()
        while not self.cancel.cancelled:
            index = self.summary.cycles + 1
            began = time.monotonic()
            got = self._cycle()
            self.summary.cycles = index
            self._emit(LiveCycle(TASK, self.ecu, self.clock(), index))
            if self.count is not None and index >= self.count:
                break
            if self.duration_s is not None and time.monotonic() - start >= self.duration_s:
                break
            wait = self.period_s - (time.monotonic() - began)
            if not got:
                wait = max(wait, RETRY_AFTER_FAILURE_S)
            if self.duration_s is not None:
                wait = min(wait, self.duration_s - (time.monotonic() - start))
            if wait > 0 and self.cancel.wait(wait):
                break
        self.summary.cancelled = self.cancel.cancelled
        return self.summary

    # -- one cycle ---------------------------------------------------------------------------

    def _cycle(self) -> int:
        """Read every signal once; the number of values got."""
        got = 0
        together = [s for s in self.signals if s.did not in self.alone]
        if self.single_only or len(together) < 2:
            together = []
        for at in range(0, len(together), self.max_per_request):
            if self.cancel.cancelled:
                return got
            got += self._read_together(together[at:at + self.max_per_request])
        for signal in self.signals:
            if self.cancel.cancelled:
                return got
            if signal in together:
                continue
            got += self._read_alone(signal)
        return got

    def _read_alone(self, signal: Signal) -> int:
        try:
            raw = self.client.read_did(signal.did)
        except WorkshopError as exc:
            self._problem(signal.did, _words(exc))
            return 0
        self._sample(signal, raw)
        return 1

    def _read_together(self, group: list[Signal]) -> int:
        try:
            answer = self.client.read_dids_raw(tuple(s.did for s in group))
        except NegativeResponseError as exc:
            if exc.nrc in SINGLE_ONLY_NRCS:
                self.single_only = True
                self._problem(None, f"{self.ecu} does not answer several DIDs in one request "
                                    f"({_words(exc)}); reading one DID per request")
            # this cycle's values still come, one request each
            return sum(self._read_alone(s) for s in group if not self.cancel.cancelled)
        except WorkshopError as exc:
            for s in group:
                self._problem(s.did, _words(exc))
            return 0
        return self._split(group, answer)

    def _split(self, group: list[Signal], answer: bytes) -> int:
        """The records of a combined answer, in the order asked; a DID left out is read alone
        from now on (its own answer says why), a malformed answer ends the split."""
        got, at = 0, 0
        for signal in group:
            if at + 2 <= len(answer) and int.from_bytes(answer[at:at + 2], "big") == signal.did:
                size = signal.description.size if signal.description else 0
                data = answer[at + 2:at + 2 + size]
                if len(data) == size:
                    self._sample(signal, data)
                    got += 1
                    at += 2 + size
                    continue
            self.alone.add(signal.did)
            got += self._read_alone(signal)
        return got

    # -- reporting ---------------------------------------------------------------------------

    def _sample(self, signal: Signal, raw: bytes) -> None:
        self.summary.samples += 1
        self._emit(sample(self.ecu, signal, raw, self.clock()))

    def _problem(self, did: int | None, message: str) -> None:
        self.summary.problems += 1
        self._emit(LiveProblem(TASK, self.ecu, self.clock(), did, message))

    def _emit(self, event: Event) -> None:
        self.events(event)


def _words(exc: WorkshopError) -> str:
    return f"{exc.message} ({exc.hint})" if exc.hint else exc.message
