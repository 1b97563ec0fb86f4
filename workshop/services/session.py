"""What the app needs to start a session: adapters found here, vehicle definitions shipped,
and an open connection from the technician's choices."""

from __future__ import annotations

from dataclasses import dataclass

from workshop.foundation.paths import resources_dir
from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import SIM, AdapterConfig, detect_adapters
from workshop.vehicles import load_vehicle


@dataclass(frozen=True)
class AdapterChoice:
    interface: str
    channel: str
    label: str


def available_adapters() -> list[AdapterChoice]:
    """The simulated vehicle first, then what python-can detects on this machine."""
    return [AdapterChoice(a.interface, a.channel,
                          "Simulated vehicle" if a.interface == SIM
                          else f"{a.interface} {a.channel}") for a in detect_adapters(2.0)]


def vehicle_names() -> list[str]:
    return sorted(p.stem for p in (resources_dir() / "vehicles").glob("*.toml"))


def open_connection(vehicle: str, interface: str = SIM, channel: str | None = None,
                    bitrate: int | None = None, fd: bool = False,
                    data_bitrate: int | None = None, rate_model: bool = False
                    ) -> VehicleConnection:
    """`rate_model`: the simulated bus takes each frame's real on-wire time."""
    definition = load_vehicle(vehicle)
    adapter = AdapterConfig(interface, channel, bitrate or definition.bitrate,
                            fd or definition.fd, data_bitrate or definition.data_bitrate,
                            rate_model)
    return VehicleConnection(adapter, definition).open()
