"""Vehicle scan: find the ECUs, then identify them and read their DTCs concurrently."""

from __future__ import annotations

import concurrent.futures
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workshop.foundation.errors import CancelledError, WorkshopError
from workshop.foundation.events import (
    CancelToken,
    Progress,
    ProgressSink,
    ignore_progress,
)
from workshop.transport.router import BusEndpoint
from workshop.uds.client import EcuClient, EcuTarget
from workshop.uds.dtc import DEFAULT_STATUS_MASK
from workshop.uds.dtc_records import Dtc
from workshop.uds.identity import EcuIdentity

SCAN_STEPS = 2  # identify, read DTCs


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
        return self.error is None or bool(self.identity.values)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address, "source": self.source,
                "responded": self.responded, "identification": self.identity.by_name(),
                "software_version": self.identity.software_version,
                "part_number": self.identity.part_number,
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

    def to_json(self) -> dict[str, Any]:
        return {"vehicle": self.vehicle, "vin": self.vin, "vin_conflicts": self.vin_conflicts,
                "started": self.started, "duration_s": round(self.duration_s, 3),
                "dtc_status_mask": f"0x{self.status_mask:02X}",
                "ecus": [e.to_json() for e in self.ecus]}


def scan_ecu(endpoint: BusEndpoint, target: EcuTarget, texts: dict[str, str],
             result: EcuScan, mask: int, progress: ProgressSink, cancel: CancelToken) -> EcuScan:
    try:
        with EcuClient(endpoint, target) as ecu:
            cancel.raise_if_cancelled()
            result.identity = ecu.read_identity()
            progress(Progress("scan", target.name, 1, SCAN_STEPS, "identified"))
            cancel.raise_if_cancelled()
            result.dtcs = ecu.read_dtcs(mask)
            for dtc in result.dtcs:
                dtc.text = texts.get(dtc.code, "")
            progress(Progress("scan", target.name, 2, SCAN_STEPS, f"{len(result.dtcs)} DTCs"))
    except CancelledError:
        raise
    except WorkshopError as exc:
        result.error = str(exc)
        progress(Progress("scan", target.name, SCAN_STEPS, SCAN_STEPS, "failed"))
    return result


def scan_vehicle(endpoint: BusEndpoint, vehicle: str, targets: list[tuple[EcuTarget, str]],
                 texts: dict[str, str], *, concurrent: bool = True,
                 mask: int = DEFAULT_STATUS_MASK, progress: ProgressSink = ignore_progress,
                 cancel: CancelToken | None = None) -> VehicleScan:
    """Scan `targets` (each with its source label), all at once over the one bus."""
    cancel = cancel or CancelToken()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    results = [EcuScan(t.name, t.address.describe(), source) for t, source in targets]
    jobs = list(zip((t for t, _ in targets), results, strict=True))
    if concurrent and jobs:
        with concurrent_pool(len(jobs)) as pool:
            futures = [pool.submit(scan_ecu, endpoint, t, texts, r, mask, progress, cancel)
                       for t, r in jobs]
            for f in futures:
                f.result()
    else:
        for t, r in jobs:
            scan_ecu(endpoint, t, texts, r, mask, progress, cancel)
    return VehicleScan(vehicle, started, time.perf_counter() - t0, results, mask)


def concurrent_pool(n: int) -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=min(n, 64),
                                                 thread_name_prefix="scan")
