"""Qt layer over the workshop core; filled by the desktop-app issue."""
