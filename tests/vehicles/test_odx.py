"""Issue 19 (first steps): an ODX/PDX description read with odxtools, and `workshop describe`,
on the real odxtools example (tests/data/odxtools_somersault.pdx) and on broken copies of it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from workshop.cli import main
from workshop.foundation.errors import ConfigError
from workshop.vehicles.odx import load_description

PDX = Path(__file__).parent.parent / "data" / "odxtools_somersault.pdx"


def test_variants_and_communication_parameters() -> None:
    d = load_description(PDX)
    assert d.variants[:2] == ["somersault_lazy", "somersault_assiduous"]  # ECU variants first
    assert set(d.variants[2:]) == {"somersault_base_variant", "somersault_protocol"}
    s = d.summary()
    assert s.name == "somersault_lazy" and s.kind == "ECU-VARIANT"
    assert (s.can_request_id, s.can_response_id) == (123, 456)
    assert s.comparams["CP_Baudrate"] == "500000"
    assert s.comparams["CP_BlockSize"] == "4"
    assert s.comparams["CP_TesterPresentMessage"] == "3e00"
    assert set(s.state_charts) == {"annoyed", "angry"}
    assert s.timing == {"bitrate": 500000, "block_size": 4, "rc21_timeout_ms": 1000}


def test_services_sorted_by_kind_with_types_units_and_texts() -> None:
    s = load_description(PDX).summary("somersault_assiduous")
    assert [x.name for x in s.sessions] == ["session_start", "session_stop"]
    assert s.sessions[0].request_prefix == "1000"
    assert [x.name for x in s.routines] == ["schroedinger"]
    assert s.security == [] and s.dtcs == []  # the example has neither
    assert "headstand" in [x.name for x in s.services]  # only the assiduous one does those
    flips = {x.name: x for x in s.services}["do_forward_flips"]
    sault = {v.name: v for v in flips.response}["sault_time"]
    assert (sault.unit, sault.compu, sault.coded_type) == ("s", "IDENTICAL", "A_UINT32")
    backward = {v.name: v for v in s.sessions[0].response}["can_do_backward_flips"]
    assert backward.compu == "TEXTTABLE" and backward.texts == {"0": "false", "1": "true"}


def test_the_modified_example_has_a_third_variant() -> None:
    d = load_description(PDX.with_name("odxtools_somersault_modified.pdx"))
    assert d.variants[:3] == ["somersault_lazy", "somersault_assiduous", "somersault_young"]
    young = d.summary("somersault_young")
    assert "flic_flac" in [s.name for s in young.services]
    assert [s.name for s in young.sessions] == ["start_session", "stop_session"]
    assert young.can_request_id is not None


def test_unknown_variant_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError) as e:
        load_description(PDX).summary("somersault_young")
    assert "somersault_young" in e.value.message and "somersault_lazy" in (e.value.hint or "")


def _truncated(tmp_path: Path) -> Path:
    bad = tmp_path / "truncated.pdx"
    bad.write_bytes(PDX.read_bytes()[: len(PDX.read_bytes()) // 2])
    return bad


def _broken_xml(tmp_path: Path) -> Path:
    bad = tmp_path / "broken_xml.pdx"
    with zipfile.ZipFile(PDX) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith(".odx-d"):
                data = data[: len(data) // 2]  # cut mid-element
            dst.writestr(item, data)
    return bad


def _dangling_reference(tmp_path: Path) -> Path:
    # well-formed XML, but a data object the services use is referenced by a wrong id
    bad = tmp_path / "dangling.pdx"
    with zipfile.ZipFile(PDX) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "somersault.odx-d":
                data = data.replace(b'ID-REF="somersault.DOP.duration"', b'ID-REF="nowhere"', 1)
                assert b'"nowhere"' in data
            dst.writestr(item, data)
    return bad


@pytest.mark.parametrize("make", [_truncated, _broken_xml, _dangling_reference])
def test_unreadable_description_is_refused_with_reason_and_name(
        make: object, tmp_path: Path) -> None:
    bad = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ConfigError) as e:
        load_description(bad)
    assert bad.name in e.value.message and "odxtools cannot read it" in e.value.message
    assert e.value.hint


def test_not_an_odx_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "car.toml"
    other.write_text("x = 1\n")
    with pytest.raises(ConfigError, match="not an ODX/PDX file"):
        load_description(other)


def test_describe_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", str(PDX)]) == 0
    out = capsys.readouterr().out
    assert "variant somersault_lazy (ECU-VARIANT)" in out
    assert "CAN ids: request 0x7B, response 0x1C8" in out
    assert "session_start [1000]" in out and "schroedinger" in out
    assert main(["describe", str(PDX), "--variant", "somersault_assiduous", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variants"][0] == "somersault_lazy"
    assert doc["variant"]["name"] == "somersault_assiduous"
    assert doc["variant"]["comparams"]["CP_Baudrate"] == "500000"


def test_describe_refuses_a_corrupt_file_in_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _truncated(tmp_path)
    assert main(["describe", str(bad)]) == 4
    err = capsys.readouterr().err
    assert "Traceback" not in err and "truncated.pdx" in err and "->" in err
    assert main(["describe", str(bad), "--json"]) == 4
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"] == "ConfigError" and "truncated.pdx" in doc["message"]


def test_member_names_with_dotdot_write_nothing_outside(tmp_path: Path) -> None:
    # odxtools reads the members in memory: a `../` name is read or refused, never written
    work = tmp_path / "work"
    work.mkdir()
    evil = work / "evil.pdx"
    with zipfile.ZipFile(PDX) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("../../escaped.txt", b"x")
    with pytest.raises(ConfigError) as info:
        load_description(evil)
    assert "evil.pdx: member '../../escaped.txt' names a path outside" in info.value.message
    assert not (tmp_path / "escaped.txt").exists() and sorted(work.iterdir()) == [evil]


@pytest.mark.parametrize("seed", range(12))
def test_a_damaged_copy_is_refused_in_words_or_read_whole(seed: int, tmp_path: Path) -> None:
    data = bytearray(PDX.read_bytes())
    for i in range(4):  # a few bytes flipped somewhere: zip headers, deflate data, CRCs
        data[(seed * 7919 + i * 104729) % len(data)] ^= 0x5A
    bad = tmp_path / f"damaged{seed}.pdx"
    bad.write_bytes(bytes(data))
    try:
        d = load_description(bad)
    except ConfigError as e:
        assert bad.name in e.message and e.hint
    else:
        assert set(d.summaries) == set(d.variants)


def test_a_pdx_too_large_or_unpacking_too_large_is_refused_before_odxtools(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workshop.vehicles import odx

    monkeypatch.setattr(odx, "MAX_PDX_BYTES", PDX.stat().st_size - 1)
    with pytest.raises(ConfigError, match="a PDX may have here"):
        load_description(PDX)
    monkeypatch.setattr(odx, "MAX_PDX_BYTES", 1 << 30)
    bomb = tmp_path / "bomb.pdx"
    with zipfile.ZipFile(PDX) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("filler.bin", bytes(2_000_000))  # 2 MB of zeros: a few KB packed
    monkeypatch.setattr(odx, "MAX_UNPACKED_BYTES", 1_000_000)
    with pytest.raises(ConfigError, match=r"bomb\.pdx: unpacks to"):
        load_description(bomb)
