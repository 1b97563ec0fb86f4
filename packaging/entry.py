"""Entry point of the frozen bundle: called as `workshop` it runs the command line, as
`workshop-gui` the desktop app (a windowed executable on Windows, a symlink elsewhere).
One analysis serves both, so the bundle holds each library once."""

import sys
from pathlib import Path


def run() -> int:
    # argv[0], not sys.executable: the latter resolves the symlink to `workshop`
    if Path(sys.argv[0]).stem.lower() == "workshop-gui":
        from ui.app import main as gui

        return gui()
    from workshop.cli import main as cli

    return cli()


if __name__ == "__main__":
    sys.exit(run())
