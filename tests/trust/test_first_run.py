"""B6: processes started together on a fresh home create one demo PKI, whole and shared."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from workshop.cli import main
from workshop.foundation.paths import atomic_write, resources_dir
from workshop.trust import certs
from workshop.trust.chain import verify_chain
from workshop.trust.demo import DEMO_PASSPHRASE, demo_init, demo_signer, user_demo_pki
from workshop.trust.keys import load_key
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore

PROCESSES = 20
REPO = Path(__file__).resolve().parents[2]
# Each child imports everything first, says "ready" and waits for "go", so that all of them
# reach first-run creation at the same moment.
CHILD = """
import sys
from workshop.cli import build_parser, main
build_parser()  # imports every command module now, not after "go"
print("ready", flush=True)
sys.stdin.readline()
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow  # 20 interpreters importing the CLI: about 10 s on 2 idle cores
def test_twenty_processes_on_a_fresh_home_share_one_pki(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "fresh-home"
    env = {**os.environ, "WORKSHOP_HOME": str(home), "PYTHONPATH": str(REPO)}
    spec = resources_dir() / "packages" / "engine-1.1.0.toml"
    packages = [tmp_path / f"p{i}.wspkg" for i in range(PROCESSES)]
    children = [subprocess.Popen([sys.executable, "-c", CHILD, "package", "build", str(spec),
                                  "--out", str(pkg)], env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for pkg in packages]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=90) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    failed = [(c.returncode, err.decode()[-300:]) for c, (_, err) in zip(children, results,
                                                                         strict=True)
              if c.returncode != 0]
    assert not failed, failed
    # One PKI: every package, signed by whichever process, verifies against the one trust
    # store that is left, so all twenty signed under the same root with a matching key.
    monkeypatch.setenv("WORKSHOP_HOME", str(home))
    for pkg in packages:
        assert main(["package", "verify", str(pkg)]) == 0, capsys.readouterr().out
    assert not [p for p in home.rglob("*") if p.name.endswith(".tmp")]
    _assert_one_consistent_pki(home / "pki")


def _public(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _assert_one_consistent_pki(folder: Path) -> None:
    """Every key belongs to its certificate and every certificate to its issuer's key."""
    keys = {p.stem: load_key(p, DEMO_PASSPHRASE) for p in (folder / "keys").glob("*.key")}
    found = {p.stem: certs.load_certs(p)[0] for p in (folder / "certs").glob("*.pem")
             if p.stem in keys}
    assert set(found) == set(keys) and len(keys) >= 5
    by_subject = {c.subject: c for c in found.values()}
    for label, cert in found.items():
        assert _public(cert) == _public(keys[label]), f"{label}: key and certificate differ"
        cert.verify_directly_issued_by(by_subject[cert.issuer])


def test_atomic_write_leaves_no_temporary_file_on_failure(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    target = tmp_path / "f.bin"
    atomic_write(target, b"old")

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_a_demo_pki_of_the_old_layout_is_made_anew(workshop_home: Path) -> None:
    """Layout 1 had its roots at the top of trust/ and no COMPLETE marker."""
    old = user_demo_pki()
    (old.trust_dir / "oem-root.pem").write_bytes(
        (old.trust_dir / "firmware" / "oem-root.pem").read_bytes())
    old.complete_marker.unlink()
    pki = user_demo_pki()
    assert pki.is_complete() and not (pki.trust_dir / "oem-root.pem").exists()
    store = TrustStore.load(pki.trust_dir)
    verify_chain(demo_signer().chain, store, purpose=Purpose.FIRMWARE)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_keys_are_owner_only_and_other_files_follow_the_umask(tmp_path: Path) -> None:
    pki = demo_init(tmp_path / "pki", b"pw")
    assert pki.signer_key.stat().st_mode & 0o077 == 0
    assert pki.signer_chain.stat().st_mode & 0o044 == 0o044 & ~_umask()


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
