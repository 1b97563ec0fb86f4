"""A whole new ECU described by one PDX, written with odxtools (no hand-written XML): what a
supplier ships. Identification DIDs, live DIDs with scaling and physical defaults (what the
simulated ECU serves), DTCs with texts, a routine, and an ODX-F container whose session
`update_app` writes a new application. `breakage` writes the broken containers the flash
tests refuse."""

from __future__ import annotations

import hashlib
import io
import zlib
from pathlib import Path

import bincopy
import odxtools
from odxtools.checksum import Checksum
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
from odxtools.datafile import Datafile
from odxtools.dataformat import Dataformat
from odxtools.dataformatselection import DataformatSelection
from odxtools.dataobjectproperty import DataObjectProperty
from odxtools.diagnostictroublecode import DiagnosticTroubleCode
from odxtools.diagservice import DiagService
from odxtools.ecumem import EcuMem
from odxtools.encryptcompressmethod import EncryptCompressMethod
from odxtools.encryptcompressmethodtype import EncryptCompressMethodType
from odxtools.expectedident import ExpectedIdent
from odxtools.externflashdata import ExternFlashdata
from odxtools.flash import Flash
from odxtools.identvalue import IdentValue
from odxtools.identvaluetype import IdentValueType
from odxtools.mem import Mem
from odxtools.nameditemlist import NamedItemList
from odxtools.odxlink import DocType, OdxDocFragment, OdxLinkId, OdxLinkRef
from odxtools.odxtypes import DataType
from odxtools.ownident import OwnIdent
from odxtools.parameters.valueparameter import ValueParameter
from odxtools.physicaltype import PhysicalType
from odxtools.physmem import PhysMem
from odxtools.request import Request
from odxtools.response import Response, ResponseType
from odxtools.security import Security
from odxtools.segment import Segment
from odxtools.session import Session
from odxtools.sessionsubelemtype import SessionSubElemType
from odxtools.sizedefphyssegment import SizedefPhysSegment
from odxtools.text import Text
from odxtools.unit import Unit
from odxtools.validityfor import ValidityFor
from odxtools.writepdxfile import write_pdx_file

from tests.vehicles.odx_builders import PDX, add_read_service, build_db, const, ids, uint
from workshop.packages.compression import compress
from workshop.packages.descriptor import embed_descriptor
from workshop.packages.firmware import generate_image

APP_START, APP_MEMORY = 0x8000, 0x8000  # the ECU-MEM's one physical segment
IDENT = {0xF187: ("spare_part_number", "SAULT-NEW-1"), 0xF189: ("software_version", "1.0.0"),
         0xF191: ("hardware_part_number", "HW-A")}
ROUTINE = 0x0210  # check_injectors (0x0203 is the simulator's own self-test)
MEASURE = 0x0211  # measure_injector: cylinder 1..4 -> flow_rate (x0.1 mg), result (text)
RESET = 0x0212    # reset_adaptations: its answer has no default, the simulated ECU refuses it
BREAKAGES = ("missing_block", "outside", "dotdot_datafile", "unknown_datafile", "bad_checksum")


def new_image(version: str = "1.1.0", security_version: int = 2) -> bytes:
    """The application the supplier's container carries (with the version descriptor the
    simulated bootloader reads back)."""
    return embed_descriptor(generate_image(f"sault:{version}", 6000), version, security_version)


def build_new_ecu(out: Path, *, image: bytes | None = None, encoded: bool = False,
                  breakage: str | None = None, hardware: str = "HW-A",
                  data_format: str = "BINARY") -> bytes:
    """Write the PDX; returns the plain application image its ODX-F carries (as a binary
    file, or as an INTEL-HEX / MOTOROLA-S file with `data_format`)."""
    assert breakage in (None, *BREAKAGES)
    image = new_image() if image is None else image
    db = build_db(PDX, ecu=True, defaults=True)
    _identification(db)
    _dtcs(db)
    _routine(db)
    _measure_routine(db)
    _flash(db, image, encoded, breakage, hardware, DataformatSelection(data_format))
    if breakage != "missing_block":  # a link odxtools cannot resolve: written unresolved
        db.refresh()
    write_pdx_file(str(out), db)
    return image


def _identification(db: odxtools.database.Database) -> None:
    _, oid = ids(db)
    for did, (name, value) in IDENT.items():
        add_read_service(db, did, name, DataObjectProperty(
            short_name=f"{name}_dop", odx_id=oid(f"DOP.{name}"),
            diag_coded_type=uint(8 * len(value), ascii_=True),
            physical_type=PhysicalType(base_data_type=DataType.A_UNICODE2STRING),
            compu_method=IdenticalCompuMethod(category=CompuCategory.IDENTICAL,
                                              internal_type=DataType.A_ASCIISTRING,
                                              physical_type=DataType.A_UNICODE2STRING)),
            default=value)


def _dtcs(db: odxtools.database.Database) -> None:
    raw, oid = ids(db)
    (dop,) = raw.diag_data_dictionary_spec.dtc_dops
    dop.dtcs_raw.append(DiagnosticTroubleCode(
        short_name="coolant_sensor", odx_id=oid("DTC.coolant"), trouble_code=0x011500,
        display_trouble_code="P0115", text=Text(text="Engine coolant temperature circuit")))


def _routine(db: odxtools.database.Database) -> None:
    raw, oid = ids(db)
    status = DataObjectProperty(
        short_name="routine_status_dop", odx_id=oid("DOP.routine_status"),
        diag_coded_type=uint(8), physical_type=PhysicalType(base_data_type=DataType.A_UINT32),
        compu_method=IdenticalCompuMethod(category=CompuCategory.IDENTICAL,
                                          internal_type=DataType.A_UINT32,
                                          physical_type=DataType.A_UINT32))
    raw.diag_data_dictionary_spec.data_object_props.append(status)
    rq = Request(short_name="check_injectors_req", odx_id=oid("RQ.inj"),
                 parameters=NamedItemList([const("sid", 0x31, 8, 0), const("kind", 1, 8, 1),
                                           const("rid", ROUTINE, 16, 2)]))
    pr = Response(short_name="check_injectors_resp", odx_id=oid("PR.inj"),
                  response_type=ResponseType.POSITIVE,
                  parameters=NamedItemList([
                      const("sid", 0x71, 8, 0), const("kind", 1, 8, 1),
                      const("rid", ROUTINE, 16, 2),
                      ValueParameter(short_name="status", byte_position=4,
                                     dop_ref=OdxLinkRef.from_id(status.odx_id),
                                     physical_default_value_raw="0")]))
    raw.requests.append(rq)
    raw.positive_responses.append(pr)
    raw.diag_comms_raw.append(DiagService(
        short_name="check_injectors", odx_id=oid("DS.inj"), semantic="ROUTINE",
        request_ref=OdxLinkRef.from_id(rq.odx_id),
        pos_response_refs=[OdxLinkRef.from_id(pr.odx_id)]))


def _measure_routine(db: odxtools.database.Database) -> None:
    """Two routines with parameters: measure_injector (cylinder in, flow rate with its unit
    and a result word out, served by the simulated ECU from the defaults) and
    reset_adaptations (its answer has no default: the simulated ECU does not serve it)."""
    raw, oid = ids(db)
    spec = raw.diag_data_dictionary_spec
    mg = Unit(short_name="mg", odx_id=oid("UNIT.mg"), display_name="mg")
    spec.unit_spec.units.append(mg)
    cylinder = DataObjectProperty(
        short_name="cylinder_dop", odx_id=oid("DOP.cylinder"), diag_coded_type=uint(8),
        physical_type=PhysicalType(base_data_type=DataType.A_UINT32),
        compu_method=LinearCompuMethod(
            category=CompuCategory.LINEAR, internal_type=DataType.A_UINT32,
            physical_type=DataType.A_UINT32,
            compu_internal_to_phys=CompuInternalToPhys(compu_scales=[CompuScale(
                lower_limit=Limit(value_raw="1", value_type=DataType.A_UINT32),
                upper_limit=Limit(value_raw="4", value_type=DataType.A_UINT32),
                compu_rational_coeffs=CompuRationalCoeffs(
                    value_type=DataType.A_UINT32, numerators=[0, 1], denominators=[1]),
                domain_type=DataType.A_UINT32, range_type=DataType.A_UINT32)])))
    flow = DataObjectProperty(
        short_name="flow_dop", odx_id=oid("DOP.flow"), diag_coded_type=uint(16),
        physical_type=PhysicalType(base_data_type=DataType.A_FLOAT64),
        compu_method=LinearCompuMethod(
            category=CompuCategory.LINEAR, internal_type=DataType.A_UINT32,
            physical_type=DataType.A_FLOAT64,
            compu_internal_to_phys=CompuInternalToPhys(compu_scales=[CompuScale(
                compu_rational_coeffs=CompuRationalCoeffs(
                    value_type=DataType.A_FLOAT64, numerators=[0, 0.1], denominators=[1]),
                domain_type=DataType.A_UINT32, range_type=DataType.A_FLOAT64)])),
        unit_ref=OdxLinkRef.from_id(mg.odx_id))
    result = DataObjectProperty(
        short_name="result_dop", odx_id=oid("DOP.result"), diag_coded_type=uint(8),
        physical_type=PhysicalType(base_data_type=DataType.A_UNICODE2STRING),
        compu_method=TexttableCompuMethod(
            category=CompuCategory.TEXTTABLE, internal_type=DataType.A_UINT32,
            physical_type=DataType.A_UNICODE2STRING,
            compu_internal_to_phys=CompuInternalToPhys(compu_scales=[CompuScale(
                lower_limit=Limit(value_raw=str(i), value_type=DataType.A_UINT32),
                upper_limit=Limit(value_raw=str(i), value_type=DataType.A_UINT32),
                compu_const=CompuConst(vt=text, data_type=DataType.A_UNICODE2STRING),
                domain_type=DataType.A_UINT32, range_type=DataType.A_UNICODE2STRING)
                for i, text in enumerate(["within limits", "too low", "too high"])])))
    spec.data_object_props.extend([cylinder, flow, result])

    def value(name: str, pos: int, dop: DataObjectProperty,
              default: str | None = None) -> ValueParameter:
        return ValueParameter(short_name=name, byte_position=pos,
                              dop_ref=OdxLinkRef.from_id(dop.odx_id),
                              physical_default_value_raw=default)
    for name, rid, outs in (
            ("measure_injector", MEASURE, [value("flow_rate", 4, flow, "12.5"),
                                           value("result", 6, result, "within limits")]),
            ("reset_adaptations", RESET, [value("result", 4, result)])):
        ins = [value("cylinder", 4, cylinder)] if rid == MEASURE else []
        rq = Request(short_name=f"{name}_req", odx_id=oid(f"RQ.{name}"),
                     parameters=NamedItemList([const("sid", 0x31, 8, 0), const("kind", 1, 8, 1),
                                               const("rid", rid, 16, 2), *ins]))
        pr = Response(short_name=f"{name}_resp", odx_id=oid(f"PR.{name}"),
                      response_type=ResponseType.POSITIVE,
                      parameters=NamedItemList([const("sid", 0x71, 8, 0), const("kind", 1, 8, 1),
                                                const("rid", rid, 16, 2), *outs]))
        raw.requests.append(rq)
        raw.positive_responses.append(pr)
        raw.diag_comms_raw.append(DiagService(
            short_name=name, odx_id=oid(f"DS.{name}"), semantic="ROUTINE",
            request_ref=OdxLinkRef.from_id(rq.odx_id),
            pos_response_refs=[OdxLinkRef.from_id(pr.odx_id)]))


def _flash(db: odxtools.database.Database, image: bytes, encoded: bool,
           breakage: str | None, hardware: str, selection: DataformatSelection) -> None:
    docs = (OdxDocFragment(doc_name="sault_flash", doc_type=DocType.FLASH),)

    def oid(n: str) -> OdxLinkId:
        return OdxLinkId(f"sault_flash.{n}", docs)

    ascii_ = IdentValueType.A_ASCIISTRING
    payload = compress(image) if encoded else image
    if selection != DataformatSelection.BINARY:
        records = bincopy.BinFile()
        records.add_binary(image, address=APP_START)
        text = records.as_ihex() if selection == DataformatSelection.INTEL_HEX else \
            records.as_srec()
        payload = text.encode("ascii")
    datafile = {"dotdot_datafile": "../app.bin", "unknown_datafile": "other.bin"}.get(
        breakage or "", "app.bin")
    db.add_auxiliary_file("app.bin", io.BytesIO(payload))
    data = ExternFlashdata(
        short_name="app_data", odx_id=oid("FD.app"),
        dataformat=Dataformat(selection=selection),
        encrypt_compress_method=(EncryptCompressMethod(
            value_raw="10", value_type=EncryptCompressMethodType.A_BYTEFIELD)
            if encoded else None),
        datafile=Datafile(value=datafile, latebound_datafile=False))
    start = 0x20000 if breakage == "outside" else APP_START
    segment = Segment(short_name="seg0", odx_id=oid("SEG.0"), source_start_address=start,
                      uncompressed_size=len(image),
                      compressed_size=len(payload) if encoded else None)
    securities = [Security(
        security_method=ValidityFor(value_raw="0x11", value_type=SessionSubElemType.A_UINT32),
        fw_checksum=ValidityFor(value_raw=hashlib.sha256(image).hexdigest(),
                                value_type=SessionSubElemType.A_BYTEFIELD))]
    block = Datablock(
        short_name="application", odx_id=oid("DB.app"), data_type="CODE",
        logical_block_index=1, flashdata_ref=OdxLinkRef.from_id(data.odx_id),
        segments=NamedItemList([segment]), securities=securities,
        own_idents=NamedItemList([
            OwnIdent(short_name="software_version", odx_id=oid("OI.v"),
                     ident_value=IdentValue(value_raw="1.1.0", value_type=ascii_)),
            OwnIdent(short_name="security_version", odx_id=oid("OI.sv"),
                     ident_value=IdentValue(value_raw="2", value_type=ascii_))]))
    crc = zlib.crc32(image) ^ (breakage == "bad_checksum")  # one bit off: not this data
    checksum = Checksum(
        short_name="crc", odx_id=oid("CS.app"), checksum_alg="CRC32",
        source_start_address=start, source_end_address=start + len(image) - 1,
        checksum_result=ValidityFor(value_raw=f"{crc:08X}",
                                    value_type=SessionSubElemType.A_BYTEFIELD))
    block_ref = (OdxLinkRef("sault_flash.DB.nowhere", docs) if breakage == "missing_block"
                 else OdxLinkRef.from_id(block.odx_id))
    session = Session(
        short_name="update_app", odx_id=oid("S.app"), datablock_refs=[block_ref],
        checksums=NamedItemList([checksum]), securities=securities,
        expected_idents=NamedItemList([
            ExpectedIdent(short_name="hardware_part_number", odx_id=oid("EI.hw"),
                          ident_values=[IdentValue(value_raw=hardware, value_type=ascii_)]),
            ExpectedIdent(short_name="software_version", odx_id=oid("EI.sw"),
                          ident_values=[IdentValue(value_raw="1.0.0", value_type=ascii_)])]))
    phys = PhysMem(short_name="sault_phys", odx_id=oid("PM"), phys_segments=NamedItemList([
        SizedefPhysSegment(short_name="application_flash", odx_id=oid("PS.app"),
                           start_address=APP_START, size=APP_MEMORY, block_size=0x1000)]))
    mem = Mem(sessions=NamedItemList([session]), datablocks=NamedItemList([block]),
              flashdatas=NamedItemList([data]))
    db._flashs.append(Flash(short_name="sault_flash", odx_id=oid("FLASH"),
                            ecu_mems=NamedItemList([EcuMem(short_name="sault_mem",
                                                           odx_id=oid("EM"), mem=mem,
                                                           phys_mem=phys)])))
