"""Live data use case: which DIDs the technician meant (hex or names from the ECU's
descriptions), and a reader over the open connection (`watch`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from workshop.diagnostics.live import LiveReader, LiveSummary, Signal
from workshop.foundation.errors import ConfigError
from workshop.foundation.events import CancelToken, EventSink, ignore_events
from workshop.foundation.text import printable
from workshop.services.connection import VehicleConnection
from workshop.vehicles import VehicleDefinition
from workshop.vehicles.ecu_descriptions import ecu_descriptions

_HEX = re.compile(r"^(?:0x)?([0-9a-f]{1,4})$", re.IGNORECASE)


def _key(name: str) -> str:
    return " ".join(re.split(r"[\s_-]+", name.strip().lower()))


def signals(vehicle: VehicleDefinition, ecu: str) -> list[Signal]:
    """The ECU's described DIDs with names, for a technician to choose from."""
    table = ecu_descriptions(vehicle, ecu)
    return [Signal(did, d) for did, d in sorted(table.dids.items()) if d.name and d.size]


def resolve_dids(vehicle: VehicleDefinition, ecu: str, wanted: Sequence[str]) -> list[int]:
    """DIDs from hex (`F40C`, `0xF40C`) or names of the ECU's descriptions (any case, `_`,
    `-` or space between words); ConfigError naming what is not understood."""
    table = ecu_descriptions(vehicle, ecu)
    by_name: dict[str, list[int]] = {}
    for did, d in table.dids.items():
        if d.name:
            by_name.setdefault(_key(d.name), []).append(did)
    out: list[int] = []
    for text in wanted:
        found = by_name.get(_key(text), [])
        if len(found) > 1:
            raise ConfigError(f"{printable(text)!r} names several DIDs "
                              f"({', '.join(f'{d:04X}' for d in sorted(found))})",
                              hint="give the DID in hex")
        if found:
            out.append(found[0])
            continue
        match = _HEX.match(text.strip())
        if match:
            out.append(int(match.group(1), 16))
            continue
        known = ", ".join(f"{s.did:04X} {s.name}" for s in signals(vehicle, ecu)[:12])
        raise ConfigError(f"{printable(text)[:60]!r} is neither a DID in hex nor the name of "
                          f"a described DID of {ecu}",
                          hint=f"give a DID like F40C or 0xF40C, or one of: {known or 'none'}")
    if not out:
        raise ConfigError("no DID given", hint="name at least one DID, e.g. F40C")
    return list(dict.fromkeys(out))


def watch(conn: VehicleConnection, ecu: str, dids: Sequence[int], *, period_s: float = 0.0,
          count: int | None = None, duration_s: float | None = None,
          events: EventSink = ignore_events, cancel: CancelToken | None = None) -> LiveSummary:
    """Read `dids` of `ecu` until `count` cycles, `duration_s` or the cancel; every value,
    refusal and timeout goes to `events` (diagnostics.live)."""
    name = conn.vehicle.ecu(ecu).name
    with conn.client(name) as client:
        return LiveReader(client, dids, ecu_descriptions(conn.vehicle, name),
                          period_s=period_s, count=count, duration_s=duration_s,
                          events=events, cancel=cancel).run()
