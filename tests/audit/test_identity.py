"""B3: each installation has its own workstation identity; demo keys sign simulator actions only;
trust in a record comes from its signer's chain, never from the verifying command's adapter."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.identity_helpers import dealer_root, dealer_store, sign_csr
from tests.conftest import open_vehicle
from workshop.audit import AuditLog, default_log_path, load_installation
from workshop.audit.installation import KEY_FILE
from workshop.cli import main
from workshop.foundation.paths import user_home
from workshop.services import diagnose
from workshop.services.audit_trail import open_audit_log
from workshop.trust.demo import DEMO_PASSPHRASE, user_demo_pki
from workshop.trust.keys import load_key

PASS = "correct horse battery"


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WORKSHOP_AUDIT_PASSPHRASE", PASS)
    return PASS


def _records() -> list[dict[str, object]]:
    with AuditLog.open(default_log_path(), None) as log:
        return [r.to_json() for r in log.records()]


def test_real_adapter_action_refuses_without_identity(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    code = main(["--adapter", "virtual", "--channel", f"t-{uuid.uuid4()}", "dtc", "clear",
                 "--ecu", "ENGINE", "--yes"])
    err = capsys.readouterr().err
    assert code == 4
    assert "no workstation identity" in err and "workshop identity init" in err
    assert not default_log_path().exists()  # nothing was recorded, so nothing ran


def test_identity_needs_a_passphrase_when_there_is_no_credential_store(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # headless Linux: keyring has no usable backend; stdin is not a terminal under pytest
    monkeypatch.delenv("WORKSHOP_AUDIT_PASSPHRASE", raising=False)
    assert main(["identity", "init"]) == 4
    assert "WORKSHOP_AUDIT_PASSPHRASE" in capsys.readouterr().err
    assert load_installation() is None
    monkeypatch.setenv("WORKSHOP_AUDIT_PASSPHRASE", "short")
    assert main(["identity", "init"]) == 4
    monkeypatch.setenv("WORKSHOP_AUDIT_PASSPHRASE", PASS)
    assert main(["identity", "init", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["protection"] == "passphrase"
    assert shown["status"] == "signed, identity not certified"
    key_file = default_log_path().parent / KEY_FILE
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    with pytest.raises(Exception, match="wrong passphrase"):
        load_key(key_file, DEMO_PASSPHRASE)  # never the documented demo passphrase
    load_key(key_file, PASS.encode())
    assert main(["identity", "init"]) == 4  # one identity; replacing it is explicit (--rotate)


class _MemoryKeyring:
    """An OS credential store stand-in (the real ones need a desktop session)."""

    priority = 10

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, user: str, secret: str) -> None:
        self.secrets[service, user] = secret

    def get_password(self, service: str, user: str) -> str | None:
        return self.secrets.get((service, user))


@pytest.fixture
def os_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[_MemoryKeyring]:
    import keyring
    store = _MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: store)
    yield store


def test_identity_in_os_credential_store(os_keyring: _MemoryKeyring,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("WORKSHOP_AUDIT_PASSPHRASE", raising=False)
    assert main(["identity", "init", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["protection"] == "keyring"
    (secret,) = os_keyring.secrets.values()
    load_key(default_log_path().parent / KEY_FILE, secret.encode())
    with open_audit_log(simulated=False) as log:  # unlocked without any passphrase
        rec = log.append("x", vin=None, ecu=None, technician="t")
    identity = load_installation()
    assert identity is not None and rec.signer == identity.fingerprint
    os_keyring.secrets.clear()
    with pytest.raises(Exception, match="not in the OS credential store"):
        open_audit_log(simulated=False)


def test_real_action_signed_by_installation_and_marked_not_certified(
        passphrase: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identity", "init", "--name", "bench-7"]) == 0
    identity = load_installation()
    assert identity is not None
    conn = open_vehicle("demo-car")
    try:
        # what `dtc clear` does on a real adapter: the installation's identity signs
        with open_audit_log(simulated=False) as log:
            diagnose.clear_ecu(conn, "ENGINE", log)
    finally:
        conn.close()
    recs = _records()
    assert [r["action"] for r in recs] == ["identity.created", "dtc.clear", "dtc.clear"]
    assert [r["signer"] for r in recs] == [identity.fingerprint] * 3
    assert {r["workstation"] for r in recs} == {"bench-7"}
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "bench-7" in out
    assert "signed, identity not certified (self-signed, no certificate from the dealer CA): " \
           "3 record(s)" in out
    assert main(["audit", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {r["signer_status"] for r in shown} == {"signed, identity not certified"}


def test_simulator_action_signed_by_demo_identity_whatever_verify_adapter(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dtc", "clear", "--ecu", "ENGINE", "--yes"]) == 0
    capsys.readouterr()
    outputs = []
    for adapter in ([], ["--adapter", "virtual"], ["--adapter", "socketcan"]):
        assert main([*adapter, "audit", "verify", "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] == outputs[2]
    (signer,) = outputs[0]["signers"]
    assert signer["status"] == "simulator (demo identity)" and signer["records"] == 2
    assert main(["--adapter", "virtual", "audit", "verify"]) == 0
    assert "simulator (demo identity): 2 record(s)" in capsys.readouterr().out


def test_simulator_action_uses_installation_identity_once_there_is_one(passphrase: str
                                                                       ) -> None:
    assert main(["identity", "init"]) == 0
    identity = load_installation()
    assert identity is not None
    with open_audit_log(simulated=True) as log:
        assert log.signer is not None and log.signer.fingerprint == identity.fingerprint


def test_csr_out_certificate_in(passphrase: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    root = dealer_root()
    trust = dealer_store(tmp_path / "trust", root)
    assert main(["identity", "init", "--name", "bench-9"]) == 0
    with open_audit_log(simulated=False) as log:
        log.append("before", vin=None, ecu=None, technician="t")
    csr = tmp_path / "ws.csr"
    assert main(["identity", "csr", "--out", str(csr), "--org", "Garage"]) == 0
    issued = tmp_path / "ws.pem"
    issued.write_bytes(sign_csr(csr.read_bytes(), root))

    # refused: another key's certificate, an unknown dealer, the demo dealer root
    other = tmp_path / "other.pem"
    other.write_bytes(sign_csr(_foreign_csr(), root))
    capsys.readouterr()
    assert main(["identity", "import-cert", str(other), "--trust", str(trust)]) == 4
    assert "not for this workstation's key" in capsys.readouterr().err
    assert main(["identity", "import-cert", str(issued), "--trust",
                 str(dealer_store(tmp_path / "elsewhere", dealer_root("Other")))]) == 4
    assert "does not chain" in capsys.readouterr().err
    demo = tmp_path / "demo.pem"
    demo.write_bytes(sign_csr(csr.read_bytes(), _demo_dealer()))
    assert main(["identity", "import-cert", str(demo), "--trust",
                 str(user_demo_pki().trust_dir)]) == 4
    assert "demo dealer root" in capsys.readouterr().err

    assert main(["identity", "import-cert", str(issued), "--trust", str(trust)]) == 0
    assert "certificate imported" in capsys.readouterr().out
    assert main(["identity", "show", "--trust", str(trust), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "certified"
    with open_audit_log(simulated=False) as log:
        log.append("after", vin=None, ecu=None, technician="t")
    assert main(["audit", "verify", "--trust", str(trust), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [(s["workstation"], s["status"], s["records"]) for s in result["signers"]] == [
        ("bench-9", "signed, identity not certified", 2), ("bench-9", "certified", 1)]


def _foreign_csr() -> bytes:
    from workshop.audit import AuditSigner
    from workshop.audit.installation import _self_signed, make_csr
    from workshop.trust.keys import generate_key
    key = generate_key("p256")
    return make_csr(AuditSigner(key, _self_signed(key, "intruder")))


def _demo_dealer():  # type: ignore[no-untyped-def]
    from tests.trust.pki_factory import CA
    from workshop.trust.certs import load_certs
    pki = user_demo_pki()
    key = load_key(pki.folder / "keys" / "dealer-root.key", DEMO_PASSPHRASE)
    return CA(load_certs(pki.folder / "certs" / "dealer-root.pem")[0], key)


def test_identity_show_without_identity(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identity", "show"]) == 1
    assert "workshop identity init" in capsys.readouterr().out
    assert not (user_home() / "audit" / KEY_FILE).exists()



def test_identity_created_after_simulator_records_takes_over_the_head(
        passphrase: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dtc", "clear", "--ecu", "ENGINE", "--yes"]) == 0  # demo-signed
    assert main(["identity", "init"]) == 0  # its first record moves the signed head
    capsys.readouterr()
    assert main(["audit", "verify", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [(s["status"], s["records"]) for s in result["signers"]] == [
        ("simulator (demo identity)", 2), ("signed, identity not certified", 1)]
    assert main(["identity", "init", "--rotate", "--json"]) == 0
    rotated = json.loads(capsys.readouterr().out)
    assert main(["audit", "verify", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["signers"]) == 3 and result["records"] == 4
    last = _records()[-1]
    assert last["action"] == "identity.rotated"
    assert last["details"]["certificate"] == rotated["fingerprint"]
