"""`workshop settings show|set`: the same per-user settings the app's Settings dialog edits."""

from __future__ import annotations

import argparse
from dataclasses import asdict, fields, replace
from pathlib import Path

from workshop.foundation.errors import ConfigError
from workshop.foundation.settings import (
    Settings,
    load_settings,
    save_settings,
    setting_from_text,
    settings_path,
)

KEYS = [f.name for f in fields(Settings)]


def register(subparsers: argparse._SubParsersAction) -> None:
    from workshop.cli import add_json_flag

    p = subparsers.add_parser("settings", help="technician, package store, audit and trust "
                              "locations, theme, central store")
    sub = p.add_subparsers(dest="settings_command", required=True, metavar="ACTION")
    s = sub.add_parser("show", help="print the settings and where they are kept")
    add_json_flag(s)
    s.set_defaults(func=_show)
    t = sub.add_parser("set", help="change one setting ('' restores its default)")
    t.add_argument("key", choices=KEYS)
    t.add_argument("value")
    t.set_defaults(func=_set)


def _show(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    values = asdict(load_settings())
    values["store"] = shown_dsn(values["store"])
    values["fleet_store"] = shown_dsn(values["fleet_store"])
    if args.json:
        print_json({"file": str(settings_path()), "settings": values})
        return 0
    print(f"settings file: {settings_path()}")
    for key, value in values.items():
        shown = ("yes" if value else "no") if isinstance(value, bool) else (
            value if value not in ("", None) else "(default)")
        print(f"  {key:18} {shown}")
    return 0


def shown_dsn(dsn: str) -> str:
    """The store's DSN as it may be printed: never its password."""
    if not dsn:
        return dsn
    try:
        from workshop.store.dsn import redact
    except ImportError:  # installed without the store extra: show only that one is set
        return "(set; install workshop[store] to use it)"
    return redact(dsn)


def _set(args: argparse.Namespace) -> int:
    value = args.value
    if args.key.endswith("_dir") and value:
        path = Path(value).expanduser().resolve()
        clash = next((p for p in (path, *path.parents) if p.exists()), None)
        if clash is not None and not clash.is_dir():
            raise ConfigError(f"{args.key} {path}: {clash} is a file, not a folder",
                              hint="choose a folder ('' restores the default)")
        value = str(path)
    if args.key in ("store", "fleet_store") and value:
        try:
            from workshop.store.dsn import parse  # the store extra; checked before it is saved
        except ImportError as exc:
            raise ConfigError("the central store needs the PostgreSQL driver, which this "
                              "installation lacks", hint="pip install 'workshop[store]', then "
                              "set the store again") from exc
        parse(value)
    path = save_settings(replace(load_settings(),
                                 **{args.key: setting_from_text(args.key, value)}))
    print(f"{args.key} saved in {path}")
    if args.key in ("store", "fleet_store") and value and "password" in shown_dsn(value):
        print("note: the connection string holds a password, kept in plain text in the "
              "settings file; a ~/.pgpass entry or a client certificate keeps it out")
    return 0
