"""Seed/key algorithms as named plugins: OEM algorithms register here by name."""

from __future__ import annotations

from collections.abc import Callable

from workshop.foundation.errors import ConfigError

SeedKeyAlgorithm = Callable[[bytes, int], bytes]  # (seed, level) -> key

_registry: dict[str, SeedKeyAlgorithm] = {}


def register(name: str) -> Callable[[SeedKeyAlgorithm], SeedKeyAlgorithm]:
    def decorate(fn: SeedKeyAlgorithm) -> SeedKeyAlgorithm:
        _registry[name] = fn
        return fn
    return decorate


def algorithm(name: str) -> SeedKeyAlgorithm:
    try:
        return _registry[name]
    except KeyError:
        raise ConfigError(f"no seed/key algorithm named {name!r}",
                          hint=f"registered algorithms: {', '.join(sorted(_registry))}") from None


def names() -> list[str]:
    return sorted(_registry)


@register("demo-xor")
def demo_xor(seed: bytes, level: int) -> bytes:
    """Demo algorithm of the simulator: not a secret, only the shape of a real one."""
    mask = bytes([0x5A ^ level, 0xC3, 0x3C ^ level, 0xA5])
    rotated = seed[1:] + seed[:1]
    return bytes(b ^ mask[i % 4] for i, b in enumerate(rotated))
