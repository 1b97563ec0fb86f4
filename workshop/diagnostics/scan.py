"""Vehicle scan: find the ECUs, then identify them and read their DTCs concurrently."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workshop.diagnostics.bootloader import IN_BOOTLOADER, in_bootloader
from workshop.diagnostics.described import add_texts, read_identity
from workshop.diagnostics.vin import vin_problem
from workshop.foundation.errors import CancelledError, WorkshopError
from workshop.foundation.events import (
    CancelToken,
    EcuFinished,
    EcuStarted,
    EcuStep,
    EventSink,
    ignore_events,
)
from workshop.transport.doip import NACK_OUT_OF_MEMORY, DiagnosticNackError, DoipConnection
from workshop.transport.router import BusEndpoint
from workshop.uds.client import EcuClient, EcuTarget
from workshop.uds.dtc import DEFAULT_STATUS_MASK
from workshop.uds.dtc_records import Dtc
from workshop.uds.errors import EcuTimeoutError, InvalidResponseError, NegativeResponseError
from workshop.uds.identity import EcuIdentity
from workshop.uds.nrc import nrc_name
from workshop.vehicles import EcuDefinition
from workshop.vehicles.data_ids import NO_DESCRIPTIONS, DataDescriptions

SCAN_STEPS = ("identify", "read DTCs")
# Each worker holds one ECU client, whose ISO-TP link runs two threads of its own: the bound
# keeps a vehicle of any size to ~100 tester threads, and 32 still scans a 30-ECU truck at once.
MAX_SCAN_WORKERS = 32
# Over DoIP an ECU client is two queues on the one TCP connection, no threads of its own,
# and the gateway queues each ECU's requests: a 60-ECU vehicle is scanned all at once.
MAX_DOIP_SCAN_WORKERS = 128
RETRY_WORKERS = 4


@dataclass
class EcuScan:
    name: str
    address: str
    source: str  # "definition", "discovered" or "definition+discovered"
    identity: EcuIdentity = field(default_factory=EcuIdentity)
    dtcs: list[Dtc] = field(default_factory=list)
    error: str | None = None
    # no application runs: an interrupted flash left it in its bootloader (no DTCs read)
    in_bootloader: bool = False
    variant: str | None = None  # the ECU's ODX variant, named or identified
    variant_note: str = ""  # in words, when the variant was assumed (answers matched none)

    @property
    def responded(self) -> bool:
        return (self.error is None or self.in_bootloader
                or bool(self.identity.values or self.identity.failed))

    @property
    def vin_problem(self) -> str | None:
        vin = self.identity.vin
        return vin_problem(vin) if vin else None

    def to_json(self) -> dict[str, Any]:
        vin = self.identity.vin
        return {"name": self.name, "address": self.address, "source": self.source,
                "responded": self.responded, "identification": self.identity.by_name(),
                "identification_failed": self.identity.failed_by_name(),
                "software_version": self.identity.software_version,
                "part_number": self.identity.part_number,
                "vin_valid": None if vin is None else self.vin_problem is None,
                "vin_problem": self.vin_problem,
                "dtcs": [d.to_json() for d in self.dtcs], "error": self.error,
                "in_bootloader": self.in_bootloader, "variant": self.variant,
                "variant_note": self.variant_note}


@dataclass
class VehicleScan:
    vehicle: str
    started: str
    duration_s: float
    ecus: list[EcuScan]
    status_mask: int = DEFAULT_STATUS_MASK

    @property
    def vin(self) -> str | None:
        vins = Counter(e.identity.vin for e in self.ecus if e.identity.vin)
        return vins.most_common(1)[0][0] if vins else None

    @property
    def vin_conflicts(self) -> list[str]:
        vin = self.vin
        return [e.name for e in self.ecus if e.identity.vin and e.identity.vin != vin]

    @property
    def vin_problem(self) -> str | None:
        vin = self.vin
        return vin_problem(vin) if vin else None

    @property
    def in_bootloader(self) -> list[str]:
        """ECUs an interrupted flash left in their bootloader ('workshop flash resume')."""
        return [e.name for e in self.ecus if e.in_bootloader]

    def to_json(self) -> dict[str, Any]:
        return {"vehicle": self.vehicle, "vin": self.vin, "in_bootloader": self.in_bootloader,
                "vin_valid": None if self.vin is None else self.vin_problem is None,
                "vin_problem": self.vin_problem, "vin_conflicts": self.vin_conflicts,
                "started": self.started, "duration_s": round(self.duration_s, 3),
                "dtc_status_mask": f"0x{self.status_mask:02X}",
                "ecus": [e.to_json() for e in self.ecus]}


def _failure(step: str, exc: WorkshopError) -> str:
    if isinstance(exc, NegativeResponseError):
        return f"{step} failed: NRC 0x{exc.nrc:02X} {nrc_name(exc.nrc)}"
    return f"{step} failed: {exc.message}"


@dataclass
class _Job:
    target: EcuTarget
    result: EcuScan
    try_again: bool = False


@dataclass(frozen=True)
class _ScanRun:
    endpoint: BusEndpoint | DoipConnection
    texts: dict[str, str]
    mask: int
    events: EventSink
    cancel: CancelToken
    task: str
    definitions: Mapping[str, EcuDefinition]
    tables: DataDescriptions = NO_DESCRIPTIONS  # the vehicle definition's names and units

    def scan_ecu(self, job: _Job, *, first_try: bool, last_try: bool) -> None:
        """Identify one ECU and read its DTCs into `job.result`; publish its result unless
        it timed out and will be tried again (`last_try` False)."""
        self.cancel.raise_if_cancelled()
        target, result = job.target, job.result
        if first_try:
            self.events(EcuStarted(self.task, target.name))
        result.identity, result.dtcs, result.error = EcuIdentity(), [], None
        result.in_bootloader, result.variant, result.variant_note = False, None, ""
        job.try_again = False
        client = EcuClient(self.endpoint, target)
        try:
            client.open()
        except RuntimeError as exc:
            # can-isotp could not get its threads running (a machine out of threads or
            # CPU): this ECU is not scanned, the others still are.
            client.close()
            result.error = f"could not open the ISO-TP link to {target.name}: {exc}"
        else:
            self._identify_and_read(client, job)
        if last_try or not job.try_again:
            self.events(EcuFinished(self.task, target.name, ok=result.error is None,
                                    result=result, error=result.error))

    def _identify_and_read(self, client: EcuClient, job: _Job) -> None:
        name, result, step = job.target.name, job.result, "identification"
        try:
            self.events(EcuStep(self.task, name, SCAN_STEPS[0], 1, len(SCAN_STEPS)))
            definition = self.definitions.get(name)
            result.identity, result.variant, result.variant_note = read_identity(
                client, definition, self.tables)
            self.cancel.raise_if_cancelled()
            # An application names its version; only an ECU that does not is asked the
            # bootloader question, so a healthy scan sends no request more.
            if result.identity.software_version is None and in_bootloader(
                    client, self.definitions.get(name)):
                result.in_bootloader = True
                result.error = IN_BOOTLOADER  # a bootloader keeps no DTCs to read
                return
            step = "DTC read"
            self.events(EcuStep(self.task, name, SCAN_STEPS[1], 2, len(SCAN_STEPS)))
            result.dtcs = client.read_dtcs(self.mask)
            for dtc in result.dtcs:
                dtc.text = self.texts.get(dtc.code, "")
            add_texts(result.dtcs, definition, result.variant)
        except CancelledError:
            raise
        except WorkshopError as exc:
            # Worth a second try: no answer in time, an answer that does not fit the
            # request (e.g. a late answer to the functional TesterPresent of discovery), or
            # a gateway with no room for the message then (fewer ECUs are asked at once).
            job.try_again = isinstance(exc, EcuTimeoutError | InvalidResponseError) or (
                isinstance(exc, DiagnosticNackError) and exc.code == NACK_OUT_OF_MEMORY)
            # An ECU that did not identify itself keeps the full message with its hint.
            result.error = _failure(step, exc) if step == "DTC read" else str(exc)
        finally:
            client.close()

    def run(self, jobs: list[_Job], workers: int, *, first_try: bool,
            last_try: bool) -> None:
        if workers <= 1:
            for job in jobs:
                self.scan_ecu(job, first_try=first_try, last_try=last_try)
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool:
            futures = [pool.submit(self.scan_ecu, job, first_try=first_try,
                                   last_try=last_try) for job in jobs]
            try:
                for f in as_completed(futures):
                    f.result()
            except BaseException:
                # Queued ECUs must not start; running ones stop at their next safe point.
                pool.shutdown(wait=True, cancel_futures=True)
                raise


def _where(target: EcuTarget) -> str:
    """The address the ECU was reached at, as the technician reads it."""
    if target.doip_address is not None:
        return f"DoIP logical address 0x{target.doip_address:04X}"
    return target.address.describe()


def scan_vehicle(endpoint: BusEndpoint | DoipConnection, vehicle: str,
                 targets: list[tuple[EcuTarget, str]], texts: dict[str, str], *,
                 concurrent: bool = True,
                 mask: int = DEFAULT_STATUS_MASK, events: EventSink = ignore_events,
                 cancel: CancelToken | None = None, task: str = "scan",
                 max_workers: int | None = None,
                 definitions: Mapping[str, EcuDefinition] | None = None,
                 descriptions: DataDescriptions = NO_DESCRIPTIONS) -> VehicleScan:
    """Scan `targets` (each with its source label) over the one bus (or the one DoIP
    connection to the vehicle's gateway, each target with its `doip_address`), at most
    `max_workers` ECUs at a time (MAX_SCAN_WORKERS on CAN, MAX_DOIP_SCAN_WORKERS over DoIP
    unless given). Raises CancelledError at the next safe point once `cancel` is set.

    An ECU that timed out (or gave an answer that fits no request) is asked once more
    after the others, RETRY_WORKERS at a time
    (unless not one ECU answered: then the bus is silent, not busy): on a loaded bus, or a
    loaded PC running the simulator, an answer can come late; a really absent ECU costs
    one more P2 timeout. Its EcuFinished event comes after that second try.

    `definitions` (ECU name -> its vehicle definition) tells how each ECU shows that it sits
    in its bootloader; an ECU without one follows the default rule, and which ODX
    description identifies and words it (with the vehicle's `descriptions` first)."""
    run = _ScanRun(endpoint, texts, mask, events, cancel or CancelToken(), task,
                   definitions or {}, descriptions)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    jobs = [_Job(t, EcuScan(t.name, _where(t), source)) for t, source in targets]
    if max_workers is None:
        max_workers = (MAX_DOIP_SCAN_WORKERS if isinstance(endpoint, DoipConnection)
                       else MAX_SCAN_WORKERS)
    workers = max(1, min(len(jobs), max_workers)) if concurrent else 1
    run.run(jobs, workers, first_try=True, last_try=False)
    late = [j for j in jobs if j.try_again]
    if late:
        if any(j.result.responded for j in jobs):
            run.run(late, min(workers, RETRY_WORKERS), first_try=False, last_try=True)
        else:
            for j in late:
                events(EcuFinished(task, j.target.name, ok=False, result=j.result,
                                   error=j.result.error))
    run.cancel.raise_if_cancelled()  # a cancelled scan is not a result, even if all finished
    return VehicleScan(vehicle, started, time.perf_counter() - t0, [j.result for j in jobs],
                       mask)
