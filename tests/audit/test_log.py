from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from workshop.audit import (
    AuditError,
    AuditLog,
    AuditSigner,
    AuditTamperedError,
    SignerStatus,
    demo_identity,
    intent_and_outcome,
    workstation_chain_verifier,
)
from workshop.foundation.paths import user_home


def test_append_chains_and_verifies(filled_log: AuditLog, signer: AuditSigner) -> None:
    recs = list(filled_log.records())
    assert [r.seq for r in recs] == [1, 2, 3, 4, 5, 6]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(recs))
    result = filled_log.verify()
    assert result.ok and result.records == 6 and result.checkpoint_seq == 6


def test_empty_log_verifies(tmp_path: Path, signer: AuditSigner) -> None:
    log = AuditLog.open(tmp_path / "a.db", signer)
    assert log.verify().records == 0


def test_reopen_continues_chain(tmp_path: Path, signer: AuditSigner) -> None:
    with AuditLog.open(tmp_path / "a.db", signer) as log:
        log.append("x", vin=None, ecu=None, technician="t")
    with AuditLog.open(tmp_path / "a.db", signer) as log:
        assert log.append("y", vin=None, ecu=None, technician="t").seq == 2
        assert log.verify().ok


def test_rejects_non_json_details(filled_log: AuditLog) -> None:
    with pytest.raises(AuditError):
        filled_log.append("x", vin=None, ecu=None, technician="t", details={"b": object()})


def test_read_only_cannot_append(filled_log: AuditLog) -> None:
    ro = AuditLog.open(filled_log.path, None)
    with pytest.raises(AuditError):
        ro.append("x", vin=None, ecu=None, technician="t")


def test_intent_and_outcome_success(filled_log: AuditLog, signer: AuditSigner) -> None:
    with intent_and_outcome(filled_log, "clear_dtc", vin="V", ecu="ECM", technician="bob",
                            details={"group": "all"}) as intent:
        assert filled_log.last(1)[0].details["phase"] == "intent"
        intent.result["cleared"] = 3
    intent_rec, outcome = filled_log.last(2)
    assert intent_rec.details == {"phase": "intent", "request": {"group": "all"}}
    assert outcome.details["outcome"] == "success"
    assert outcome.details["intent_seq"] == intent_rec.seq
    assert outcome.details["result"] == {"cleared": 3}
    assert filled_log.verify().ok


def test_intent_and_outcome_failure(filled_log: AuditLog) -> None:
    with pytest.raises(RuntimeError), intent_and_outcome(
            filled_log, "clear_dtc", vin="V", ecu="ECM", technician="bob"):
        raise RuntimeError("negative response 0x22")
    outcome = filled_log.last(1)[0]
    assert outcome.details["outcome"] == "failure"
    assert "negative response 0x22" in outcome.details["error"]


def test_intent_not_written_means_body_not_run(filled_log: AuditLog) -> None:
    ran = []
    ro = AuditLog.open(filled_log.path, None)
    with pytest.raises(AuditError), intent_and_outcome(ro, "clear_dtc", vin="V", ecu="E",
                                                       technician="t"):
        ran.append(1)
    assert not ran


def test_demo_identity_created_once_and_labelled_simulator() -> None:
    a = demo_identity()
    b = demo_identity()
    assert a.certificate == b.certificate and a.workstation.startswith("workstation-")
    key_file = user_home() / "pki" / "keys" / "workstation.key"
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    # issued by the demo dealer root: it chains, and only ever as the simulator's identity
    assert workstation_chain_verifier(None)([a.certificate]) is SignerStatus.DEMO


def test_tampered_error_carries_seq() -> None:
    err = AuditTamperedError(7, "bad")
    assert err.seq == 7 and err.reason == "bad" and "seq 7" in str(err)


def test_earlier_format_log_is_refused_clearly(tmp_path: Path, signer: AuditSigner) -> None:
    import sqlite3
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE records (seq INTEGER PRIMARY KEY, time TEXT, workstation "
                     "TEXT, technician TEXT, vin TEXT, ecu TEXT, action TEXT, details TEXT, "
                     "prev_hash TEXT, hash TEXT, signature TEXT)")
    with pytest.raises(AuditError, match="earlier format") as exc:
        AuditLog.open(path, signer)
    assert exc.value.hint and "move the file aside" in exc.value.hint
