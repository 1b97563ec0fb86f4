"""What a flash did to each ECU, told as it is: the outcome is the ECU's real state."""

from __future__ import annotations

from dataclasses import dataclass, field

OUTCOMES = ("success", "rolled_back", "failed", "resumable", "refused")
# Worst first: the exit code follows the worst ECU.
SEVERITY = {"success": 0, "rolled_back": 1, "refused": 2, "failed": 3, "resumable": 4}


@dataclass
class EcuOutcome:
    ecu: str
    outcome: str
    version_before: str | None
    version_after: str | None  # what the ECU reports at the end (None: it did not say)
    mode: str
    wire_bytes: int = 0
    image_bytes: int = 0
    duration_s: float = 0.0
    detail: str = ""
    failed_step: str | None = None
    dtcs_cleared: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"ecu": self.ecu, "outcome": self.outcome, "version_before": self.version_before,
                "version_after": self.version_after, "mode": self.mode,
                "bytes_on_bus": self.wire_bytes, "image_bytes": self.image_bytes,
                "duration_s": round(self.duration_s, 2), "detail": self.detail,
                "failed_step": self.failed_step, "dtcs_cleared": self.dtcs_cleared}


@dataclass
class FlashResult:
    package: str
    ecus: list[EcuOutcome]
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.ecus) and all(e.outcome == "success" for e in self.ecus)

    @property
    def worst(self) -> str:
        return max((e.outcome for e in self.ecus), key=SEVERITY.__getitem__, default="refused")

    def to_json(self) -> dict[str, object]:
        return {"package": self.package, "ok": self.ok, "duration_s": round(self.duration_s, 2),
                "ecus": [e.to_json() for e in self.ecus]}
