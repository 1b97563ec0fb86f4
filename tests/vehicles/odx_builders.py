"""Builders that write ODX/PDX descriptions with odxtools itself (no hand-written XML),
onto odxtools' somersault example: DIDs with scaling, DTCs with texts, variant
patterns, ODX-F flash data. Shared by the description, simulator and flash tests."""


from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import odxtools
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

PDX = Path(__file__).parent.parent / "data" / "odxtools_somersault.pdx"


def build(source: Path, out: Path, **options: Any) -> None:
    """build_db(source, **options) written to `out` as a PDX."""
    write_pdx_file(str(out), build_db(source, **options))


def ids(db: odxtools.database.Database) -> tuple[Any, Callable[[str], OdxLinkId]]:
    """The base variant's raw layer and a maker of ids in its document."""
    base = db.diag_layers.somersault_base_variant
    docs = base.odx_id.doc_fragments
    return base.diag_layer_raw, lambda name: OdxLinkId(f"test.{name}", docs)


def uint(bits: int, signed: bool = False, *, ascii_: bool = False) -> StandardLengthType:
    kind = (DataType.A_ASCIISTRING if ascii_ else DataType.A_INT32 if signed
            else DataType.A_UINT32)
    return StandardLengthType(base_data_type=kind, bit_length=bits)


def const(name: str, value: int, bits: int, pos: int) -> CodedConstParameter:
    return CodedConstParameter(short_name=name, coded_value_raw=str(value),
                               diag_coded_type=uint(bits), byte_position=pos)


def add_read_service(db: odxtools.database.Database, did: int, name: str,
                     dop: DataObjectProperty, semantic: str = "IDENTIFICATION",
                     default: str | None = None) -> None:
    """A 0x22 service for `did` answering one value `name` of `dop` (with a physical default
    value, which a simulated ECU serves)."""
    raw, oid = ids(db)
    raw.diag_data_dictionary_spec.data_object_props.append(dop)
    rq = Request(short_name=f"read_{name}_req", odx_id=oid(f"RQ.{name}"),
                 parameters=NamedItemList([const("sid", 0x22, 8, 0), const("did", did, 16, 1)]))
    pr = Response(short_name=f"read_{name}_resp", odx_id=oid(f"PR.{name}"),
                  response_type=ResponseType.POSITIVE,
                  parameters=NamedItemList([
                      const("sid", 0x62, 8, 0), const("did", did, 16, 1),
                      ValueParameter(short_name=name, byte_position=3,
                                     dop_ref=OdxLinkRef.from_id(dop.odx_id),
                                     physical_default_value_raw=default)]))
    raw.requests.append(rq)
    raw.positive_responses.append(pr)
    raw.diag_comms_raw.append(DiagService(
        short_name=f"read_{name}", odx_id=oid(f"DS.{name}"), semantic=semantic,
        request_ref=OdxLinkRef.from_id(rq.odx_id),
        pos_response_refs=[OdxLinkRef.from_id(pr.odx_id)]))


def add_extended_record(db: odxtools.database.Database, record: int, name: str,
                        dop: DataObjectProperty, dtc_dop: Any) -> None:
    """A 0x19 06 service reading extended data record `record` of one DTC, its answer's data
    one value `name` of `dop` (what odx_extended reads as the record's description)."""
    raw, oid = ids(db)
    spec = raw.diag_data_dictionary_spec
    spec.data_object_props.append(dop)
    status = DataObjectProperty(
        short_name=f"{name}_status_dop", odx_id=oid(f"DOP.{name}_status"),
        diag_coded_type=uint(8), physical_type=PhysicalType(base_data_type=DataType.A_UINT32),
        compu_method=IdenticalCompuMethod(category=CompuCategory.IDENTICAL,
                                          internal_type=DataType.A_UINT32,
                                          physical_type=DataType.A_UINT32))
    spec.data_object_props.append(status)

    def dtc(pos: int) -> ValueParameter:
        return ValueParameter(short_name="dtc", byte_position=pos,
                              dop_ref=OdxLinkRef.from_id(dtc_dop.odx_id))
    rq = Request(short_name=f"read_{name}_req", odx_id=oid(f"RQ.{name}"),
                 parameters=NamedItemList([const("sid", 0x19, 8, 0), const("sub", 6, 8, 1),
                                           dtc(2), const("record", record, 8, 5)]))
    pr = Response(short_name=f"read_{name}_resp", odx_id=oid(f"PR.{name}"),
                  response_type=ResponseType.POSITIVE,
                  parameters=NamedItemList([
                      const("sid", 0x59, 8, 0), const("sub", 6, 8, 1), dtc(2),
                      ValueParameter(short_name="status", byte_position=5,
                                     dop_ref=OdxLinkRef.from_id(status.odx_id)),
                      const("record", record, 8, 6),
                      ValueParameter(short_name=name, byte_position=7,
                                     dop_ref=OdxLinkRef.from_id(dop.odx_id))]))
    raw.requests.append(rq)
    raw.positive_responses.append(pr)
    raw.diag_comms_raw.append(DiagService(
        short_name=f"read_{name}", odx_id=oid(f"DS.{name}"), semantic="FAULTREAD",
        request_ref=OdxLinkRef.from_id(rq.odx_id),
        pos_response_refs=[OdxLinkRef.from_id(pr.odx_id)]))


def build_db(source: Path, *, dtc_text: str = "Crankshaft position sensor circuit",
             flash: bool = False, ecu: bool = False,
             defaults: bool = False) -> odxtools.database.Database:
    """somersault + DID 0xF40C engine_speed (16 bit, x0.25, unit s) + DTC P0335; with `ecu`
    engine_speed in rpm and identification DIDs 0xF1B0 coolant_temperature (8 bit, raw - 40,
    unit °C) and 0xF1B1 operating_mode (text table parked/idle/running), and
    ECU-VARIANT-PATTERNs on 0xF1B1: somersault_lazy answers "running", somersault_assiduous
    "parked", and DTC extended data records 0x01 occurrence_counter (8 bit) and 0x10
    odometer_at_first_failure (16 bit, x10 km). With `defaults` the values carry physical
    defaults a simulated ECU serves: 3000 rpm, 50 °C, running."""
    db = odxtools.load_pdx_file(str(source))
    base = db.diag_layers.somersault_base_variant
    raw = base.diag_layer_raw
    docs = base.odx_id.doc_fragments

    def oid(name: str) -> OdxLinkId:
        return OdxLinkId(f"test.{name}", docs)

    speed = DataObjectProperty(
        short_name="engine_speed_dop", odx_id=oid("DOP.engine_speed"),
        diag_coded_type=uint(16), physical_type=PhysicalType(base_data_type=DataType.A_FLOAT64),
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
        short_name="test_dtcs", odx_id=oid("DOP.dtcs"), diag_coded_type=uint(24),
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
                                       dop_ref=OdxLinkRef.from_id(speed.odx_id),
                                       physical_default_value_raw="3000" if defaults else None)]))
    raw.requests.append(req)
    raw.positive_responses.append(resp)
    raw.diag_comms_raw.append(DiagService(
        short_name="read_engine_speed", odx_id=oid("DS.speed"), semantic="DATA",
        request_ref=OdxLinkRef.from_id(req.odx_id),
        pos_response_refs=[OdxLinkRef.from_id(resp.odx_id)]))

    if ecu:
        add_read_service(db, 0xF1B0, "coolant_temperature", DataObjectProperty(
            short_name="coolant_dop", odx_id=oid("DOP.coolant"), diag_coded_type=uint(8),
            physical_type=PhysicalType(base_data_type=DataType.A_FLOAT64),
            compu_method=LinearCompuMethod(
                category=CompuCategory.LINEAR, internal_type=DataType.A_UINT32,
                physical_type=DataType.A_FLOAT64,
                compu_internal_to_phys=CompuInternalToPhys(compu_scales=[CompuScale(
                    compu_rational_coeffs=CompuRationalCoeffs(
                        value_type=DataType.A_FLOAT64, numerators=[-40, 1], denominators=[1]),
                    domain_type=DataType.A_UINT32, range_type=DataType.A_FLOAT64)])),
            unit_ref=OdxLinkRef("somersault.unit.celsius", docs)),
            default="50" if defaults else None)
        modes = ["parked", "idle", "running"]
        add_read_service(db, 0xF1B1, "operating_mode", DataObjectProperty(
            short_name="mode_dop", odx_id=oid("DOP.mode"), diag_coded_type=uint(8),
            physical_type=PhysicalType(base_data_type=DataType.A_UNICODE2STRING),
            compu_method=TexttableCompuMethod(
                category=CompuCategory.TEXTTABLE, internal_type=DataType.A_UINT32,
                physical_type=DataType.A_UNICODE2STRING,
                compu_internal_to_phys=CompuInternalToPhys(compu_scales=[CompuScale(
                    lower_limit=Limit(value_raw=str(i), value_type=DataType.A_UINT32),
                    upper_limit=Limit(value_raw=str(i), value_type=DataType.A_UINT32),
                    compu_const=CompuConst(vt=text, data_type=DataType.A_UNICODE2STRING),
                    domain_type=DataType.A_UINT32, range_type=DataType.A_UNICODE2STRING)
                    for i, text in enumerate(modes)]))),
            default="running" if defaults else None)
        km = Unit(short_name="km", odx_id=oid("UNIT.km"), display_name="km")
        spec.unit_spec.units.append(km)
        add_extended_record(db, 0x01, "occurrence_counter", DataObjectProperty(
            short_name="occurrences_dop", odx_id=oid("DOP.occurrences"), diag_coded_type=uint(8),
            physical_type=PhysicalType(base_data_type=DataType.A_UINT32),
            compu_method=IdenticalCompuMethod(category=CompuCategory.IDENTICAL,
                                              internal_type=DataType.A_UINT32,
                                              physical_type=DataType.A_UINT32)), dtc_dop)
        add_extended_record(db, 0x10, "odometer_at_first_failure", DataObjectProperty(
            short_name="odometer_dop", odx_id=oid("DOP.odometer"), diag_coded_type=uint(16),
            physical_type=PhysicalType(base_data_type=DataType.A_FLOAT64),
            compu_method=LinearCompuMethod(
                category=CompuCategory.LINEAR, internal_type=DataType.A_UINT32,
                physical_type=DataType.A_FLOAT64,
                compu_internal_to_phys=CompuInternalToPhys(compu_scales=[CompuScale(
                    compu_rational_coeffs=CompuRationalCoeffs(
                        value_type=DataType.A_FLOAT64, numerators=[0, 10], denominators=[1]),
                    domain_type=DataType.A_UINT32, range_type=DataType.A_FLOAT64)])),
            unit_ref=OdxLinkRef.from_id(km.odx_id)), dtc_dop)
        for variant, mode in (("somersault_lazy", "running"), ("somersault_assiduous", "parked")):
            db.diag_layers[variant].ecu_variant_raw.ecu_variant_patterns.append(
                EcuVariantPattern(matching_parameters=[MatchingParameter(
                    expected_value=mode, diag_comm_snref="read_operating_mode",
                    out_param_if_snref="operating_mode")]))
    if flash:
        add_flash(db)
    db.refresh()
    return db


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


