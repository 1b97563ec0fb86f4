"""The technician's settings, one JSON file per user: who works here, where the package store,
the audit log and the trust store are, the app's theme, and the dealer group's central store.

Every layer reads its locations through here, so the CLI and the app agree on them. An empty
value means the default (the OS's per-user data folder). Environment variables that tests and
automation set ($WORKSHOP_TECHNICIAN, --trust) still win over the file.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from workshop.foundation.errors import ConfigError
from workshop.foundation.hosts import host_problem
from workshop.foundation.paths import atomic_write, user_dir, user_home
from workshop.foundation.text import printable

log = logging.getLogger(__name__)
_logged: set[str] = set()
SETTINGS_FILE = "settings.json"
THEMES = ("system", "light", "dark")
_MAX_TEXT = 80
DEFAULT_SYNC_SECONDS = 60
SYNC_SECONDS = (10, 86_400)  # no faster than a busy server likes, at least once a day
_SHORT = ("technician_name", "technician_id", "theme")  # typed names, not paths or DSNs
GATEWAY = ("doip_host", "doip_port", "doip_tls")  # the port a JSON number, TLS true/false
_TRUE, _FALSE = ("true", "yes", "on"), ("false", "no", "off")


@dataclass(frozen=True)
class Settings:
    workshop_name: str = ""  # on the customer report
    technician_name: str = ""
    technician_id: str = ""
    package_dir: str = ""
    audit_dir: str = ""
    trust_dir: str = ""
    theme: str = "system"
    # the central store's libpq connection string (`workshop sync`); "" = no store. Keep the
    # password out of it (~/.pgpass or a client certificate): this file is plain text.
    store: str = ""
    # the connection the Fleet view answers with (an auditor's role reads every workstation's
    # records; a workstation's reads only its own); "" = the store above
    fleet_store: str = ""
    # how often the app syncs with the store in the background, in seconds ("" = 60)
    store_sync_seconds: str = ""
    # the connection panel's last adapter, remembered per user (bitrates as digits)
    adapter_interface: str = ""
    adapter_channel: str = ""
    adapter_bitrate: str = ""
    adapter_data_bitrate: str = ""
    # the last DoIP gateway connected to (never the simulated one, whose port is its own);
    # "" and None: none yet (the panel offers 13400, or 3496 with TLS)
    doip_host: str = ""
    doip_port: int | None = None
    doip_tls: bool = False

    def folder(self, key: str, default: str) -> Path:
        """A configured folder, else the per-user subfolder `default`; created on first use."""
        value = getattr(self, key)
        if not value:
            return user_dir(default)
        path = Path(value)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"the {key.replace('_', ' ')} {path} cannot be created: "
                              f"{exc.strerror}",
                              hint=f"choose another folder in Settings or in {settings_path()}"
                              ) from exc
        return path

    def checked(self) -> Settings:
        """The same settings, or ConfigError saying which value is wrong and why."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in GATEWAY:
                continue
            if not isinstance(value, str):
                raise ConfigError(f"setting {f.name} must be text, not {type(value).__name__}",
                                  hint=f"fix or delete {settings_path()}")
            if printable(value) != value or len(value) > (_MAX_TEXT if f.name in _SHORT
                                                          else 4096):
                raise ConfigError(f"setting {f.name} holds control characters or is too long: "
                                  f"{printable(value)[:_MAX_TEXT]!r}",
                                  hint="type plain text, at most 80 characters")
            if f.name.endswith("_dir") and value and not Path(value).is_absolute():
                raise ConfigError(f"setting {f.name} must be an absolute folder, not {value!r}",
                                  hint="choose the folder with Browse… in Settings")
        if self.store_sync_seconds and not (
                self.store_sync_seconds.isdigit()
                and SYNC_SECONDS[0] <= int(self.store_sync_seconds) <= SYNC_SECONDS[1]):
            raise ConfigError(f"setting store_sync_seconds must be a whole number of seconds "
                              f"from {SYNC_SECONDS[0]} to {SYNC_SECONDS[1]}, not "
                              f"{printable(self.store_sync_seconds)[:_MAX_TEXT]!r}",
                              hint="e.g. 60 ('' restores the default of "
                                   f"{DEFAULT_SYNC_SECONDS} s)")
        if self.theme not in THEMES:
            raise ConfigError(f"setting theme must be one of {', '.join(THEMES)}, "
                              f"not {printable(self.theme)!r}", hint="choose it in Settings")
        for problem in self.gateway_problems().values():
            raise problem
        return self

    def gateway_problems(self) -> dict[str, ConfigError]:
        """What is wrong with the remembered DoIP gateway, per setting: a file from outside
        must not put an absurd address in the connection panel (or in a message)."""
        problems = {}
        host, port = self.doip_host, self.doip_port
        problem = (f"it is {type(host).__name__}, not text" if not isinstance(host, str) else
                   host_problem(host) if host else None)
        if problem:
            problems["doip_host"] = ConfigError(
                f"setting doip_host is not an IP address or host name ({problem}): "
                f"{_shown(host)}", hint="e.g. 169.254.10.1; '' forgets the gateway")
        if port is not None and (type(port) is not int or not 1 <= port <= 65535):
            problems["doip_port"] = ConfigError(
                f"setting doip_port must be a port number from 1 to 65535, not {_shown(port)}",
                hint="e.g. 13400 (3496 with TLS), a number without quotes; null forgets it")
        if type(self.doip_tls) is not bool:
            problems["doip_tls"] = ConfigError(
                f"setting doip_tls must be true or false, not {_shown(self.doip_tls)}",
                hint="true for DoIP over TLS")
        return problems

    @property
    def sync_seconds(self) -> int:
        return int(self.store_sync_seconds or DEFAULT_SYNC_SECONDS)

    @property
    def technician(self) -> str:
        """The technician as audit records name them: "name (id)", either alone, or ""."""
        if self.technician_name and self.technician_id:
            return f"{self.technician_name} ({self.technician_id})"
        return self.technician_name or self.technician_id


def _shown(value: object) -> str:
    """A value from the file as an error message may quote it: escaped, and not too long."""
    text = f"'{printable(value)}'" if isinstance(value, str) else printable(repr(value))
    return text if len(text) <= _MAX_TEXT else f"{text[:_MAX_TEXT]}…"


def setting_from_text(key: str, text: str) -> Any:
    """A value typed on the command line as the setting `key` holds it ("" = its default);
    text that is no such value stays text, for `checked()` to say what is wrong with it."""
    if key == "doip_port":
        digits = text.isascii() and text.isdigit() and len(text) <= 6
        return None if text == "" else int(text) if digits else text
    if key == "doip_tls":
        lowered = text.lower()
        return (False if text == "" or lowered in _FALSE else True if lowered in _TRUE
                else text)
    return text


def settings_path() -> Path:
    return user_home() / SETTINGS_FILE


def load_settings(notes: list[str] | None = None) -> Settings:
    """The saved settings; the defaults when none were saved. A damaged file is an error (a
    silently ignored trust or audit location would put records or trust somewhere else),
    except for a bad remembered DoIP gateway value: that one is its default instead (it only
    costs retyping), said in words on `notes` and in the log."""
    path = settings_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the settings {path}: {exc}",
                          hint="fix its permissions, or delete it to start from the defaults"
                          ) from exc
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        known = {f.name for f in fields(Settings)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown setting {', '.join(map(printable, unknown))}")
        settings = replace(Settings(), **data)
        bad = settings.gateway_problems()
        for problem in bad.values():
            said = f"{problem.message} in {path}: not used"
            if said not in _logged:  # once: every layer loads the settings, some often
                _logged.add(said)
                log.warning("%s", said)
            if notes is not None:
                notes.append(said)
        return replace(settings, **{key: getattr(Settings(), key) for key in bad}).checked()
    except ValueError as exc:
        raise ConfigError(f"the settings {path} are damaged: {exc}",
                          hint="fix the file, or delete it to start from the defaults"
                          ) from exc


def save_settings(settings: Settings) -> Path:
    """Check, then write atomically: a crash leaves the old or the new file, never half."""
    path = settings_path()
    # owner-only once it names a store: its connection string may hold a password
    atomic_write(path, (json.dumps(asdict(settings.checked()), indent=2) + "\n").encode(),
                 private=bool(settings.store or settings.fleet_store))
    return path
