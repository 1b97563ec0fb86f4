"""Vehicle scan: find the ECUs, then identify them and read their DTCs concurrently."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
from workshop.transport.router import BusEndpoint
from workshop.uds.client import EcuClient, EcuTarget
from workshop.uds.dtc import DEFAULT_STATUS_MASK
from workshop.uds.dtc_records import Dtc
from workshop.uds.errors import NegativeResponseError
from workshop.uds.identity import EcuIdentity
from workshop.uds.nrc import nrc_name

SCAN_STEPS = ("identify", "read DTCs")
# Each worker holds one ECU client, whose ISO-TP link runs two threads of its own: the bound
# keeps a vehicle of any size to ~100 tester threads, and 32 still scans a 30-ECU truck at once.
MAX_SCAN_WORKERS = 32


@dataclass
class EcuScan:
    name: str
    address: str
    source: str  # "definition", "discovered" or "definition+discovered"
    identity: EcuIdentity = field(default_factory=EcuIdentity)
    dtcs: list[Dtc] = field(default_factory=list)
    error: str | None = None

    @property
    def responded(self) -> bool:
        return self.error is None or bool(self.identity.values or self.identity.failed)

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
                "dtcs": [d.to_json() for d in self.dtcs], "error": self.error}


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

    def to_json(self) -> dict[str, Any]:
        return {"vehicle": self.vehicle, "vin": self.vin,
                "vin_valid": None if self.vin is None else self.vin_problem is None,
                "vin_problem": self.vin_problem, "vin_conflicts": self.vin_conflicts,
                "started": self.started, "duration_s": round(self.duration_s, 3),
                "dtc_status_mask": f"0x{self.status_mask:02X}",
                "ecus": [e.to_json() for e in self.ecus]}


def _failure(step: str, exc: WorkshopError) -> str:
    if isinstance(exc, NegativeResponseError):
        return f"{step} failed: NRC 0x{exc.nrc:02X} {nrc_name(exc.nrc)}"
    return f"{step} failed: {exc.message}"


def scan_ecu(endpoint: BusEndpoint, target: EcuTarget, texts: dict[str, str],
             result: EcuScan, mask: int, events: EventSink, cancel: CancelToken,
             task: str = "scan") -> EcuScan:
    """Identify one ECU and read its DTCs into `result`; publish its result when done."""
    cancel.raise_if_cancelled()
    events(EcuStarted(task, target.name))
    step = "identification"
    try:
        with EcuClient(endpoint, target) as ecu:
            events(EcuStep(task, target.name, SCAN_STEPS[0], 1, len(SCAN_STEPS)))
            result.identity = ecu.read_identity()
            cancel.raise_if_cancelled()
            step = "DTC read"
            events(EcuStep(task, target.name, SCAN_STEPS[1], 2, len(SCAN_STEPS)))
            result.dtcs = ecu.read_dtcs(mask)
            for dtc in result.dtcs:
                dtc.text = texts.get(dtc.code, "")
    except CancelledError:
        raise
    except WorkshopError as exc:
        # An ECU that did not identify itself keeps the full message with its hint.
        result.error = _failure(step, exc) if step == "DTC read" else str(exc)
    events(EcuFinished(task, target.name, ok=result.error is None, result=result,
                       error=result.error))
    return result


def scan_vehicle(endpoint: BusEndpoint, vehicle: str, targets: list[tuple[EcuTarget, str]],
                 texts: dict[str, str], *, concurrent: bool = True,
                 mask: int = DEFAULT_STATUS_MASK, events: EventSink = ignore_events,
                 cancel: CancelToken | None = None, task: str = "scan",
                 max_workers: int = MAX_SCAN_WORKERS) -> VehicleScan:
    """Scan `targets` (each with its source label) over the one bus, at most `max_workers`
    ECUs at a time. Raises CancelledError at the next safe point once `cancel` is set."""
    cancel = cancel or CancelToken()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    results = [EcuScan(t.name, t.address.describe(), source) for t, source in targets]
    jobs = list(zip((t for t, _ in targets), results, strict=True))
    if concurrent and jobs:
        with concurrent_pool(min(len(jobs), max_workers)) as pool:
            futures = [pool.submit(scan_ecu, endpoint, t, texts, r, mask, events, cancel, task)
                       for t, r in jobs]
            try:
                for f in as_completed(futures):
                    f.result()
            except BaseException:
                # Queued ECUs must not start; running ones stop at their next safe point.
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    else:
        for t, r in jobs:
            scan_ecu(endpoint, t, texts, r, mask, events, cancel, task)
    cancel.raise_if_cancelled()  # a cancelled scan is not a result, even if all ECUs finished
    return VehicleScan(vehicle, started, time.perf_counter() - t0, results, mask)


def concurrent_pool(n: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max(1, min(n, MAX_SCAN_WORKERS)),
                                                 thread_name_prefix="scan")
