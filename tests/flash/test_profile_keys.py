"""Every flash profile key is obeyed: the request bytes on the bus come from the profile,
and a key or value the executor cannot use is refused when the definition loads, naming
the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import open_vehicle
from tests.flash.bus_tap import RequestTap
from tests.flash.test_profiles import spec
from workshop.flash import codec
from workshop.flash.preflight import read_state
from workshop.foundation.errors import ConfigError
from workshop.packages.manifest import Region
from workshop.services.flash import prepare_flash, run_flash
from workshop.vehicles import load_vehicle

DEMO = Path(__file__).resolve().parents[2] / "resources" / "vehicles" / "demo-car.toml"


def retrofit(flash: str, sim_seed_key: str = "demo-xor") -> str:
    """An ECU with no seed/key of its own: the profile's `seed_key` is the only one."""
    return f"""
[[ecus]]
name = "RETROFIT"
request_id = 0x7E7
response_id = 0x7EF
sim_seed_key = "{sim_seed_key}"

[[ecus.memory]]
start = 0x00400000
length = 0x10000

[ecus.flash]
banks = "single"
rollback = false
seed_key = "demo-xor"
{flash}

[ecus.identification]
F189 = "7.0.0"
F191 = "RETRO-HW-1"
"""


def flash_retrofit(tmp_path: Path, flash: str, sim_seed_key: str = "demo-xor",
                   before_run=None):  # type: ignore[no-untyped-def]
    vehicle = tmp_path / "demo-car.toml"
    vehicle.write_text(DEMO.read_text() + retrofit(flash, sim_seed_key))
    pkg = spec(tmp_path, "RETROFIT", 0x7E7, "RETRO-HW-1", 0x00400000, "7.0.0", "7.1.0")
    conn = open_vehicle(vehicle)
    tap = RequestTap(conn, 0x7E7)
    try:
        prep = prepare_flash(conn, pkg, overrides={"baseline": "test", "rollback": "test"})
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        if before_run is not None:
            before_run(conn)
        result = run_flash(conn, prep)
    finally:
        tap.close()
        conn.close()
    return result.ecus[0], tap.sequence()


def test_profile_seed_key_reset_type_and_dependency_args(tmp_path: Path) -> None:
    o, seq = flash_retrofit(tmp_path, 'reset_type = 0x03\n'
                            'check_dependencies = { id = 0xFF01, args = ["hex:A5C3"] }')
    assert o.outcome == "success", o.detail  # the key came from the profile's algorithm
    assert b"\x31\x01\xff\x01\xa5\xc3" in seq
    assert b"\x11\x03" in seq and b"\x11\x01" not in seq


def test_profile_session_ids_are_sent(tmp_path: Path) -> None:
    """The generic simulated ECU has no session 0x60: the refusal proves 10 60 was sent."""
    o, seq = flash_retrofit(tmp_path, "programming_session = 0x60")
    assert o.outcome != "success"
    assert b"\x10\x60" in seq and b"\x10\x02" not in seq


def test_exceeded_attempts_stop_in_words(tmp_path: Path) -> None:
    def two_wrong_keys_before(conn) -> None:  # type: ignore[no-untyped-def]
        conn.simulator.ecus["RETROFIT"].server.attempts = 2

    o, seq = flash_retrofit(tmp_path, "", sim_seed_key="other-algorithm",
                            before_run=two_wrong_keys_before)
    assert o.outcome in ("failed", "refused", "resumable")
    assert "too many invalid keys (NRC 0x36 exceededNumberOfAttempts)" in o.detail
    assert not any(r[:4] == b"\x31\x01\xff\x00" for r in seq)  # nothing erased


def test_functional_quiet_requests_follow_the_profile(tmp_path: Path) -> None:
    """van: DTC setting off with its option record, communication control 03/03."""
    from tests.flash.test_families import package

    conn = open_vehicle("van")
    functional = RequestTap(conn, 0x18DB33F1)
    try:
        prep = prepare_flash(conn, package(tmp_path, "ECM"),
                             overrides={"baseline": "test", "rollback": "test"})
        assert run_flash(conn, prep).ok
    finally:
        functional.close()
        conn.close()
    seq = functional.sequence()
    assert seq[:3] == [b"\x10\x83", b"\x85\x82\xff\xff\xff", b"\x28\x83\x03"]
    assert seq[-3:] == [b"\x28\x80\x03", b"\x85\x81\xff\xff\xff", b"\x10\x81"]


def test_bootloader_detection_is_profile_data() -> None:
    """ADAS answers its version DID with NRC 0x22 in the bootloader (not 0x31): its
    profile's boot_detect says so, and the tool sees it in its bootloader."""
    conn = open_vehicle("van")
    try:
        sim = conn.simulator
        assert sim is not None
        definition = conn.vehicle.ecu("ADAS")
        state, _ = read_state(conn, definition)
        assert (state.in_bootloader, state.software_version) == (False, "1.0.0")
        assert state.boot_version == "AB-7.2"
        sim.ecus["ADAS"].flash.erase(0x08000000, 0x1000)  # the application is gone
        state, _ = read_state(conn, definition)
        assert state.responded and state.in_bootloader and state.software_version is None
    finally:
        conn.close()


def test_routines_per_memory_range() -> None:
    """A range's own erase / check routine wins over the ECU's; `block` numbers the range."""
    van = load_vehicle("van")
    ecm = van.ecu("ECM")
    region = Region(0x00040000, 0x100, 0x00040000, 0x8000, "00" * 32, 0, None)
    assert codec.erase_args(ecm.flash.erase, ecm, region) == b"\x01\x02"  # block 2


def test_per_range_routine_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "van.toml"
    path.write_text(Path(load_vehicle("van").source or "").read_text().replace(
        "block = 0x02\n", 'block = 0x02\ncheck_memory = { id = 0x0210, args = ["block", '
                          '"sum16"] }\n'))
    ecm = load_vehicle(path).ecu("ECM")
    assert ecm.memory[1].check_memory is not None
    assert ecm.memory[1].check_memory.id == 0x0210
    assert codec.routine_args(ecm.memory[1].check_memory.layout, codec.ArgValues(
        0x44, 0, 0, 2, 1, b"\x01\x02\xff")) == b"\x02\x01\x02"


@pytest.mark.parametrize(("snippet", "named"), [
    ("colour = 1", "ecus[7].flash.colour is not a flash profile key"),
    ('erase = { id = 0xFF00, args = ["crc64"] }', "ecus[7].flash.erase.args: 'crc64'"),
    ('erase = { id = 0xFF00, wait = "long" }', "ecus[7].flash.erase.wait is not a routine key"),
    ("security_level = 0x12", "ecus[7].flash.security_level 0x12 is a sendKey level"),
    ('step_security = { reset = 0x03 }', "ecus[7].flash.step_security: 'reset' is not a step"),
    ('fingerprint = [{ did = 0xF15A, template = ["date"] }]',
     "ecus[7].flash.fingerprint[0].template: 'date' is not a fingerprint field"),
    ('boot_detect = { nrc = 0x31 }', "ecus[7].flash.boot_detect must be"),
    ('tester_present = "both"', "ecus[7].flash.tester_present must be one of"),
    ('dtc_setting_record = "XYZ"', "ecus[7].flash.dtc_setting_record must be hex digits"),
])
def test_unusable_keys_are_refused_with_key_and_file(tmp_path: Path, snippet: str,
                                                      named: str) -> None:
    path = tmp_path / "demo-car.toml"
    path.write_text(DEMO.read_text() + retrofit(snippet))
    with pytest.raises(ConfigError) as err:
        load_vehicle(path)
    assert named in err.value.message and str(path) in err.value.message
    assert err.value.hint


def test_read_memory_read_out_without_an_addressed_check(tmp_path: Path) -> None:
    """readout = read_memory: 0x23 in readout_chunk pieces; this ECU's check routine takes
    no address, so the record says the read-out is not verified, and it is still kept."""
    from workshop.packages import images
    from workshop.services.audit_trail import open_audit_log

    o, seq = flash_retrofit(tmp_path, 'readout = "read_memory"\nreadout_chunk = 0x800')
    assert o.outcome == "success", o.detail
    reads = [r for r in seq if r[:1] == b"\x23"]
    assert reads[0] == b"\x23\x44\x00\x40\x00\x00\x00\x00\x08\x00"
    assert reads[-1] == b"\x23\x44\x00\x40\x18\x00\x00\x00\x08\x00"  # 6000 -> 0x2000 range
    assert len(reads) == 4
    with open_audit_log(simulated=True) as log:
        record = next(r for r in log.records() if r.action == "flash.readout")
    assert record.ecu == "RETROFIT" and record.details["version"] == "7.0.0"
    assert str(record.details["verified"]).startswith("not verified: check routine 0x0202")
    stored = images.version_images("RETROFIT", "7.0.0")
    assert stored is not None and stored[0].length == 0x2000


def test_keepalive_kind_and_timing_overrides_reach_the_client(tmp_path: Path) -> None:
    """van ADAS: tester_present = functional (no keep-alive of its own), P2* 3 s from its
    profile instead of the 5 s its 0x10 answer says; ECM keeps its own keep-alive."""
    from tests.flash.test_families import package
    from workshop.flash.ecu_flash import EcuFlash
    from workshop.foundation.events import ignore_events

    conn = open_vehicle("van")
    try:
        prep = prepare_flash(conn, package(tmp_path, "ADAS", "sha256"),
                             overrides={"baseline": "test"})
        assert prep.plan is not None
        with conn.client("ADAS") as ecu:
            EcuFlash(ecu, prep.plan.ecu("ADAS"), prep.plan.package,
                     audit=lambda _a, _d: None, events=ignore_events, bus_limit_bps=1.0,
                     fingerprint=b"", on_stage=lambda _s: None)
            ecu.change_session(0x03)
            assert ecu.timing[1] == pytest.approx(3.0 + 0.25)
            assert ecu.keepalive_period_s == 0 and ecu._keepalive is None
        with conn.client("ADAS") as ecu:  # without the profile: the ECU's own figures
            ecu.change_session(0x03)
            assert ecu.timing[1] == pytest.approx(5.0 + 0.25)
            assert ecu._keepalive is not None
    finally:
        conn.close()


def test_signature_argument_comes_from_the_package(tmp_path: Path) -> None:
    """A check routine that verifies the OEM's signature in the ECU gets the signature the
    package carries for the region; a package without one is refused in the plan."""
    from workshop.packages.verify import open_verified
    from workshop.services import trust_policy
    from workshop.transport.adapters import AdapterConfig

    vehicle = tmp_path / "demo-car.toml"
    vehicle.write_text(DEMO.read_text() + retrofit(
        'check_memory = { id = 0x0212, args = ["address_length", "signature"] }'))
    pkg = spec(tmp_path, "RETROFIT", 0x7E7, "RETRO-HW-1", 0x00400000, "7.0.0", "7.1.0")
    conn = open_vehicle(vehicle)
    try:
        prep = prepare_flash(conn, pkg, overrides={"baseline": "test", "rollback": "test"})
        assert not prep.ready and prep.plan is not None
        assert any("takes the OEM's signature" in r for r in prep.plan.blocking_reasons())
    finally:
        conn.close()
    (tmp_path / "app.sig").write_bytes(bytes(range(64)))
    text = (tmp_path / "RETROFIT.toml").read_text() + 'signature_file = "app.sig"\n'
    (tmp_path / "RETROFIT.toml").write_text(text)
    from workshop.packages.build import build_package
    from workshop.trust.demo import demo_signer

    build_package(tmp_path / "RETROFIT.toml", tmp_path / "signed.wspkg", demo_signer())
    package = open_verified(tmp_path / "signed.wspkg",
                            trust_policy.trust_store(AdapterConfig(), None))
    region = package.manifest.ecus[0].regions[0]
    definition = load_vehicle(vehicle).ecu("RETROFIT")
    values = codec.region_values(definition, region, erase=False, image=b"")
    assert codec.routine_args(definition.flash.check_memory.layout, values) == (
        b"\x44\x00\x40\x00\x00" + region.length.to_bytes(4, "big") + bytes(range(64)))
