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


@dataclass(frozen=True)
class AdapterConfig:
    interface: str = SIM
    channel: str | None = None
    bitrate: int = 500_000
    fd: bool = False
    data_bitrate: int | None = None
    rate_model: bool = False  # sim only: delay frames by their on-wire time

    @property
    def is_simulated(self) -> bool:
        return self.interface == SIM

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
                found.append(InterfaceStatus(name, module, True))
    finally:
        can_log.setLevel(level)
    return found


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
    try:
        return can.Bus(**kwargs)
    except (can.CanError, ImportError, OSError, ValueError, NotImplementedError) as exc:
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
