"""Bad input on the command line is refused in words, with what to do, never a traceback:
every path option, every number, packages the vehicle cannot take, adapters without their
driver. Each case runs the real CLI in process (`main`), so an uncaught exception fails it."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from tests.flash.helpers import DEMO_ECUS, Update, build
from workshop.cli import main
from workshop.transport.adapters import AdapterConfig, interface_status, missing_driver, open_bus
from workshop.transport.errors import AdapterNotAvailableError

SPEC = Path(__file__).resolve().parents[2] / "resources" / "packages" / "abs-1.1.0.toml"
BASELINE_SPEC = SPEC.parents[1] / "baselines" / "demo-car-2026.11.toml"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI on a simulator of its own; (exit code, stdout, stderr)."""
    code = main(["--channel", f"refusal-{uuid.uuid4()}", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    text = tmp_path / "plain.txt"
    text.write_text("not what it should be\n")
    return {"DIR": str(folder), "FILE": str(text), "MISSING": str(tmp_path / "missing.bin"),
            "UNDER_FILE": str(text / "x.out")}


# (arguments with placeholders, exit code, words the error must contain)
CASES = [
    # path options that were passed on as text (issue 17: tracebacks)
    ("flash engine-1.1.0 --dry-run --trust FILE", 4, "trust store {FILE} is a file, not a folder"),
    ("flash engine-1.1.0 --dry-run --trust MISSING", 4, "trust store {MISSING} does not exist"),
    ("flash engine-1.1.0 --dry-run --baseline DIR", 4, "baseline {DIR} is a folder, not a file"),
    ("flash engine-1.1.0 --dry-run --baseline MISSING", 4, "baseline {MISSING} does not exist"),
    ("flash DIR --dry-run", 4, "package {DIR} is a folder, not a package file"),
    ("flash EMPTY --dry-run", 4, "no package given"),
    ("flash resume --ecu ENGINE", 4, "'flash resume' takes no --ecu"),
    ("flash engine-1.1.0 --dry-run --override nosuch=typo", 4,
     "--override nosuch: this plan has no check 'nosuch'"),
    # files written where a folder is (tracebacks before)
    ("package build SPEC --out DIR", 4, "package {DIR} is a folder"),
    ("baseline sign BASELINE_SPEC --out DIR", 4, "baseline {DIR} is a folder"),
    ("audit export --out DIR", 4, "audit export {DIR} is a folder"),
    ("identity csr --out DIR", 4, "certificate request {DIR} is a folder"),
    ("pki demo-init FILE", 4, "{FILE} is a file, not a folder"),
    ("--log-file UNDER_FILE scan", 4, "{FILE} is a file, not a folder"),
    # files read that are missing or folders
    ("package verify MISSING", 4, "package {MISSING} does not exist"),
    ("package inspect DIR", 4, "package {DIR} is a folder, not a file"),
    ("package build MISSING --out FILE", 4, "build spec {MISSING} does not exist"),
    ("package build SPEC --out MISSING --key DIR --cert FILE", 4,
     "private key {DIR} is a folder, not a file"),
    ("package build SPEC --out MISSING --delta-from DIR", 4,
     "previous package {DIR} is a folder, not a file"),
    ("baseline check --baseline DIR", 4, "baseline {DIR} is a folder, not a file"),
    ("audit verify --file DIR", 4, "audit export {DIR} is a folder, not a file"),
    ("audit verify --cert MISSING", 4, "certificate {MISSING} does not exist"),
    ("identity import-cert DIR", 4, "certificate {DIR} is a folder, not a file"),
    ("identity show --trust FILE", 4, "trust store {FILE} is a file, not a folder"),
    ("--vehicle DIR scan", 4, "vehicle definition {DIR} is a folder, not a file"),
    ("--vehicle MISSING scan", 4, "vehicle definition file {MISSING} does not exist"),
    ("settings set trust_dir FILE", 4, "{FILE} is a file, not a folder"),
    # bus options the vehicle cannot take (issue 18: accepted silently)
    ("--fd scan", 4, "vehicle demo-car does not use CAN FD"),
    ("--vehicle truck --fd scan", 4, "vehicle truck does not use CAN FD"),
    ("--data-bitrate 2000000 scan", 4, "is the CAN FD data phase's, but CAN FD is not on"),
    # names that go into a certificate (a 300-character id was a traceback, and a rotate
    # that failed on it lost the installation's identity)
    ("identity init --rotate --name LONG", 2, "has 300 characters; a certificate takes at most"),
    ("identity csr --out MISSING --org CONTROL", 2, "holds control characters"),
    # numbers (argparse's usage error, exit 2, in words)
    ("--bitrate 0 scan", 2, "0 bit/s is outside 5000..1000000"),
    ("--bitrate fast scan", 2, "'fast' is not a whole number of bit/s"),
    ("--fd --data-bitrate -1 scan", 2, "-1 bit/s is outside 125000..12000000"),
    ("audit show --last 0", 2, "0 is not 1 or more"),
    ("audit show --last -3", 2, "-3 is not 1 or more"),
]


@pytest.mark.parametrize(("line", "code", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_words(capsys: pytest.CaptureFixture[str],
                                       files: dict[str, str], line: str, code: int,
                                       words: str) -> None:
    names = {**files, "SPEC": str(SPEC), "BASELINE_SPEC": str(BASELINE_SPEC), "EMPTY": "",
             "LONG": "B" * 300, "CONTROL": "dealer\x1b]0;owned\x07"}
    got, out, err = cli(capsys, *[names.get(a, a) for a in line.split(" ")])
    assert got == code, out + err
    assert words.format(**files) in err, err
    if code == 4:
        assert "  -> " in err  # what to do


def test_refusal_of_a_path_is_json_with_json(capsys: pytest.CaptureFixture[str],
                                             files: dict[str, str]) -> None:
    code, out, _ = cli(capsys, "package", "verify", files["MISSING"], "--json")
    doc = json.loads(out)
    assert code == 4 and doc["exit_code"] == 4 and doc["error"] == "ConfigError"
    assert "does not exist" in doc["message"] and doc["hint"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads any file: no unreadable file to give")
def test_unreadable_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.read_text())
    spec.chmod(0)
    code, _, err = cli(capsys, "package", "build", str(spec), "--out", str(tmp_path / "o"))
    assert code == 4 and "cannot be read: permission denied" in err


def test_path_options_taken_as_paths_work(capsys: pytest.CaptureFixture[str],
                                          workshop_home: Path) -> None:
    """--trust and --baseline as the README gives them: the flash plan uses them."""
    code, _, err = cli(capsys, "flash", "engine-1.1.0", "--dry-run")  # creates the demo PKI
    assert code == 0, err
    trust = workshop_home / "pki" / "trust"
    baseline = next((workshop_home / "baselines").glob("demo-car-*.baseline"))
    code, out, err = cli(capsys, "flash", "engine-1.1.0", "--dry-run", "--json",
                         "--trust", str(trust), "--baseline", str(baseline))
    assert code == 0, err
    plan = json.loads(out)["preparations"][0]["plan"]
    assert not plan["blocked"]
    checks = {c["check"]: c for c in plan["ecus"][0]["checks"]}
    assert checks["baseline"]["passed"]
    # each option is used: a file that is no signed baseline blocks the plan, in words ...
    code, out, _ = cli(capsys, "flash", "engine-1.1.0", "--dry-run", "--baseline", str(SPEC))
    assert code == 1 and "no approved baseline" in out and "plan BLOCKED" in out
    # ... and a trust store without the demo root refuses the package's signer
    empty = workshop_home / "empty-trust"
    empty.mkdir()
    code, out, _ = cli(capsys, "flash", "engine-1.1.0", "--dry-run", "--trust", str(empty))
    assert code == 1 and "not a firmware root in the trust store" in out


def test_package_for_another_model_is_refused_in_words(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pkg = build(tmp_path, "for-the-truck", [Update("ENGINE")], models='["truck"]')
    code, out, err = cli(capsys, "flash", str(pkg), "--yes")
    assert code == 1, err
    assert "package is for truck, not for vehicle model demo-car" in out
    assert "plan BLOCKED: nothing will be written" in out
    code, out, _ = cli(capsys, "flash", str(pkg), "--dry-run", "--json")
    doc = json.loads(out)
    assert code == 1 and not doc["ready"]
    plan = doc["preparations"][0]["plan"]
    assert plan["blocked"] and plan["ecus"] == [] and plan["estimate_s"] == 0
    assert any("not for vehicle model demo-car" in p for p in plan["problems"])


def test_package_for_an_ecu_the_vehicle_lacks_is_refused_in_words(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DEMO_ECUS, "HEADLIGHT", (0x7A0, "HL-HW-1", 0x1000))
    pkg = build(tmp_path, "lamp", [Update("ENGINE"), Update("HEADLIGHT")])
    code, out, err = cli(capsys, "flash", str(pkg), "--yes")
    assert code == 1, err
    assert "package targets HEADLIGHT, not present on this vehicle" in out
    assert "plan BLOCKED: nothing will be written" in out
    assert "order:" not in out  # nothing is planned, so no order or time is given
    code, out, _ = cli(capsys, "flash", str(pkg), "--ecu", "HEADLIGHT", "--dry-run", "--json")
    assert code == 1 and not json.loads(out)["ready"]


@pytest.mark.skipif(missing_driver("kvaser") is None, reason="Kvaser CANlib is installed here")
@pytest.mark.parametrize("channel", [[], ["--channel", "0"]], ids=["no-channel", "channel-0"])
def test_adapter_without_its_driver_names_the_driver(capsys: pytest.CaptureFixture[str],
                                                     channel: list[str]) -> None:
    code = main(["--adapter", "kvaser", *channel, "scan"])
    out, err = capsys.readouterr()
    assert code == 3 and "Traceback" not in out + err
    assert "adapter 'kvaser' needs Kvaser CANlib" in err
    assert "not installed here" in err and "kvaser.com" in err


@pytest.mark.skipif(missing_driver("kvaser") is None, reason="Kvaser CANlib is installed here")
def test_adapter_module_that_loads_without_its_library_is_not_listed_as_loading() -> None:
    with pytest.raises(AdapterNotAvailableError) as err:
        open_bus(AdapterConfig(interface="kvaser", channel="0"))
    assert "Kvaser CANlib" in err.value.message and "install" in (err.value.hint or "")
    kvaser = next(s for s in interface_status() if s.name == "kvaser")
    assert not kvaser.loads and "Kvaser CANlib" in kvaser.problem


def test_adapter_that_needs_a_channel_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--adapter", "slcan", "scan"])
    _, err = capsys.readouterr()
    assert code == 3
    assert ("adapter 'slcan' needs a channel" in err
            or "adapter 'slcan' needs the 'pyserial' package" in err)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_file_the_system_will_not_write_is_an_error_in_words(
        capsys: pytest.CaptureFixture[str]) -> None:
    # /proc takes no new files, not even from root: the write itself fails (OSError)
    code, _, err = cli(capsys, "package", "build", str(SPEC), "--out", "/proc/x.wspkg")
    assert code == 4 and "cannot use /proc/" in err and "No such file or directory" in err
    assert "check the path, its permissions and the free space" in err


def test_bus_options_a_can_fd_vehicle_takes(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    demo = (SPEC.parents[1] / "vehicles" / "demo-car.toml").read_text()
    fd_car = tmp_path / "fd-car.toml"
    fd_car.write_text(demo.replace('name = "demo-car"', 'name = "fd-car"').replace(
        "[bus]\n", "[bus]\nfd = true\ndata_bitrate = 2000000\n"))
    for extra in ([], ["--fd"], ["--data-bitrate", "5000000"]):
        code, out, err = cli(capsys, "--vehicle", str(fd_car), *extra, "scan",
                             "--no-discovery", "--json")
        assert code == 0, err
        assert len(json.loads(out)["ecus"]) == 7


FD_SPEC = """[package]
id = "uefi"
version = "1"
vehicle_models = ["demo-car"]
[[ecu]]
name = "BODY"
address = 0x7E4
hardware_part_numbers = ["DC-BOD-HW-100"]
from_versions = ["1.0.0"]
new_version = "1.1.0"
security_version = 2
[[ecu.region]]
file = "bios.fd"
"""


def test_firmware_named_fd_is_asked_for_its_format_then_built(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Issue 18: a UEFI image (*.fd, binary) failed with "'ascii' codec can't decode"."""
    image = bytes(range(256)) * 16
    (tmp_path / "bios.fd").write_bytes(image)
    spec = tmp_path / "uefi.toml"
    spec.write_text(FD_SPEC)
    out = tmp_path / "uefi.wspkg"
    code, _, err = cli(capsys, "package", "build", str(spec), "--out", str(out))
    assert code == 4 and "codec" not in err
    assert "bios.fd: the file name does not say which firmware format it is (.fd)" in err
    assert 'format = "bin"' in err and "UEFI" in err
    assert not out.exists()

    spec.write_text(FD_SPEC + 'format = "bin"\nload_address = 0x00020000\n')
    code, printed, err = cli(capsys, "package", "build", str(spec), "--out", str(out))
    assert code == 0, err
    assert "built" in printed and out.is_file()
    code, printed, _ = cli(capsys, "package", "inspect", str(out))
    assert code == 0 and f"0x00020000 +{len(image)}" in printed

    spec.write_text(FD_SPEC + 'format = "ihex"\n')  # said to be text, but it is binary
    code, _, err = cli(capsys, "package", "build", str(spec), "--out", str(out))
    assert code == 4 and "is not text (byte 128 is 0x80)" in err and "codec" not in err


BODY_SPEC = """[package]
id = "x"
version = "1"
vehicle_models = ["demo-car"]
[[ecu]]
name = "BODY"
address = 0x7E4
hardware_part_numbers = ["DC-BOD-HW-100"]
from_versions = ["1.0.0"]
new_version = "1.1.0"
security_version = 2
[[ecu.region]]
"""

# a region (or package key) -> words of the refusal; each was a traceback, a hang or a
# package that was built wrong
BAD_SPECS = {
    "file = 5": "ecu[BODY].region.file has the wrong type",
    'file = "."': "is a folder, not a firmware file",
    'file = "a.bin"\nload_address = "x"': "ecu[BODY].region.load_address has the wrong type",
    "address = 0x20000\ngenerate_size = 10000000000":
        "ecu[BODY].region.generate_size = 10000000000 is outside 0x1..0x4000000",
    "address = -1\ngenerate_size = 16": "ecu[BODY].region.address = -1 is outside",
    "address = 0x20000\ngenerate_size = 0": "generate_size = 0 is outside",
}


@pytest.mark.parametrize("region", list(BAD_SPECS), ids=list(BAD_SPECS))
def test_bad_build_spec_is_refused_in_words(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path, region: str) -> None:
    (tmp_path / "a.bin").write_bytes(b"\x01")
    spec = tmp_path / "spec.toml"
    spec.write_text(BODY_SPEC + region + "\n")
    code, _, err = cli(capsys, "package", "build", str(spec), "--out", str(tmp_path / "o"))
    assert code == 4 and BAD_SPECS[region] in err, err


def test_vehicle_models_as_a_string_is_refused(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"  # was built "for d, e, m, o, -, c, a, r"
    spec.write_text(BODY_SPEC.replace('["demo-car"]', '"demo-car"')
                    + "address = 0x20000\ngenerate_size = 16\n")
    code, _, err = cli(capsys, "package", "build", str(spec), "--out", str(tmp_path / "o"))
    assert code == 4 and "package.vehicle_models must be a list of names" in err


BASELINE_HEAD = '[baseline]\nvehicle_model = "demo-car"\nintegration_level = "x"\n'
BAD_BASELINES = {
    # a string where a list belongs was split into letters: "a" approved part "a", and
    # "DC-1" would have approved parts "D", "C", "-", "1"
    BASELINE_HEAD + '[ecu.ENGINE]\npart_numbers = "DC-1"\nsoftware_versions = ["1"]':
        "ecu.ENGINE.part_numbers must be a list of text values",
    BASELINE_HEAD + '[ecu.ENGINE]\npart_numbers = ["DC-1"]\nsoftware_versions = 1':
        "ecu.ENGINE.software_versions must be a list of text values",
    BASELINE_HEAD + "[ecu]\nENGINE = 5": "ecu.ENGINE.part_numbers must be a list",
    BASELINE_HEAD: "no [ecu.NAME] table",
    '[baseline]\nvehicle_model = "../x"\nintegration_level = "x"\n[ecu.ENGINE]\n'
    'part_numbers = ["a"]\nsoftware_versions = ["1"]': "'../x' is not allowed",
    "baseline = 5": "a [baseline] table with vehicle_model and integration_level is missing",
}


@pytest.mark.parametrize("text", list(BAD_BASELINES), ids=range(len(BAD_BASELINES)))
def test_bad_baseline_spec_is_refused_in_words(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path, text: str) -> None:
    spec = tmp_path / "b.toml"
    spec.write_text(text + "\n")
    code, _, err = cli(capsys, "baseline", "sign", str(spec), "--out", str(tmp_path / "o"))
    assert code == 4 and BAD_BASELINES[text] in err, err
    assert not (tmp_path / "o").exists()
