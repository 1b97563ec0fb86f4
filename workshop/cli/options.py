"""Turning global CLI options into core objects, and printing helpers."""

from __future__ import annotations

import argparse

from workshop.transport.adapters import AdapterConfig
from workshop.vehicles import VehicleDefinition, load_vehicle


def adapter_config(args: argparse.Namespace, vehicle: VehicleDefinition) -> AdapterConfig:
    return AdapterConfig(interface=args.adapter, channel=args.channel,
                         bitrate=args.bitrate or vehicle.bitrate, fd=args.fd or vehicle.fd,
                         data_bitrate=args.data_bitrate or vehicle.data_bitrate)


def vehicle(args: argparse.Namespace) -> VehicleDefinition:
    return load_vehicle(args.vehicle)


def confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False
