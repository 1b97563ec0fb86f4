"""What the flash layer needs from a vehicle connection (services.connection provides it)."""

from __future__ import annotations

from typing import Protocol

from workshop.uds.client import EcuClient


class FlashBus(Protocol):
    def client(self, ecu_name: str) -> EcuClient: ...

    # Functional requests the executor sends suppress their answers; it reads none.
    def functional(self, payload: bytes, window_s: float = ..., *,
                   until_listed_answered: bool = ...) -> object: ...
