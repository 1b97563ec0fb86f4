"""Issue 19: `workshop package build --odx FILE --session NAME --ecu NAME`. The containers are
written by the tests' builder with odxtools (tests/vehicles/odx_ecu_builder.py), broken ones
included; a broken container is refused in words and nothing is written."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.vehicles.odx_ecu_builder import APP_START, build_new_ecu
from workshop.cli import main
from workshop.packages.compression import compress
from workshop.packages.container import MANIFEST, Container
from workshop.packages.manifest import Manifest, parse_manifest
from workshop.vehicles import load_vehicle


def build_cli(capsys: pytest.CaptureFixture[str], pdx: Path, out: Path, *extra: str,
              session: str = "update_app") -> tuple[int, str]:
    code = main([*extra, "package", "build", "--odx", str(pdx), "--session", session,
                 "--ecu", "SAULT", "--out", str(out)])
    text = "".join(capsys.readouterr())
    assert "Traceback" not in text
    return code, text


def read(pkg: Path) -> tuple[Manifest, dict[str, bytes]]:
    with Container(pkg) as c:
        m = parse_manifest(c.read_small(MANIFEST, 4 * 1024 * 1024))
        files = {r.payload.file: b"".join(c.iter_chunks(r.payload.file, r.payload.size))
                 for r in m.ecus[0].regions if r.payload is not None}
    return m, files


def test_the_session_becomes_a_signed_package(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = build_new_ecu(tmp_path / "sault.pdx")
    pkg = tmp_path / "sault.wspkg"
    code, out = build_cli(capsys, tmp_path / "sault.pdx", pkg)
    assert code == 0, out
    assert f"region 0x{APP_START:08X} +{len(image)} bytes (plain)" in out
    # demo-car (the default vehicle) has no SAULT: its address comes from the description
    assert "security level 0x11 not checked: the vehicle definition has no ECU SAULT" in out
    m, files = read(pkg)
    (e,) = m.ecus
    assert (e.name, e.address, e.hardware_part_numbers, e.from_versions, e.new_version,
            e.security_version, e.check_memory) == (
        "SAULT", 0x7B, ["HW-A"], ["1.0.0"], "1.1.0", 2, "crc32")
    (r,) = e.regions
    assert (r.address, r.length, r.erase_address, r.erase_length) == (
        APP_START, len(image), APP_START, 0x2000)
    assert (r.image_sha256, r.crc32, r.data_format) == (
        hashlib.sha256(image).hexdigest(), zlib.crc32(image), None)
    assert list(files.values()) == [image]
    assert main(["package", "verify", str(pkg), "--json"]) == 0  # signed as any other
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert main(["describe", str(tmp_path / "sault.pdx")]) == 0  # what it was made from
    described = capsys.readouterr().out
    assert "update_app (sault_mem) expects hardware_part_number HW-A; software_version 1.0.0" \
        in described
    assert "memory application_flash 0x8000+0x8000" in described


@pytest.mark.parametrize("data_format", ["INTEL-HEX", "MOTOROLA-S"])
def test_addressed_records_are_cut_by_the_segments_addresses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], data_format: str) -> None:
    image = build_new_ecu(tmp_path / "sault.pdx", data_format=data_format)
    pkg = tmp_path / "sault.wspkg"
    code, out = build_cli(capsys, tmp_path / "sault.pdx", pkg)
    assert code == 0, out
    m, files = read(pkg)
    (r,) = m.ecus[0].regions
    assert (r.address, r.length, r.crc32) == (APP_START, len(image), zlib.crc32(image))
    assert list(files.values()) == [image]


def test_an_encoded_payload_passes_through_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = build_new_ecu(tmp_path / "sault.pdx", encoded=True)
    pkg = tmp_path / "sault.wspkg"
    code, out = build_cli(capsys, tmp_path / "sault.pdx", pkg)
    assert code == 0, out
    assert "(encoded, format 0x10)" in out
    m, files = read(pkg)
    (r,) = m.ecus[0].regions
    assert (r.length, r.data_format, r.image_sha256, r.crc32) == (
        len(image), 0x10, hashlib.sha256(image).hexdigest(), zlib.crc32(image))
    assert list(files.values()) == [compress(image)]  # the OEM's bytes, not re-encoded


def _dotdot_member(pdx: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(pdx.read_bytes())) as src, zipfile.ZipFile(pdx, "w") as dst:
        for item in src.infolist():
            dst.writestr(f"../{item.filename}" if item.filename == "app.bin" else item.filename,
                         src.read(item))


def _link_member(pdx: Path) -> None:
    with zipfile.ZipFile(pdx, "a") as z:
        link = zipfile.ZipInfo("evil.bin")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")


def _truncate(pdx: Path) -> None:
    pdx.write_bytes(pdx.read_bytes()[: pdx.stat().st_size * 2 // 3])


@pytest.mark.parametrize(("breakage", "spoil", "said"), [
    ("missing_block", None, "sault.pdx: odxtools cannot read it: KeyError: \"ODXLINK reference "
     "OdxLinkRef('sault_flash.DB.nowhere') could not be resolved"),
    ("outside", None, "segment seg0 (0x20000+0x1770) lies outside the ECU-MEM's physical "
     "memory (application_flash 0x8000+0x8000)"),
    ("dotdot_datafile", None, "its data file '../app.bin' is a path, not a file in the "
     "container; refused"),
    ("unknown_datafile", None, "its data file 'other.bin' is not in sault.pdx"),
    ("bad_checksum", None, "segment seg0: its CHECKSUM says"),
    (None, _dotdot_member, "sault.pdx: member '../app.bin' names a path outside the container"),
    (None, _link_member, "sault.pdx: member 'evil.bin' is a link, not a file"),
    (None, _truncate, "sault.pdx: odxtools cannot read it: BadZipFile"),
])
def test_a_broken_container_is_refused_and_nothing_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], breakage: str | None,
        spoil: object, said: str) -> None:
    pdx = tmp_path / "sault.pdx"
    build_new_ecu(pdx, breakage=breakage)
    if callable(spoil):
        spoil(pdx)
    pkg = tmp_path / "out" / "sault.wspkg"
    code, out = build_cli(capsys, pdx, pkg)
    assert code != 0
    assert said in out
    assert not pkg.exists() and not (tmp_path / "out").exists()


def test_an_unknown_session_is_refused_with_the_known_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_new_ecu(tmp_path / "sault.pdx")
    code, out = build_cli(capsys, tmp_path / "sault.pdx", tmp_path / "x.wspkg",
                          session="update_everything")
    assert code != 0
    assert "sault.pdx has no flash session 'update_everything'" in out
    assert "choose one of: update_app" in out
    assert not (tmp_path / "x.wspkg").exists()


def test_a_security_method_the_ecu_profile_contradicts_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_new_ecu(tmp_path / "sault.pdx")
    vehicle = tmp_path / "car.toml"
    vehicle.write_text('name = "sault-car"\n[bus]\nbitrate = 500000\n[[ecus]]\nname = "SAULT"\n'
                       'request_id = 0x7B\nresponse_id = 0x1C8\nodx = "sault.pdx"\n'
                       '[ecus.flash]\nsecurity_level = 0x01\n', encoding="utf-8")
    code, out = build_cli(capsys, tmp_path / "sault.pdx", tmp_path / "x.wspkg",
                          "--vehicle", str(vehicle))
    assert code != 0
    assert ("session update_app: its SECURITY-METHOD asks seed/key level 0x11; SAULT's flash "
            "profile unlocks with 0x01") in out
    assert not (tmp_path / "x.wspkg").exists()
    odx = load_vehicle(vehicle).ecus[0].odx  # the definition wins, the conflict is said
    assert odx is not None and ("flash security_level: the definition says 0x01, the "
                                "description's SECURITY-METHOD 0x11; using 0x01") in odx.conflicts


def test_json_output_names_the_package_and_its_notes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_new_ecu(tmp_path / "sault.pdx")
    code = main(["package", "build", "--json", "--odx", str(tmp_path / "sault.pdx"),
                 "--session", "update_app", "--ecu", "SAULT", "--id", "sault-fix-7",
                 "--out", str(tmp_path / "y.wspkg")])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and (doc["id"], doc["version"], doc["ecus"]) == (
        "sault-fix-7", "1.1.0", ["SAULT"])
    assert doc["notes"] == ["security level 0x11 not checked: the vehicle definition has no "
                            "ECU SAULT"]


def test_spec_and_odx_options_do_not_mix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_new_ecu(tmp_path / "sault.pdx")
    code = main(["package", "build", "--odx", str(tmp_path / "sault.pdx"), "--out",
                 str(tmp_path / "x.wspkg")])
    assert code != 0 and "--odx needs --session NAME and --ecu NAME" in capsys.readouterr().err
    code = main(["package", "build", "--session", "update_app", "--out", str(tmp_path / "y")])
    err = capsys.readouterr().err
    assert code != 0 and "give a build spec, or --odx FILE --session NAME --ecu NAME" in err
    assert not (tmp_path / "x.wspkg").exists() and not (tmp_path / "y").exists()


def test_the_suppliers_text_is_shown_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a right-to-left override in an EXPECTED-IDENT (XML allows it; a terminal obeys it)
    build_new_ecu(tmp_path / "sault.pdx", hardware="HW-\u202eA")
    code, out = build_cli(capsys, tmp_path / "sault.pdx", tmp_path / "x.wspkg")
    assert code == 0, out
    assert "\u202e" not in out and "hardware HW-\\u202eA;" in out
