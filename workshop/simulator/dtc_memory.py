"""DTC memory of one simulated ECU: status bytes, snapshot and extended data, clearing."""

from __future__ import annotations

from workshop.uds.dtc import DTC_FORMAT_ISO14229_1, parse_dtc_code
from workshop.vehicles import DtcDefinition, EcuDefinition

STATUS_AFTER_CLEAR = 0x50  # testNotCompleted since last clear and this operation cycle
STATUS_REDETECTED = 0x27  # failed now, this cycle, pending, since last clear


class DtcMemory:
    def __init__(self, ecu: EcuDefinition, saved: dict[str, object]) -> None:
        self.format = DTC_FORMAT_ISO14229_1 if ecu.dtc_format is None else ecu.dtc_format
        self.defs: dict[int, DtcDefinition] = {parse_dtc_code(d.code, self.format): d
                                               for d in ecu.dtcs}
        saved_status = saved.get("dtcs", {})
        erased = saved.get("erased", [])
        assert isinstance(saved_status, dict) and isinstance(erased, list)
        self.status = {dtc: int(saved_status.get(f"{dtc:06X}", d.status))
                       for dtc, d in self.defs.items()}
        self.erased: set[int] = {int(x, 16) for x in erased}

    def to_saved(self) -> dict[str, object]:
        return {"dtcs": {f"{k:06X}": v for k, v in self.status.items()},
                "erased": sorted(f"{x:06X}" for x in self.erased)}

    def by_mask(self, mask: int) -> list[tuple[int, int]]:
        return [(dtc, st) for dtc, st in self.status.items() if st & mask]

    def supported(self) -> list[tuple[int, int]]:
        return list(self.status.items())

    def clear(self, group: int) -> bool:
        """Clear all (0xFFFFFF) or one DTC; False when the group is unknown."""
        if group != 0xFFFFFF and group not in self.defs:
            return False
        targets = list(self.defs) if group == 0xFFFFFF else [group]
        for dtc in targets:
            present = self.defs[dtc].present
            self.status[dtc] = STATUS_REDETECTED if present else STATUS_AFTER_CLEAR
            if present:
                self.erased.discard(dtc)
            else:
                self.erased.add(dtc)
        return True

    def snapshot_records(self, dtc: int) -> dict[int, dict[int, bytes]]:
        return {} if dtc in self.erased else self.defs[dtc].snapshots

    def extended_records(self, dtc: int) -> dict[int, bytes]:
        return {} if dtc in self.erased else self.defs[dtc].extended
