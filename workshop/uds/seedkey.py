"""Seed/key algorithms are plugins: the vehicle definition names one per ECU.

`seed_key = "demo-xor"` names an entry point of the `workshop.seedkey` group (an OEM package
registers its algorithms there, as workshop registers its own); `seed_key = "pkg.mod:func"`
names a function directly. Each is `(seed, level) -> key`. There is no default: an ECU with
no algorithm cannot be unlocked.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import cast

from workshop.foundation.errors import ConfigError

GROUP = "workshop.seedkey"
SeedKeyAlgorithm = Callable[[bytes, int], bytes]  # (seed, level) -> key

HOW_TO = ('set seed_key for the ECU in the vehicle definition: the name of a "workshop.seedkey"'
          ' entry point ({names}) or "package.module:function" taking (seed: bytes, level: int)'
          ' and returning the key bytes')


def names() -> list[str]:
    """Algorithms registered in the entry-point group."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def _hint() -> str:
    return HOW_TO.format(names=", ".join(names()) or "none installed")


def algorithm(spec: str | None, ecu: str = "the ECU") -> SeedKeyAlgorithm:
    """The algorithm named `spec` (entry-point name or module:function)."""
    if not spec:
        raise ConfigError(f"{ecu} has no seed/key algorithm configured, so it cannot be "
                          "unlocked", hint=_hint())
    if ":" in spec:
        return _load_function(spec, ecu)
    found = [ep for ep in entry_points(group=GROUP) if ep.name == spec]
    if not found:
        raise ConfigError(f"{ecu}: no seed/key algorithm named {spec!r} is installed",
                          hint=_hint())
    try:
        fn = found[0].load()
    except Exception as exc:  # a broken plugin: any import-time error
        raise ConfigError(f"{ecu}: seed/key plugin {spec!r} ({found[0].value}) failed to load:"
                          f" {exc}", hint="reinstall the package that provides it") from exc
    return _callable(fn, spec, ecu)


def _load_function(spec: str, ecu: str) -> SeedKeyAlgorithm:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or any error while the module runs
        raise ConfigError(f"{ecu}: cannot import seed/key module {module_name!r}: {exc}",
                          hint=_hint()) from exc
    fn: object = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)
        if fn is None:
            raise ConfigError(f"{ecu}: module {module_name!r} has no {attr!r}", hint=_hint())
    return _callable(fn, spec, ecu)


def _callable(fn: object, spec: str, ecu: str) -> SeedKeyAlgorithm:
    if not callable(fn):
        raise ConfigError(f"{ecu}: seed/key algorithm {spec!r} is not a function",
                          hint=_hint())
    return cast(SeedKeyAlgorithm, fn)


def demo_xor(seed: bytes, level: int) -> bytes:
    """Demo algorithm of the simulator: not a secret, only the shape of a real one.
    Registered as entry point "demo-xor" (pyproject.toml)."""
    mask = bytes([0x5A ^ level, 0xC3, 0x3C ^ level, 0xA5])
    rotated = seed[1:] + seed[:1]
    return bytes(b ^ mask[i % 4] for i, b in enumerate(rotated))
