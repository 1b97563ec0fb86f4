"""Use cases shared by the CLI and the GUI: connect, scan, read and clear DTCs."""
