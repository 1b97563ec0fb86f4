"""Foundation: errors, events and per-user paths shared by every layer."""
