"""Where the trust store is, and whether it can be relied on for a real vehicle.

Which store, first found wins: the folder named in Settings; the system store an installer
lays down (not writable by the technician's account); the per-user `<user data>/trust/` of a
checkout or an older installation. Which roots of it serve which action is decided in
services.trust_policy, not here.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from workshop.foundation.paths import user_home
from workshop.foundation.settings import load_settings
from workshop.trust.errors import TrustError

USER_FOLDER = "trust"


class UnsafeTrustStoreError(TrustError):
    """Someone other than the owner (or an administrator) could change the trust store."""


def system_trust_dir() -> Path:
    """The installer's trust store: /etc/workshop/trust, %ProgramData%\\workshop\\trust."""
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "workshop" / "trust"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/workshop/trust")
    return Path("/etc/workshop/trust")


def user_trust_dir() -> Path:
    return user_home() / USER_FOLDER


PULLED_FOLDER = "store-trust"


def pulled_trust_dir() -> Path:
    """CRLs and roots pulled from the central store, each verified against the trust store
    in use before it was written here (workshop.services.pull); added to the store in use."""
    return user_home() / PULLED_FOLDER


def configured_trust_dir() -> Path | None:
    """The trust store in force when no --trust is given (see the module docstring)."""
    chosen = load_settings().trust_dir
    if chosen:
        return Path(chosen)
    for folder in (system_trust_dir(), user_trust_dir()):
        if folder.is_dir():
            return folder
    return None


def check_not_writable_by_others(folder: Path) -> None:
    """Refuse a trust store that another account could change: on POSIX every folder and
    file in it, and the folder holding it, must belong to root or to this user and be
    writable by no group and no one else (one added root certificate would let anyone
    sign firmware). On Windows the installer's ACL on %ProgramData% is relied on."""
    if os.name != "posix":
        return
    uid = os.getuid()
    paths = [folder.resolve()]
    paths.append(paths[0].parent)
    if folder.is_dir():
        paths.extend(sorted(folder.resolve().rglob("*")))
    for path in paths:
        try:
            st = path.lstat()
        except OSError as exc:
            raise UnsafeTrustStoreError(f"cannot inspect the trust store {path}: {exc.strerror}",
                                        hint="check the trust store's permissions") from exc
        writable_by_others = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        sticky_parent = path == paths[1] and st.st_mode & stat.S_ISVTX and st.st_uid == 0
        if st.st_uid not in (0, uid) or (writable_by_others and not sticky_parent):
            raise UnsafeTrustStoreError(
                f"the trust store {folder} can be changed by other accounts: {path} "
                f"(owner uid {st.st_uid}, mode {stat.filemode(st.st_mode)})",
                hint=f"as administrator: chown -R root:root {folder} && "
                     f"chmod -R go-w {folder}; or reinstall, which lays the store down "
                     "read-only")
