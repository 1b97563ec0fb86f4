"""Adapter configuration, opening a python-can bus by interface name, and detection."""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
from dataclasses import dataclass
from typing import Any

import can

from workshop.transport.busrate import BusRateModel
from workshop.transport.errors import AdapterNotAvailableError
from workshop.transport.simbus import SimulatedBus

SIM = "sim"
SIM_DOIP = "sim-doip"  # the simulated vehicle behind its DoIP gateway on 127.0.0.1
DOIP = "doip"  # any DoIP gateway, at `host` (`port`, else the vehicle definition's)


@dataclass(frozen=True)
class AdapterConfig:
    interface: str = SIM
    channel: str | None = None
    bitrate: int = 500_000
    fd: bool = False
    data_bitrate: int | None = None
    rate_model: bool = False  # sim only: delay frames by their on-wire time
    host: str | None = None  # doip: the gateway's address
    port: int | None = None  # doip: its TCP port
    tls: bool = False  # doip: TLS (ISO 13400-2:2019), port 3496 unless `port` says

    @property
    def is_simulated(self) -> bool:
        return self.interface in (SIM, SIM_DOIP)

    @property
    def is_doip(self) -> bool:
        return self.interface in (SIM_DOIP, DOIP)

    @property
    def sim_channel(self) -> str:
        return self.channel or "workshop-sim"


def interface_names() -> list[str]:
    """Every adapter that can be named: the simulator and all python-can interfaces."""
    return [SIM, *sorted(can.interfaces.VALID_INTERFACES)]


@dataclass(frozen=True)
class InterfaceStatus:
    name: str
    module: str
    loads: bool
    problem: str = ""


def interface_status() -> list[InterfaceStatus]:
    """Whether each python-can interface's module loads here. A module that needs a vendor
    driver or an optional package says which; one missing from a frozen build would fail with
    "No module named 'can.interfaces...'", which is what the packaging test looks for."""
    found = []
    can_log = logging.getLogger("can")
    level = can_log.level
    can_log.setLevel(logging.CRITICAL)  # absent vendor libraries log warnings on import
    try:
        for name, (module, cls) in sorted(can.interfaces.BACKENDS.items()):
            try:
                getattr(importlib.import_module(module), cls)
            except Exception as exc:
                found.append(InterfaceStatus(name, module, False, f"{type(exc).__name__}: "
                                                                  f"{exc}"))
            else:
                driver = missing_driver(name)
                found.append(InterfaceStatus(name, module, driver is None, driver or ""))
    finally:
        can_log.setLevel(level)
    return found


# Interfaces whose python-can module needs a vendor library: what to install, and where.
DRIVERS: dict[str, tuple[str, str]] = {
    "kvaser": ("Kvaser CANlib (libcanlib.so on Linux, canlib32.dll on Windows)",
               "install Kvaser's driver and SDK (kvaser.com/downloads: 'Kvaser Linux Drivers "
               "and SDK' or 'Kvaser Drivers for Windows'), then run 'workshop adapters'"),
    "pcan": ("PEAK PCAN-Basic (libpcanbasic.so on Linux, PCANBasic.dll on Windows)",
             "install PEAK's PCAN-Basic (peak-system.com: 'PCAN-Basic API'; on Linux the "
             "'pcanbasic' package of the PEAK driver), then run 'workshop adapters'"),
    "vector": ("Vector XL Driver Library (vxlapi.dll, Windows only)",
               "install the Vector driver setup and the XL Driver Library (vector.com), "
               "then run 'workshop adapters'"),
    "ixxat": ("IXXAT VCI driver (Windows) or ECI driver (Linux)",
              "install HMS's IXXAT VCI or ECI driver (ixxat.com), then run "
              "'workshop adapters'"),
    "nican": ("NI-CAN driver (nican.dll, Windows only)",
              "install National Instruments' NI-CAN driver, then run 'workshop adapters'"),
    "nixnet": ("NI-XNET driver and the 'nixnet' Python package",
               "install National Instruments' NI-XNET driver and 'pip install nixnet'"),
    "neovi": ("Intrepid Control Systems' libicsneo and the 'python-ics' package",
              "install 'pip install python-ics' and Intrepid's driver"),
    "etas": ("ETAS BOA (Basic Open API, Windows only)",
             "install the ETAS BOA / ECU and Bus Interfaces driver package"),
    "systec": ("SYS TEC USB-CANmodul driver (UCAN, Windows only)",
               "install SYS TEC's USB-CANmodul utility disk driver"),
    "usb2can": ("8devices USB2CAN driver (usb2can.dll and pywin32, Windows only)",
                "install the 8devices USB2CAN driver and 'pip install pywin32'"),
    "gs_usb": ("the 'pyusb' package and libusb", "'pip install pyusb' and install libusb"),
    "canalystii": ("the 'canalystii' package", "'pip install canalystii'"),
    **{name: ("the 'pyserial' package", "'pip install pyserial', then run 'workshop adapters'")
       for name in ("serial", "slcan", "robotell", "seeedstudio")},
}


def missing_driver(interface: str) -> str | None:
    """The vendor library an interface needs but does not find here, when that can be known
    without opening a device (python-can's kvaser module imports without CANlib and then
    fails with NameError on first use)."""
    if interface != "kvaser":
        return None
    try:
        module = importlib.import_module("can.interfaces.kvaser.canlib")
    except Exception:
        return DRIVERS["kvaser"][0]
    return DRIVERS["kvaser"][0] if getattr(module, "__canlib", None) is None else None


def _driver_error(config: AdapterConfig, detail: str) -> AdapterNotAvailableError:
    driver, todo = DRIVERS[config.interface]
    return AdapterNotAvailableError(
        f"adapter {config.interface!r} needs {driver}, which is not installed here"
        + (f" ({detail})" if detail else ""), hint=todo)


def open_bus(config: AdapterConfig) -> can.BusABC:
    """Open the bus, turning driver errors into one clear 'not available' error."""
    if config.is_simulated:
        model = (BusRateModel(config.bitrate, config.data_bitrate)
                 if config.rate_model else None)
        return SimulatedBus(channel=config.sim_channel, rate_model=model, fd=config.fd)
    if config.interface not in can.interfaces.VALID_INTERFACES:
        raise AdapterNotAvailableError(
            f"unknown adapter {config.interface!r}",
            hint="run 'workshop adapters' to list the adapter names")
    kwargs: dict[str, Any] = {"interface": config.interface, "bitrate": config.bitrate}
    if config.channel is not None:
        kwargs["channel"] = config.channel
    if config.fd:
        kwargs.update(fd=True, data_bitrate=config.data_bitrate or config.bitrate)
    if missing_driver(config.interface):
        raise _driver_error(config, "")
    try:
        return can.Bus(**kwargs)
    except (can.CanInterfaceNotImplementedError, ImportError, NameError,
            AttributeError) as exc:
        # the module or its vendor library is missing (a module may import without its
        # library and fail on first use, in its own words)
        if config.interface in DRIVERS:
            raise _driver_error(config, f"{type(exc).__name__}: {exc}") from exc
        raise AdapterNotAvailableError(
            f"cannot open adapter {config.interface!r}: its python-can module failed "
            f"({type(exc).__name__}: {exc})",
            hint="run 'workshop adapters' to see what this interface needs") from exc
    except TypeError as exc:
        if config.channel is None and "channel" in str(exc):
            raise AdapterNotAvailableError(
                f"adapter {config.interface!r} needs a channel",
                hint="give --channel (e.g. can0 for socketcan, PCAN_USBBUS1 for pcan, 0 for "
                     "kvaser); 'workshop adapters' lists what is detected") from exc
        raise AdapterNotAvailableError(
            f"cannot open adapter {config.interface!r} channel {config.channel!r}: {exc}",
            hint="check the adapter options (--channel, --bitrate, --fd)") from exc
    except Exception as exc:  # a vendor driver may raise anything; never a traceback
        if config.interface in DRIVERS and "library not found" in str(exc).lower():
            raise _driver_error(config, str(exc)) from exc
        raise AdapterNotAvailableError(
            f"cannot open adapter {config.interface!r} channel {config.channel!r}: {exc}",
            hint="check that the adapter is plugged in, its driver is installed and the "
                 "channel name is right ('workshop adapters' lists what is detected)") from exc


@dataclass(frozen=True)
class DetectedAdapter:
    interface: str
    channel: str
    details: dict[str, Any]


def detect_adapters(timeout_s: float = 5.0) -> list[DetectedAdapter]:
    """python-can's detection across interfaces, bounded in time (some drivers hang)."""
    found = [DetectedAdapter(SIM, "workshop-sim", {"description": "built-in simulated vehicle"})]
    can_log = logging.getLogger("can")
    level = can_log.level
    can_log.setLevel(logging.CRITICAL)  # each absent vendor driver would log a warning
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(can.detect_available_configs)
    try:
        configs = future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        configs = []
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        can_log.setLevel(level)
    for cfg in configs:
        iface = str(cfg.get("interface"))
        if iface == "virtual":
            continue
        details = {k: v for k, v in cfg.items() if k not in ("interface", "channel")}
        found.append(DetectedAdapter(iface, str(cfg.get("channel")), details))
    return found
