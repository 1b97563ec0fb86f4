"""Every tampering case, done the way an attacker would: raw SQL on the file or edited export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from workshop.audit import (
    AuditLog,
    AuditSigner,
    AuditTamperedError,
    SignerStatus,
    export_log,
    verify_export,
)
from workshop.audit.records import record_hash, record_signed_bytes

from .conftest import make_signer


def sql(log: AuditLog, stmt: str, *params: object) -> None:
    conn = sqlite3.connect(log.path)
    conn.execute(stmt, params)
    conn.commit()
    conn.close()


def problems(log: AuditLog, signer: AuditSigner) -> list[tuple[int, str]]:
    result = log.check(pinned=[signer.certificate])
    return [(p.seq, p.reason) for p in result.problems]


@pytest.mark.parametrize("column,value", [
    ("vin", "FORGED"), ("technician", "mallory"), ("action", "noop"),
    ("details", '{"i":99}'), ("time", "2000-01-01T00:00:00.000000Z"), ("ecu", None)])
def test_modified_field(filled_log: AuditLog, signer: AuditSigner, column: str,
                        value: object) -> None:
    sql(filled_log, f"UPDATE records SET {column}=? WHERE seq=3", value)
    found = problems(filled_log, signer)
    assert found == [(3, "content does not match its hash (record modified or reordered)")]
    with pytest.raises(AuditTamperedError) as exc:
        filled_log.verify()
    assert exc.value.seq == 3


def test_modified_and_rehashed_is_caught_by_signature(filled_log: AuditLog,
                                                      signer: AuditSigner) -> None:
    rec = next(r for r in filled_log.records() if r.seq == 6)
    content = {**rec.content(), "vin": "FORGED"}
    sql(filled_log, "UPDATE records SET vin='FORGED', hash=? WHERE seq=6", record_hash(content))
    found = problems(filled_log, signer)
    assert found[0][0] == 6 and "signature" in found[0][1]


def test_deleted_row(filled_log: AuditLog, signer: AuditSigner) -> None:
    sql(filled_log, "DELETE FROM records WHERE seq=4")
    found = problems(filled_log, signer)
    assert found[0] == (4, "record missing (deleted): seq 4")


def test_truncated_tail(filled_log: AuditLog, signer: AuditSigner) -> None:
    sql(filled_log, "DELETE FROM records WHERE seq>=5")
    found = problems(filled_log, signer)
    assert found[0][0] == 5 and "truncated tail" in found[0][1]
    assert found[1] == (5, "2 committed record(s) missing after seq 4: the database was rolled "
                           "back or its WAL deleted (the signed head counts 6)")


def test_checkpoint_deleted(filled_log: AuditLog, signer: AuditSigner) -> None:
    sql(filled_log, "DELETE FROM checkpoint")
    assert "checkpoint missing" in problems(filled_log, signer)[0][1]


def test_checkpoint_rolled_back_with_tail(filled_log: AuditLog, signer: AuditSigner) -> None:
    sql(filled_log, "DELETE FROM records WHERE seq=6")
    sql(filled_log, "UPDATE checkpoint SET seq=5, hash=(SELECT hash FROM records WHERE seq=5)")
    found = problems(filled_log, signer)
    assert found[0] == (5, "checkpoint signature invalid")
    assert "1 committed record(s) missing after seq 5" in found[1][1]  # the head outside


def test_inserted_forged_row_at_end(filled_log: AuditLog, signer: AuditSigner) -> None:
    last = filled_log.last(1)[0]
    content = {**last.content(), "seq": 7, "prev_hash": last.hash, "action": "forged"}
    digest = record_hash(content)
    forger = make_signer("ecdsa", cn="ws-test")
    sig = forger.sign(record_signed_bytes(digest))
    sql(filled_log, "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", 7, content["time"],
        content["workstation"], content["technician"], content["vin"], content["ecu"],
        "forged", json.dumps(content["details"]), last.hash, last.signer, digest, sig)
    found = problems(filled_log, signer)
    assert found[0][0] == 7 and "signature" in found[0][1]
    assert any(seq == 7 and "beyond the signed checkpoint" in why for seq, why in found)


def test_inserted_copy_in_middle(filled_log: AuditLog, signer: AuditSigner) -> None:
    for seq in range(6, 2, -1):
        sql(filled_log, "UPDATE records SET seq=? WHERE seq=?", seq + 1, seq)
    sql(filled_log, "INSERT INTO records SELECT 3, time, workstation, technician, vin, ecu, "
        "'forged', details, prev_hash, signer, hash, signature FROM records WHERE seq=2")
    found = problems(filled_log, signer)
    assert found[0] == (3, "content does not match its hash (record modified or reordered)")


def test_swapped_seq(filled_log: AuditLog, signer: AuditSigner) -> None:
    sql(filled_log, "UPDATE records SET seq=-2 WHERE seq=2")
    sql(filled_log, "UPDATE records SET seq=2 WHERE seq=4")
    sql(filled_log, "UPDATE records SET seq=4 WHERE seq=-2")
    found = problems(filled_log, signer)
    assert found[0][0] == 2
    flagged = {s for s, why in found if "modified or reordered" in why}
    assert flagged == {2, 4}


def test_wrong_certificate(filled_log: AuditLog) -> None:
    other = make_signer("ed25519", cn="ws-test")
    found = problems(filled_log, other)
    assert found[0] == (1, "signed by a different workstation certificate than the pinned one")


def test_untrusted_chain(filled_log: AuditLog, signer: AuditSigner) -> None:
    def reject(chain: object) -> SignerStatus:
        raise ValueError("not issued by the workshop CA")
    result = filled_log.check(reject)
    # a self-signed certificate is an identity nobody certified: marked, not failed
    assert result.chain_checked and result.ok
    assert [s.status for s in result.signers.values()] == [SignerStatus.UNCERTIFIED]
    assert result.status_of(3) is SignerStatus.UNCERTIFIED


def test_untrusted_chain_of_issued_certificate(tmp_path: Path) -> None:
    from tests.trust.pki_factory import make_root
    from workshop.trust import certs
    from workshop.trust.keys import generate_key
    rogue = make_root("Rogue CA")
    key = generate_key("p256")
    cert = certs.issue(certs.name("ws-rogue", "Rogue"), key, rogue.cert.subject, rogue.key,
                       ca=False, eku=[certs.CLIENT_AUTH])
    log = AuditLog.open(tmp_path / "a.db", AuditSigner(key, cert))
    log.append("x", vin=None, ecu=None, technician="t")

    def reject(chain: object) -> SignerStatus:
        raise ValueError("not issued by the workshop CA")
    result = log.check(reject)
    assert not result.ok
    assert result.problems[0].seq == 1 and "is not trusted: not issued by the workshop CA" \
        in result.problems[0].reason


def _export(log: AuditLog, signer: AuditSigner, tmp_path: Path) -> tuple[Path, list[str]]:
    out = tmp_path / "export.jsonl"
    assert export_log(log, out) == 6
    return out, out.read_text().splitlines()


def test_export_roundtrip(filled_log: AuditLog, signer: AuditSigner, tmp_path: Path) -> None:
    out, lines = _export(filled_log, signer, tmp_path)
    assert len(lines) == 9  # header, 6 records, checkpoint, head
    assert verify_export(out).ok
    assert verify_export(out, pinned=[signer.certificate],
                         verify_chain_fn=lambda c: SignerStatus.CERTIFIED).chain_checked


@pytest.mark.parametrize("case", ["modify", "delete", "swap", "truncate", "drop_checkpoint",
                                  "duplicate", "garbage"])
def test_export_tampering(filled_log: AuditLog, signer: AuditSigner, tmp_path: Path,
                          case: str) -> None:
    out, lines = _export(filled_log, signer, tmp_path)
    if case == "modify":
        obj = json.loads(lines[3])
        obj["technician"] = "mallory"
        lines[3] = json.dumps(obj)
    elif case == "delete":
        del lines[3]
    elif case == "swap":
        lines[2], lines[3] = lines[3], lines[2]
    elif case == "truncate":
        lines = lines[:5] + lines[-2:]
    elif case == "drop_checkpoint":
        lines = lines[:-3]
    elif case == "duplicate":
        lines.insert(3, lines[3])
    elif case == "garbage":
        lines.insert(4, "{not json")
    out.write_text("\n".join(lines) + "\n")
    result = verify_export(out)
    assert not result.ok
    assert result.problems[0].seq in {2, 3, 4, 5, 6}


def test_export_wrong_certificate(filled_log: AuditLog, signer: AuditSigner,
                                  tmp_path: Path) -> None:
    out, _ = _export(filled_log, signer, tmp_path)
    other = make_signer("ecdsa")
    result = verify_export(out, pinned=[other.certificate])
    assert "different workstation certificate" in result.problems[0].reason


def test_export_cert_replaced(filled_log: AuditLog, signer: AuditSigner, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    out, lines = _export(filled_log, signer, tmp_path)
    other = make_signer("ecdsa", cn="ws-test")
    header = json.loads(lines[0])
    fp = next(iter(header["certificates"]))
    header["certificates"][fp] = other.certificate.public_bytes(
        serialization.Encoding.PEM).decode()
    lines[0] = json.dumps(header)
    out.write_text("\n".join(lines) + "\n")
    result = verify_export(out)
    assert not result.ok and result.problems[0].seq == 1


def test_append_refuses_over_truncated_tail(filled_log: AuditLog, signer: AuditSigner) -> None:
    sql(filled_log, "DELETE FROM records WHERE seq=6")
    with pytest.raises(AuditTamperedError) as exc:
        filled_log.append("x", vin=None, ecu=None, technician="t")
    assert exc.value.seq == 6
    assert "truncated tail" in problems(filled_log, signer)[0][1]  # still detectable


def test_append_refuses_without_checkpoint(filled_log: AuditLog) -> None:
    sql(filled_log, "DELETE FROM checkpoint")
    with pytest.raises(AuditTamperedError):
        filled_log.append("x", vin=None, ecu=None, technician="t")


def test_two_writers_interleave(filled_log: AuditLog, signer: AuditSigner) -> None:
    other = AuditLog.open(filled_log.path, signer)
    for i in range(5):
        filled_log.append("a", vin=None, ecu=None, technician="t", details={"i": i})
        other.append("b", vin=None, ecu=None, technician="t", details={"i": i})
    assert filled_log.verify().records == 16
