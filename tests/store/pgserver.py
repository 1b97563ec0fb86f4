"""A real PostgreSQL server for the store tests: the distribution's binaries, a throwaway
cluster in a temporary folder, started once per test session.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the
distribution's `postgres` account and is started through `runuser`. Authentication is
scram-sha-256 on 127.0.0.1 only, so roles are really checked (a trust setup would let any
role in as any other).

With `tls=True` the server speaks TLS only (`hostssl` lines, no plain `host` line): its
certificate comes from a throwaway test CA (tests/store/tlsca.py), the superuser logs in with
its password over TLS, and every other role with a client certificate from that CA whose CN
is the role name (`cert` authentication), as a dealer group sets it up.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.store.tlsca import ThrowawayCa

SUPERUSER_PASSWORD = "test-superuser-secret"


def find_bindir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    folder: Path
    ctl: list[str]  # pg_ctl -D <data> -w, run as the cluster's account
    ca: ThrowawayCa | None = None  # the TLS server's CA (None: a plain server)

    def restart(self) -> None:
        """Fast restart (clients cut off); -l so the new server does not hold our pipes."""
        subprocess.run([*self.ctl, "-l", str(self.folder / "server.log"), "-m", "fast",
                        "restart"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)

    def dsn(self, user: str = "postgres", password: str = SUPERUSER_PASSWORD,
            dbname: str = "postgres") -> str:
        tls = f" sslmode=verify-full sslrootcert={self.ca.cert_file}" if self.ca else ""
        return (f"host=127.0.0.1 port={self.port} dbname={dbname} user={user} "
                f"password={password}{tls}")


_TLS_HBA = """# TLS only: the superuser by password, other roles by client certificate (CN = role)
hostssl all postgres 127.0.0.1/32 scram-sha-256
hostssl all all 127.0.0.1/32 cert
"""


def _tls_options(folder: Path, account: pwd.struct_passwd | None) -> tuple[ThrowawayCa, str]:
    ca = ThrowawayCa.create(folder / "ca")
    cert, key = ca.issue(folder / "server", "localhost", server=True)
    if account is not None:  # the server refuses a key another account could read
        for path in (folder / "ca", folder / "server", cert, key, ca.cert_file):
            os.chown(path, account.pw_uid, account.pw_gid)
    return ca, (f" -c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key} "
                f"-c ssl_ca_file={ca.cert_file}")


@contextlib.contextmanager
def running_server(*, durable: bool = False, tls: bool = False) -> Iterator[Server]:
    """`durable`: fsync on, as a production server (benchmarks); off for the tests.
    `tls`: TLS only, client certificates for every role but the superuser."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found")
    root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="workshop-pg-"))
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    prefix: list[str] = []
    account = None
    if root:
        # the server's own account owns the cluster; tempdirs are 0700 root otherwise
        account = pwd.getpwnam("postgres")
        for path in (folder, pwfile):
            os.chown(path, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    log = folder / "server.log"
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    opts = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
            f"-c fsync={'on' if durable else 'off'} -c max_connections=60")
    ca = None
    if tls:
        ca, more = _tls_options(folder, account)
        opts += more
        hba = data / "pg_hba.conf"
        hba.write_text(_TLS_HBA)
        if account is not None:
            os.chown(hba, account.pw_uid, account.pw_gid)
    # -w: pg_ctl waits until the server accepts connections (an event, not a sleep)
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o",
                    opts, "-w", "-t", "60", "start"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)
    server = Server(port, folder, [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-w",
                                   "-t", "60"], ca)
    try:
        yield server
    finally:
        subprocess.run([*server.ctl, "-m", "immediate", "stop"], capture_output=True,
                       timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
