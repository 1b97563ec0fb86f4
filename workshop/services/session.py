"""What the app needs to start a session: adapters found here, vehicle definitions shipped,
and an open connection from the technician's choices."""

from __future__ import annotations

from dataclasses import dataclass

from workshop.foundation.errors import ConfigError
from workshop.foundation.paths import resources_dir
from workshop.services.connection import VehicleConnection
from workshop.services.doip_tls import workstation_tls_context
from workshop.services.identity import PassphraseSource, terminal_passphrase
from workshop.transport.adapters import (
    DOIP,
    SIM,
    SIM_DOIP,
    AdapterConfig,
    detect_adapters,
    interface_names,
)
from workshop.transport.doip_discovery import UDP_DISCOVERY, DiscoveredEntity, discover
from workshop.vehicles import VehicleDefinition, load_vehicle


@dataclass(frozen=True)
class AdapterChoice:
    interface: str
    channel: str
    label: str


# Over Ethernet there is nothing to detect on this machine: the gateway is found by
# discovery once the cable is in; both are always offered.
DOIP_CHOICES = (AdapterChoice(SIM_DOIP, "", "Simulated vehicle over DoIP"),
                AdapterChoice(DOIP, "", "Ethernet (DoIP)"))


def available_adapters() -> list[AdapterChoice]:
    """The simulated vehicle first, then what python-can detects on this machine, then the
    DoIP choices."""
    return [*(AdapterChoice(a.interface, a.channel,
                            "Simulated vehicle" if a.interface == SIM
                            else f"{a.interface} {a.channel}") for a in detect_adapters(2.0)),
            *DOIP_CHOICES]


DISCOVERY_WINDOW_S = 2.0


def discover_gateways(host: str | None = None, port: int | None = None,
                      window_s: float = DISCOVERY_WINDOW_S) -> list[DiscoveredEntity]:
    """DoIP gateways that answer a vehicle identification request sent to `host` (loopback
    when none is given; unicast only, nothing is broadcast) on `port` (13400)."""
    return discover(window_s, hosts=(host or "127.0.0.1",), port=port or UDP_DISCOVERY)


# The bitrates a technician picks from (CiA 301 / SAE J2284 standard values), not steps.
BITRATES = (125_000, 250_000, 500_000, 1_000_000)
DATA_BITRATES = (1_000_000, 2_000_000, 4_000_000, 5_000_000, 8_000_000)


def adapter_interfaces() -> list[str]:
    """Every adapter interface that can be named (the simulator first, DoIP last)."""
    return [*interface_names(), SIM_DOIP, DOIP]


def vehicle_names() -> list[str]:
    return sorted(p.stem for p in (resources_dir() / "vehicles").glob("*.toml"))


def uses_fd(definition: VehicleDefinition) -> bool:
    """The vehicle (or one of its ECUs) talks CAN FD, by its definition."""
    return definition.fd or any(e.fd for e in definition.ecus)


def check_bus_options(definition: VehicleDefinition, fd: bool,
                      data_bitrate: int | None) -> None:
    """CAN FD asked of a vehicle that does not use it, or a data bitrate without CAN FD, is
    refused in words: either would change nothing on the bus but the plan's bus model (a
    flash estimated at FD speed on a classic bus), or disturb a classic bus with FD frames."""
    if fd and not uses_fd(definition):
        raise ConfigError(
            f"vehicle {definition.name} does not use CAN FD: its definition gives classic CAN "
            f"at {definition.bitrate} bit/s",
            hint="leave CAN FD off; if this vehicle does use CAN FD, set fd = true and "
                 "data_bitrate in the [bus] table of its definition")
    if data_bitrate is not None and not (fd or uses_fd(definition)):
        raise ConfigError(
            f"a data bitrate ({data_bitrate} bit/s) is the CAN FD data phase's, but CAN FD is "
            "not on",
            hint="turn CAN FD on for a vehicle that uses it, or leave the data bitrate out")


def open_connection(vehicle: str, interface: str = SIM, channel: str | None = None,
                    bitrate: int | None = None, fd: bool = False,
                    data_bitrate: int | None = None, rate_model: bool = False, *,
                    host: str | None = None, port: int | None = None, tls: bool = False,
                    ask: PassphraseSource = terminal_passphrase) -> VehicleConnection:
    """`rate_model`: the simulated bus takes each frame's real on-wire time. `host`, `port`
    and `tls` are the DoIP gateway's (`doip`); `tls` also applies to `sim-doip`. `ask` gives
    the workstation key's passphrase for TLS with a real gateway (the app asks in a
    dialog)."""
    definition = load_vehicle(vehicle)
    check_bus_options(definition, fd, data_bitrate)
    if interface == DOIP and not host:
        raise ConfigError("no address is given for the DoIP gateway",
                          hint="type the gateway's IP address (e.g. 169.254.10.1), or press "
                               "Discover and pick the vehicle")
    adapter = AdapterConfig(interface, channel, bitrate or definition.bitrate,
                            fd or definition.fd, data_bitrate or definition.data_bitrate,
                            rate_model, host=host if interface == DOIP else None,
                            port=port if interface == DOIP else None,
                            tls=tls and interface in (DOIP, SIM_DOIP))
    context = (workstation_tls_context(simulator=False, ask=ask)
               if adapter.tls and interface == DOIP else None)
    return VehicleConnection(adapter, definition, tls_context=context).open()
