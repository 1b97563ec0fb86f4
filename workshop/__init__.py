"""workshop: vehicle diagnostics and ECU reflashing core (Qt-free)."""

__version__ = "0.1.0"
