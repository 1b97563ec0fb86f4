"""Reflash: the flash plan (pure) and the executor that carries it out over UDS."""
