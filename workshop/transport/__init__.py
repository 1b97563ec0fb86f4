"""Transport: CAN adapters (python-can), the simulated wire, ISO-TP links (can-isotp)."""
