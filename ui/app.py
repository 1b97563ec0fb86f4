"""`workshop-gui`: the desktop app, opening on the simulated demo-car."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workshop-gui")
    parser.add_argument("--vehicle", default="demo-car")
    parser.add_argument("--channel", default=None, help="simulated bus channel")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logs, protocol libraries included, on stderr")
    parser.add_argument("--log-file", type=Path, help="also write every log record here")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window offscreen, connect, scan, exit 0 if every ECU "
                             "answered")
    args = parser.parse_args(argv)
    from workshop.foundation import logs

    try:  # library records (udsoncan's NRC warnings...) never reach the terminal by default
        logs.configure(args.verbose, args.log_file)
    except OSError as exc:
        print(f"error: cannot write the log file {args.log_file}: {exc.strerror}",
              file=sys.stderr)
        return 4
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ui import system_libraries

    advice = system_libraries.check()  # before Qt loads: without them Qt aborts (exit 134)
    if advice is not None:
        print(advice, file=sys.stderr)
        return 4
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow
    from ui.theme import apply_theme, follow_os
    from workshop.foundation.errors import ConfigError
    from workshop.foundation.settings import Settings, load_settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    try:
        settings, problem = load_settings(), None
    except ConfigError as exc:  # the app still opens, and says what to fix
        settings, problem = Settings(), exc

    def theme_now() -> str:
        try:
            return load_settings().theme
        except ConfigError:
            return "system"

    from PySide6.QtGui import QIcon

    from workshop.foundation.paths import resources_dir

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "workshop.png")))
    apply_theme(app, settings.theme)
    follow_os(app, theme_now)
    window = MainWindow(args.vehicle, args.channel)
    if problem is not None:
        window.show_error(problem.message, problem.hint or "")
    window.show()
    if args.self_test:
        return self_test(app, window)  # type: ignore[arg-type]
    window.panel.toggle()  # opens on the simulated vehicle: a newcomer sees it work at once
    window.session.connected.connect(lambda _c: window.session.start_scan())
    return int(app.exec())


def self_test(app: object, window: object) -> int:
    from PySide6.QtCore import QTimer

    from ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    outcome = {"code": 1}

    def step(text: str) -> None:
        print(f"self-test: {text}", flush=True)

    def connected(conn: object) -> None:
        step("connected; scanning")
        window.session.start_scan()

    def scanned(scan: object) -> None:
        answered = [e for e in scan.ecus if e.responded]  # type: ignore[attr-defined]
        step(f"scan done: {len(answered)} of {len(scan.ecus)} ECUs answered")  # type: ignore[attr-defined]
        outcome["code"] = 0 if len(answered) == len(scan.ecus) else 1  # type: ignore[attr-defined]
        window.close()

    def failed(what: str, hint: str) -> None:
        step(f"failed: {what} ({hint})")
        window.close()

    window.session.connected.connect(connected)
    window.session.scan_done.connect(scanned)
    window.session.error.connect(failed)
    step("window open")
    QTimer.singleShot(0, window.panel.toggle)
    app.exec()  # type: ignore[attr-defined]
    return outcome["code"]


if __name__ == "__main__":
    raise SystemExit(main())
