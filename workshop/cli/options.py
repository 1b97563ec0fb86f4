"""Turning global CLI options into core objects, and printing helpers."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from workshop.foundation.errors import ConfigError
from workshop.foundation.hosts import host_problem
from workshop.foundation.text import printable
from workshop.services.session import check_bus_options
from workshop.transport.adapters import DOIP, SIM_DOIP, AdapterConfig
from workshop.trust.demo import Signer, demo_signer
from workshop.vehicles import VehicleDefinition, load_vehicle
from workshop.vehicles.definition import builtin_vehicles

# Path arguments are checked as argparse converts them: a missing file, a folder where a file
# is expected or a file where a folder is expected is refused in words (ConfigError, exit 4)
# before any work starts, never a traceback half-way through a command.

NOMINAL_BITRATES = (5_000, 1_000_000)  # bit/s: the range of ISO 11898-1 controllers
DATA_BITRATES = (125_000, 12_000_000)  # bit/s: CAN FD data phase


def input_file(what: str) -> Callable[[str], Path]:
    """An existing, readable file (a spec, a package, a certificate...)."""
    def convert(text: str) -> Path:
        path = Path(text).expanduser()
        if not text:
            raise ConfigError(f"{what}: an empty path", hint=f"give the {what}'s path")
        if path.is_dir():
            raise ConfigError(f"{what} {path} is a folder, not a file",
                              hint=f"give the path of the {what} itself")
        if not path.exists():
            raise ConfigError(f"{what} {path} does not exist",
                              hint="check the path (a relative path starts in the current "
                                   "folder)")
        if not os.access(path, os.R_OK):
            raise ConfigError(f"{what} {path} cannot be read: permission denied",
                              hint="check the file's permissions")
        return path
    convert.__name__ = what  # argparse names the type in its own messages
    return convert


def output_file(what: str) -> Callable[[str], Path]:
    """A file to write: not a folder, and its folder (created if missing) not a file."""
    def convert(text: str) -> Path:
        path = Path(text).expanduser()
        if not text:
            raise ConfigError(f"{what}: an empty path", hint=f"give the {what}'s path")
        if path.is_dir():
            raise ConfigError(f"{what} {path} is a folder",
                              hint=f"give a file name for the {what}, e.g. {path / 'out'}")
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise ConfigError(f"{what} {path}: {parent} is a file, not a folder",
                              hint="choose a path in an existing folder")
        return path
    convert.__name__ = what
    return convert


def folder(what: str) -> Callable[[str], Path]:
    """An existing folder (a trust store)."""
    def convert(text: str) -> Path:
        path = Path(text).expanduser()
        if not text:
            raise ConfigError(f"{what}: an empty path", hint=f"give the {what}'s path")
        if not path.exists():
            raise ConfigError(f"{what} {path} does not exist",
                              hint=f"give the path of an existing {what}")
        if not path.is_dir():
            raise ConfigError(f"{what} {path} is a file, not a folder",
                              hint=f"give the folder that holds the {what}")
        return path
    convert.__name__ = what
    return convert


def new_folder(what: str) -> Callable[[str], Path]:
    """A folder to create or fill: anything but an existing file."""
    def convert(text: str) -> Path:
        path = Path(text).expanduser()
        if not text:
            raise ConfigError(f"{what}: an empty path", hint=f"give the {what}'s path")
        clash = next((p for p in (path, *path.parents) if p.exists()), None)
        if clash is not None and not clash.is_dir():
            raise ConfigError(f"{what} {path}: {clash} is a file, not a folder",
                              hint="choose a new or empty folder")
        return path
    convert.__name__ = what
    return convert


def certificate_name(what: str) -> Callable[[str], str]:
    """A name that goes into a certificate (X.509 caps these attributes at 64 characters):
    plain printable text, 1 to 64 characters."""
    def convert(text: str) -> str:
        value = text.strip()
        if not value:
            raise argparse.ArgumentTypeError(f"the {what} is empty")
        if printable(value) != value:
            raise argparse.ArgumentTypeError(
                f"the {what} {printable(value)!r} holds control characters; type plain text")
        if len(value) > 64:
            raise argparse.ArgumentTypeError(
                f"the {what} has {len(value)} characters; a certificate takes at most 64")
        return value
    convert.__name__ = what
    return convert


def count(text: str) -> int:
    """A number of records: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def bitrate(what: str, low: int, high: int) -> Callable[[str], int]:
    """A bitrate in bit/s within what CAN (FD) controllers support."""
    def convert(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number of bit/s (e.g. 500000)") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{value} bit/s is outside {low}..{high} (e.g. 500000)")
        return value
    convert.__name__ = what
    return convert


def _port(text: str, lowest: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (e.g. 13400)"
                                         ) from None
    if not lowest <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not {what}")
    return value


def tcp_port(text: str) -> int:
    """A TCP port number, 1-65535."""
    return _port(text, 1, "a TCP port (1-65535; DoIP: 13400)")


def listen_port(text: str) -> int:
    """A TCP/UDP port to listen on; 0: any free one (said when listening)."""
    return _port(text, 0, "a port (0-65535; 0: any free one)")


def doip_host(text: str) -> str:
    """An IP address or host name (the rule the remembered gateway in settings obeys)."""
    value = text.strip()
    problem = host_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{printable(text)[:80]!r} is not an IP address or "
                                         f"host name ({problem}; e.g. 169.254.10.1)")
    return value


def adapter_config(args: argparse.Namespace, vehicle: VehicleDefinition) -> AdapterConfig:
    check_bus_options(vehicle, args.fd, args.data_bitrate)
    host, port = getattr(args, "host", None), getattr(args, "port", None)
    if args.adapter != DOIP and (host is not None or port is not None):
        raise ConfigError(f"--host and --port are for the doip adapter, not {args.adapter!r}",
                          hint="use --adapter doip --host ADDRESS [--port N]")
    tls = bool(getattr(args, "tls", False))
    if tls and args.adapter not in (DOIP, SIM_DOIP):
        raise ConfigError(f"--tls is for DoIP, not the {args.adapter!r} adapter",
                          hint="use --adapter doip --host ADDRESS --tls, or --adapter "
                               "sim-doip --tls")
    if args.adapter == DOIP and host is None:
        raise ConfigError("the doip adapter needs the gateway's address",
                          hint="give --host (e.g. --host 169.254.10.1) and, if it is not "
                               "13400, --port")
    return AdapterConfig(interface=args.adapter, channel=args.channel,
                         bitrate=args.bitrate or vehicle.bitrate, fd=args.fd or vehicle.fd,
                         data_bitrate=args.data_bitrate or vehicle.data_bitrate,
                         host=host, port=port, tls=tls)


def vehicle(args: argparse.Namespace) -> VehicleDefinition:
    name = str(args.vehicle)
    if os.sep in name or "/" in name:  # a file path: say what is wrong with it in words
        path = Path(name).expanduser()
        known = ", ".join(builtin_vehicles())
        if path.is_dir():
            raise ConfigError(f"vehicle definition {path} is a folder, not a file",
                              hint=f"give a vehicle definition file (.toml) or one of: {known}")
        if not path.exists():
            raise ConfigError(f"vehicle definition file {path} does not exist",
                              hint=f"check the path, or use one of: {known}")
    return load_vehicle(args.vehicle)


def confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    # the question goes to stderr: stdout is the result (--json), which a prompt would corrupt
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def signer(args: argparse.Namespace) -> Signer:
    """--key/--cert (passphrase $WORKSHOP_KEY_PASSPHRASE), or the per-user demo signer."""
    if (args.key is None) != (args.cert is None):
        raise ConfigError("--key and --cert must be given together",
                          hint="omit both to sign with the demo signer")
    if args.key is None:
        return demo_signer()
    pw = os.environ.get("WORKSHOP_KEY_PASSPHRASE")
    return Signer.load(args.key, args.cert, pw.encode() if pw else None)
