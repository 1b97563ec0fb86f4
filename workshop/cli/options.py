"""Turning global CLI options into core objects, and printing helpers."""

from __future__ import annotations

import argparse
import os

from workshop.foundation.errors import ConfigError
from workshop.transport.adapters import AdapterConfig
from workshop.trust.demo import Signer, demo_signer
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


def signer(args: argparse.Namespace) -> Signer:
    """--key/--cert (passphrase $WORKSHOP_KEY_PASSPHRASE), or the per-user demo signer."""
    if (args.key is None) != (args.cert is None):
        raise ConfigError("--key and --cert must be given together",
                          hint="omit both to sign with the demo signer")
    if args.key is None:
        return demo_signer()
    pw = os.environ.get("WORKSHOP_KEY_PASSPHRASE")
    return Signer.load(args.key, args.cert, pw.encode() if pw else None)
