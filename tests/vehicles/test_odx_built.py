"""Issue 19: a description with a UDS DID (linear scaling, unit) and a DTC, written by odxtools
itself onto the somersault example (which has neither): the DID and the DTC text reach the
summary, `workshop describe` and the DataDescriptions that DTC details decode with."""

from __future__ import annotations

import json
from pathlib import Path

import odxtools
import pytest
from odxtools.compumethods.compucategory import CompuCategory
from odxtools.compumethods.compuconst import CompuConst
from odxtools.compumethods.compuinternaltophys import CompuInternalToPhys
from odxtools.compumethods.compurationalcoeffs import CompuRationalCoeffs
from odxtools.compumethods.compuscale import CompuScale
from odxtools.compumethods.identicalcompumethod import IdenticalCompuMethod
from odxtools.compumethods.limit import Limit
from odxtools.compumethods.linearcompumethod import LinearCompuMethod
from odxtools.compumethods.texttablecompumethod import TexttableCompuMethod
from odxtools.datablock import Datablock
from odxtools.dataformat import Dataformat
from odxtools.dataformatselection import DataformatSelection
from odxtools.dataobjectproperty import DataObjectProperty
from odxtools.diagnostictroublecode import DiagnosticTroubleCode
from odxtools.diagservice import DiagService
from odxtools.dtcdop import DtcDop
from odxtools.ecumem import EcuMem
from odxtools.ecuvariantpattern import EcuVariantPattern
from odxtools.expectedident import ExpectedIdent
from odxtools.flash import Flash
from odxtools.identvalue import IdentValue
from odxtools.identvaluetype import IdentValueType
from odxtools.internflashdata import InternFlashdata
from odxtools.matchingparameter import MatchingParameter
from odxtools.mem import Mem
from odxtools.nameditemlist import NamedItemList
from odxtools.odxlink import DocType, OdxDocFragment, OdxLinkId, OdxLinkRef
from odxtools.odxtypes import DataType
from odxtools.ownident import OwnIdent
from odxtools.parameters.codedconstparameter import CodedConstParameter
from odxtools.parameters.valueparameter import ValueParameter
from odxtools.physicaltype import PhysicalType
from odxtools.request import Request
from odxtools.response import Response, ResponseType
from odxtools.segment import Segment
from odxtools.session import Session
from odxtools.standardlengthtype import StandardLengthType
from odxtools.text import Text
from odxtools.unit import Unit
from odxtools.writepdxfile import write_pdx_file

from workshop.cli import main
from workshop.vehicles.odx import load_description

PDX = Path(__file__).parent.parent / "data" / "odxtools_somersault.pdx"


def build(source: Path, out: Path, *,
          dtc_text: str = "Crankshaft position sensor circuit", flash: bool = False,
          ecu: bool = False) -> None:
    """somersault + DID 0xF40C engine_speed (16 bit, x0.25, unit s) + DTC P0335; with `ecu`
    engine_speed in rpm and identification DIDs 0xF1B0 coolant_temperature (8 bit, raw - 40,
    unit °C) and 0xF1B1 operating_mode (text table parked/idle/running), and
    ECU-VARIANT-PATTERNs on 0xF1B1: somersault_lazy answers "running", somersault_assiduous
    "parked"."""
    db = odxtools.load_pdx_file(str(source))
    base = db.diag_layers.somersault_base_variant
    raw = base.diag_layer_raw
    docs = base.odx_id.doc_fragments

    def oid(name: str) -> OdxLinkId:
        return OdxLinkId(f"test.{name}", docs)

    def u(bits: int, signed: bool = False) -> StandardLengthType:
        return StandardLengthType(base_data_type=DataType.A_INT32 if signed else DataType.A_UINT32,
                                  bit_length=bits)

    def const(name: str, value: int, bits: int, pos: int) -> CodedConstParameter:
        return CodedConstParameter(short_name=name, coded_value_raw=str(value),
                                   diag_coded_type=u(bits), byte_position=pos)

    speed = DataObjectProperty(
        short_name="engine_speed_dop", odx_id=oid("DOP.engine_speed"),
        diag_coded_type=u(16), physical_type=PhysicalType(base_data_type=DataType.A_FLOAT64),
        compu_method=LinearCompuMethod(
            category=CompuCategory.LINEAR, internal_type=DataType.A_UINT32,
            physical_type=DataType.A_FLOAT64,
            compu_internal_to_phys=CompuInternalToPhys(compu_scales=[CompuScale(
                compu_rational_coeffs=CompuRationalCoeffs(
                    value_type=DataType.A_FLOAT64, numerators=[0, 0.25], denominators=[1]),
                domain_type=DataType.A_UINT32, range_type=DataType.A_FLOAT64)])),
        unit_ref=OdxLinkRef("somersault.unit.second", docs))
    spec = raw.diag_data_dictionary_spec
    if ecu:  # an engine speed in rpm (somersault has seconds, minutes and °C only)
        rpm = Unit(short_name="rpm", odx_id=oid("UNIT.rpm"), display_name="rpm")
        spec.unit_spec.units.append(rpm)
        speed.unit_ref = OdxLinkRef.from_id(rpm.odx_id)
    dtc_dop = DtcDop(
        short_name="test_dtcs", odx_id=oid("DOP.dtcs"), diag_coded_type=u(24),
        physical_type=PhysicalType(base_data_type=DataType.A_UINT32),
        compu_method=IdenticalCompuMethod(category=CompuCategory.IDENTICAL,
                                          internal_type=DataType.A_UINT32,
                                          physical_type=DataType.A_UINT32),
        dtcs_raw=[DiagnosticTroubleCode(short_name="crank_sensor", odx_id=oid("DTC.crank"),
                                        trouble_code=0x033500, display_trouble_code="P0335",
                                        text=Text(text=dtc_text))])
    spec.data_object_props.append(speed)
    spec.dtc_dops.append(dtc_dop)
    req = Request(short_name="read_engine_speed_req", odx_id=oid("RQ.speed"),
                  parameters=NamedItemList([const("sid", 0x22, 8, 0), const("did", 0xF40C, 16, 1)]))
    resp = Response(short_name="read_engine_speed_resp", odx_id=oid("PR.speed"),
                    response_type=ResponseType.POSITIVE,
                    parameters=NamedItemList([
                        const("sid", 0x62, 8, 0), const("did", 0xF40C, 16, 1),
                        ValueParameter(short_name="engine_speed", byte_position=3,
                                       dop_ref=OdxLinkRef.from_id(speed.odx_id))]))
    raw.requests.append(req)
    raw.positive_responses.append(resp)
    raw.diag_comms_raw.append(DiagService(
        short_name="read_engine_speed", odx_id=oid("DS.speed"), semantic="DATA",
        request_ref=OdxLinkRef.from_id(req.odx_id),
        pos_response_refs=[OdxLinkRef.from_id(resp.odx_id)]))

    def read_service(did: int, name: str, dop: DataObjectProperty) -> None:
        spec.data_object_props.append(dop)
        rq = Request(short_name=f"read_{name}_req", odx_id=oid(f"RQ.{name}"),
                     parameters=NamedItemList([const("sid", 0x22, 8, 0),
                                               const("did", did, 16, 1)]))
        pr = Response(short_name=f"read_{name}_resp", odx_id=oid(f"PR.{name}"),
                      response_type=ResponseType.POSITIVE,
                      parameters=NamedItemList([
                          const("sid", 0x62, 8, 0), const("did", did, 16, 1),
                          ValueParameter(short_name=name, byte_position=3,
                                         dop_ref=OdxLinkRef.from_id(dop.odx_id))]))
        raw.requests.append(rq)
        raw.positive_responses.append(pr)
        raw.diag_comms_raw.append(DiagService(
            short_name=f"read_{name}", odx_id=oid(f"DS.{name}"), semantic="IDENTIFICATION",
            request_ref=OdxLinkRef.from_id(rq.odx_id),
            pos_response_refs=[OdxLinkRef.from_id(pr.odx_id)]))

    if ecu:
        read_service(0xF1B0, "coolant_temperature", DataObjectProperty(
            short_name="coolant_dop", odx_id=oid("DOP.coolant"), diag_coded_type=u(8),
            physical_type=PhysicalType(base_data_type=DataType.A_FLOAT64),
            compu_method=LinearCompuMethod(
                category=CompuCategory.LINEAR, internal_type=DataType.A_UINT32,
                physical_type=DataType.A_FLOAT64,
                compu_internal_to_phys=CompuInternalToPhys(compu_scales=[CompuScale(
                    compu_rational_coeffs=CompuRationalCoeffs(
                        value_type=DataType.A_FLOAT64, numerators=[-40, 1], denominators=[1]),
                    domain_type=DataType.A_UINT32, range_type=DataType.A_FLOAT64)])),
            unit_ref=OdxLinkRef("somersault.unit.celsius", docs)))
        modes = ["parked", "idle", "running"]
        read_service(0xF1B1, "operating_mode", DataObjectProperty(
            short_name="mode_dop", odx_id=oid("DOP.mode"), diag_coded_type=u(8),
            physical_type=PhysicalType(base_data_type=DataType.A_UNICODE2STRING),
            compu_method=TexttableCompuMethod(
                category=CompuCategory.TEXTTABLE, internal_type=DataType.A_UINT32,
                physical_type=DataType.A_UNICODE2STRING,
                compu_internal_to_phys=CompuInternalToPhys(compu_scales=[CompuScale(
                    lower_limit=Limit(value_raw=str(i), value_type=DataType.A_UINT32),
                    upper_limit=Limit(value_raw=str(i), value_type=DataType.A_UINT32),
                    compu_const=CompuConst(vt=text, data_type=DataType.A_UNICODE2STRING),
                    domain_type=DataType.A_UINT32, range_type=DataType.A_UNICODE2STRING)
                    for i, text in enumerate(modes)]))))
        for variant, mode in (("somersault_lazy", "running"), ("somersault_assiduous", "parked")):
            db.diag_layers[variant].ecu_variant_raw.ecu_variant_patterns.append(
                EcuVariantPattern(matching_parameters=[MatchingParameter(
                    expected_value=mode, diag_comm_snref="read_operating_mode",
                    out_param_if_snref="operating_mode")]))
    if flash:
        add_flash(db)
    db.refresh()
    write_pdx_file(str(out), db)


def add_flash(db: odxtools.database.Database) -> None:
    """ODX-F: session update_app expects HW-A, writes block application (0x8000, 16 bytes)
    and makes the version 1.1.0."""
    docs = (OdxDocFragment(doc_name="test_flash", doc_type=DocType.FLASH),)

    def oid(n: str) -> OdxLinkId:
        return OdxLinkId(f"flash.{n}", docs)

    data = InternFlashdata(short_name="app_data", odx_id=oid("FD.app"),
                           dataformat=Dataformat(selection=DataformatSelection.BINARY),
                           data="00112233" * 4)
    ascii_ = IdentValueType.A_ASCIISTRING
    segment = Segment(short_name="seg0", odx_id=oid("SEG.0"), source_start_address=0x8000,
                      uncompressed_size=16)
    own = OwnIdent(short_name="new_version", odx_id=oid("OI.v"),
                   ident_value=IdentValue(value_raw="1.1.0", value_type=ascii_))
    block = Datablock(short_name="application", odx_id=oid("DB.app"), data_type="CODE",
                      logical_block_index=1, flashdata_ref=OdxLinkRef.from_id(data.odx_id),
                      segments=NamedItemList([segment]), own_idents=NamedItemList([own]))
    expected = ExpectedIdent(short_name="hw", odx_id=oid("EI.hw"),
                             ident_values=[IdentValue(value_raw="HW-A", value_type=ascii_)])
    session = Session(short_name="update_app", odx_id=oid("S.app"),
                      datablock_refs=[OdxLinkRef.from_id(block.odx_id)],
                      expected_idents=NamedItemList([expected]))
    mem = Mem(sessions=NamedItemList([session]), datablocks=NamedItemList([block]),
              flashdatas=NamedItemList([data]))
    ecu_mem = EcuMem(short_name="somersault_mem", odx_id=oid("EM"), mem=mem)
    flash = Flash(short_name="test_flash", odx_id=oid("FLASH"),
                  ecu_mems=NamedItemList([ecu_mem]))
    db._flashs.append(flash)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("odx") / "somersault_dids.pdx"
    build(PDX, out)
    return out


def test_did_and_dtc_reach_the_summary(built: Path) -> None:
    s = load_description(built).summary("somersault_lazy")  # inherited from the base variant
    (did,) = s.dids
    assert (did.did, did.service) == (0xF40C, "read_engine_speed")
    speed = {v.name: v for v in did.values}["engine_speed"]
    assert (speed.compu, speed.factor, speed.offset, speed.bit_length, speed.unit) == (
        "LINEAR", 0.25, 0.0, 16, "s")
    (dtc,) = s.dtcs
    assert (dtc.code, dtc.display, dtc.text) == (
        0x033500, "P0335", "Crankshaft position sensor circuit")


def test_data_descriptions_decode_the_did(built: Path) -> None:
    descriptions = load_description(built).data_descriptions("somersault_lazy")
    d = descriptions.did(0xF40C)
    assert d is not None and (d.size, d.name, d.unit, d.scale) == (2, "engine_speed", "s", 0.25)
    assert d.text(bytes.fromhex("0BB8")) == "750 s"
    assert descriptions.did(0x9000) is None and descriptions.extended_record(1) is None


def test_describe_shows_them(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", str(built)]) == 0
    out = capsys.readouterr().out
    assert "0xF40C read_engine_speed: engine_speed (A_FLOAT64 x0.25+0 s)" in out
    assert "P0335 crank_sensor: Crankshaft position sensor circuit" in out
    assert main(["describe", str(built), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variant"]["dids"][0]["did"] == 0xF40C
    assert doc["variant"]["dtcs"][0]["display"] == "P0335"


def test_description_text_is_shown_without_control_characters(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # an OEM text with a right-to-left override (XML allows it; a terminal obeys it)
    out = tmp_path / "bidi.pdx"
    build(PDX, out, dtc_text="Crank \u202eevil\u202c sensor")
    assert main(["describe", str(out)]) == 0
    text = capsys.readouterr().out
    assert "\u202e" not in text and "Crank \\u202eevil\\u202c sensor" in text


def test_flash_sessions_from_odx_f(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "flash.pdx"
    build(PDX, out, flash=True)
    (session,) = load_description(out).flash_sessions
    assert (session.name, session.ecu_mem) == ("update_app", "somersault_mem")
    assert session.expected_idents == {"hw": ["HW-A"]}
    (block,) = session.blocks
    assert (block.name, block.data_type, block.logical_block_index, block.flashdata) == (
        "application", "CODE", 1, "app_data")
    assert [(x.start, x.size) for x in block.segments] == [(0x8000, 16)]
    assert block.own_idents == {"new_version": "1.1.0"}
    assert main(["describe", str(out)]) == 0
    text = capsys.readouterr().out
    assert "update_app (somersault_mem) expects hw HW-A" in text
    assert "block application (CODE) from app_data: 0x8000+16; becomes new_version 1.1.0" in text
