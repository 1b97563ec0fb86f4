"""Values that change with time, for the DIDs a simulated ECU serves live (`sim_live`).

A bench run-up, deterministic from the seconds since the ECU started: the engine revs
between idle and about 3000 rpm every 20 s, the wheels turn with it (a roller test), the
coolant warms from 20 to 90 °C over some minutes, the charging voltage ripples around
14 V. Each value is turned into bytes by the vehicle's description of the DID (size,
scale, offset, signed), so the tester decodes what the simulator meant.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from workshop.vehicles.data_ids import DataDescription, DataDescriptions

REV_PERIOD_S = 20.0


def _rev(t: float) -> float:
    """0 at idle .. 1 at the top of a run-up."""
    return (1 - math.cos(2 * math.pi * t / REV_PERIOD_S)) / 2


def engine_speed(t: float) -> float:  # rpm
    return 780 + 2200 * _rev(t) ** 1.5 + 12 * math.sin(2 * math.pi * t / 0.9)


def vehicle_speed(t: float) -> float:  # km/h
    return max(0.0, (engine_speed(t) - 900) / 40)


def coolant_temperature(t: float) -> float:  # °C
    return 90 - 70 * math.exp(-t / 240) + 0.4 * math.sin(t / 7)


def battery_voltage(t: float) -> float:  # V
    return 13.9 + 0.25 * _rev(t) + 0.04 * math.sin(2 * math.pi * t / 1.7)


def throttle_position(t: float) -> float:  # %
    rising = math.sin(2 * math.pi * t / REV_PERIOD_S)  # opens while the revs climb
    return 4 + 70 * max(0.0, rising) ** 0.8


def engine_load(t: float) -> float:  # %
    return 18 + 0.7 * throttle_position(t)


def intake_air_temperature(t: float) -> float:  # °C
    return 24 + 12 * (1 - math.exp(-t / 300)) + 2 * math.sin(2 * math.pi * t / REV_PERIOD_S)


def air_flow(t: float) -> float:  # g/s
    return 2.5 + engine_speed(t) * engine_load(t) / 4000


SIGNALS: dict[str, Callable[[float], float]] = {
    "engine_speed": engine_speed, "coolant_temperature": coolant_temperature,
    "vehicle_speed": vehicle_speed, "battery_voltage": battery_voltage,
    "throttle_position": throttle_position, "engine_load": engine_load,
    "intake_air_temperature": intake_air_temperature, "air_flow": air_flow,
}


def encode(description: DataDescription, value: float) -> bytes:
    """The bytes that decode to `value` (rounded, held within what the size can carry)."""
    size = description.size
    raw = round((value - description.offset) / (description.scale or 1.0))
    if description.signed:
        low, high = -(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1
    else:
        low, high = 0, (1 << (8 * size)) - 1
    return min(max(raw, low), high).to_bytes(size, "big", signed=description.signed)


LiveDid = Callable[[float], bytes]


def live_dids(sim_live: dict[int, str], descriptions: DataDescriptions) -> dict[int, LiveDid]:
    """DID -> bytes at t seconds; a DID without a size to encode to is served as 2 bytes of
    the value's whole number."""
    out: dict[int, LiveDid] = {}
    for did, name in sim_live.items():
        signal = SIGNALS[name]
        found = descriptions.did(did)
        description = found if found is not None and 1 <= found.size <= 8 else \
            DataDescription(2)
        out[did] = _encoder(signal, description)
    return out


def _encoder(signal: Callable[[float], float], description: DataDescription) -> LiveDid:
    return lambda t: encode(description, signal(t))
