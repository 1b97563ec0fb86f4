from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.packages.helpers import write_spec
from workshop.cli import main
from workshop.foundation.paths import resources_dir
from workshop.packages.baseline import compare, load_baseline
from workshop.packages.build import build_manifest
from workshop.packages.errors import PackageSignatureError
from workshop.trust.demo import user_demo_pki
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore

SPEC = resources_dir() / "baselines" / "demo-car-2026.11.toml"


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    out = tmp_path / "b.json"
    assert main(["baseline", "sign", str(SPEC), "--out", str(out)]) == 0
    return out


def test_sign_verify_and_tamper(signed: Path, tmp_path: Path) -> None:
    store = TrustStore.load(user_demo_pki().trust_dir)
    b = load_baseline(signed, store)
    assert b.vehicle_model == "demo-car" and "ENGINE" in b.ecus
    assert b.signer is not None and b.signer.purpose is Purpose.BASELINE
    with pytest.raises(PackageSignatureError, match="not a baseline root"):
        load_baseline(signed, store.without_demo_roots())
    env = json.loads(signed.read_text())
    env["document"] = env["document"].replace("1.1.0", "9.9.9", 1)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(env))
    with pytest.raises(PackageSignatureError, match="signature check failed"):
        load_baseline(bad, store)


def test_valid_from_is_signed_and_read(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.read_text().replace('integration_level = "2026.11"',
                                             'integration_level = "x"\nvalid_from = 2021-03-04'))
    out = tmp_path / "b.baseline"
    assert main(["baseline", "sign", str(spec), "--out", str(out)]) == 0
    b = load_baseline(out, TrustStore.load(user_demo_pki().trust_dir))
    assert b.valid_from == "2021-03-04"
    assert b.effective_from() == dt.datetime(2021, 3, 4, tzinfo=dt.UTC)
    spec.write_text(SPEC.read_text().replace('integration_level = "2026.11"',
                                             'integration_level = "x"\nvalid_from = "soon"'))
    assert main(["baseline", "sign", str(spec), "--out", str(tmp_path / "c.baseline")]) == 4


def test_compare_verdicts(signed: Path, tmp_path: Path) -> None:
    b = load_baseline(signed, TrustStore.load(user_demo_pki().trust_dir))
    manifest, _ = build_manifest(resources_dir() / "packages" / "abs-1.1.0.toml")
    other, _ = build_manifest(write_spec(tmp_path))  # ENGINE, HW1 only
    vehicle = [
        {"name": "ENGINE", "part_number": "DC-ENG-HW-100", "software_version": "1.1.0"},
        {"name": "ABS", "part_number": "DC-ABS-HW-100", "software_version": "1.0.0"},
        {"name": "AIRBAG", "part_number": "DC-AIR-HW-100", "software_version": "1.0.0"},
        {"name": "BODY", "part_number": "XX-BOGUS", "software_version": "1.1.0"},
        {"name": "RADIO", "part_number": "R1", "software_version": "1"},
    ]
    verdicts = {v.ecu: v for v in compare(b, vehicle, [manifest, other])}
    assert verdicts["ENGINE"].verdict == "approved"
    assert verdicts["ABS"].verdict == "outdated"
    assert verdicts["ABS"].package == "demo-car-abs-1.1.0"
    assert verdicts["AIRBAG"].verdict == "unapproved"
    assert verdicts["BODY"].verdict == "unapproved"
    assert verdicts["RADIO"].verdict == "unknown"
    assert {n for n, v in verdicts.items() if v.verdict == "missing"} == {
        "TRANSMISSION", "INSTRUMENT", "GATEWAY"}
