"""The OEM's descriptions (ODX, ISO 22901, in PDX containers) as a source beside the TOML
definition: read with odxtools, reduced to plain data the tool uses.

`load_description(path)` reads a .pdx or .odx* file whole; a file odxtools cannot read is
refused as a ConfigError naming the file and odxtools' reason (nothing half-loaded is kept).
`Description.summary(variant)` gives what `workshop describe` shows for one variant: its
communication parameters, DIDs (ReadDataByIdentifier services) with data types, units and
scaling, DTCs with texts, routines, sessions and security levels; `Description.flash_sessions`
the ODX-F sessions with their blocks and segments; `Description.data_descriptions(variant)`
the DIDs and DTC extended data records (odx_extended) as the `DataDescriptions` DTC details
decode with.

Data only: no transport, nothing is sent to an ECU here.
"""

from __future__ import annotations

import io
import logging
import stat
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workshop.foundation.errors import ConfigError
from workshop.vehicles.data_ids import DataDescription, TableDescriptions
from workshop.vehicles.odx_extended import extended_records
from workshop.vehicles.odx_flash import FlashSession, flash_sessions

log = logging.getLogger(__name__)

ODX_SUFFIXES = (".pdx", ".odx", ".odx-d", ".odx-c", ".odx-cs", ".odx-f")

# A PDX is read whole into memory, its XML parsed whole: beyond these sizes (on disk, and
# unpacked as its zip directory declares, which zipfile holds each member to) it is refused
# before odxtools starts, so a zip bomb costs nothing. OEM PDX with flash data reach 100s of MB.
MAX_PDX_BYTES = 1 << 30
MAX_UNPACKED_BYTES = 4 << 30

# UDS service ids this summary sorts services by (ISO 14229-1)
_SID_SESSION = 0x10
_SID_SECURITY = 0x27
_SID_READ_DID = 0x22
_SID_ROUTINE = 0x31

# ISO 22900-2 communication parameters the tool has a setting for: name -> (our name, factor
# from the ODX unit; times in ODX are microseconds)
TIMING_COMPARAMS = {
    "CP_Baudrate": ("bitrate", 1),
    "CP_P2Max": ("p2_ms", 0.001),
    "CP_P2Star": ("p2_star_ms", 0.001),
    "CP_BlockSize": ("block_size", 1),
    "CP_STmin": ("stmin_us", 1),
    "CP_TesterPresentTime": ("tester_present_ms", 0.001),
    "CP_RC21CompletionTimeout": ("rc21_timeout_ms", 0.001),
    "CP_RC78CompletionTimeout": ("rc78_timeout_ms", 0.001),
}


@dataclass(frozen=True)
class Value:
    """One parameter of a request or response: what its bytes are and how to scale them."""

    name: str
    coded_type: str = ""        # A_UINT32, A_ASCIISTRING, ...
    bit_length: int | None = None
    physical_type: str = ""     # A_FLOAT64, A_UNICODE2STRING, ...
    compu: str = ""             # IDENTICAL, LINEAR, TEXTTABLE, ...
    factor: float | None = None  # LINEAR: physical = (offset + factor * raw) / denominator
    offset: float | None = None
    denominator: float | None = None
    unit: str = ""
    texts: dict[str, str] = field(default_factory=dict)  # TEXTTABLE: raw -> text


@dataclass(frozen=True)
class Service:
    name: str
    semantic: str
    request_prefix: str          # the request's constant bytes (hex), e.g. "2200f1" or "1003"
    request: list[Value] = field(default_factory=list)
    response: list[Value] = field(default_factory=list)


@dataclass(frozen=True)
class Did:
    did: int
    service: str
    values: list[Value]


@dataclass(frozen=True)
class Dtc:
    code: int
    display: str
    name: str
    text: str


@dataclass(frozen=True)
class VariantSummary:
    """What the tool takes from one diagnostic layer (ECU variant, base variant, ...)."""

    name: str
    kind: str                             # ECU-VARIANT, BASE-VARIANT, PROTOCOL, ...
    comparams: dict[str, Any]           # every one, as the description gives it
    timing: dict[str, float]              # the TIMING_COMPARAMS present, in our units
    can_request_id: int | None
    can_response_id: int | None
    dids: list[Did]
    dtcs: list[Dtc]
    routines: list[Service]
    sessions: list[Service]
    security: list[Service]
    services: list[Service]               # every service, the above included
    state_charts: dict[str, list[str]]    # semantic/name -> states (e.g. SESSION, SECURITY)
    extended: dict[int, list[Value]] = field(default_factory=dict)  # DTC extended data records

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Description:
    """A loaded ODX/PDX description, every layer already summarised (a layer that cannot
    be summarised refuses the whole file). `variants` names its diagnostic layers; the ECU
    variants come first (they are what a vehicle's ECU is)."""

    path: Path
    database: Any = field(repr=False)   # odxtools.database.Database (for decoding, later)
    variants: list[str]
    summaries: dict[str, VariantSummary] = field(repr=False)
    flash_sessions: list[FlashSession] = field(default_factory=list)  # ODX-F, all ECU-MEMs

    def summary(self, variant: str | None = None) -> VariantSummary:
        """The summary of `variant` (default: the first ECU variant, else the first layer).
        Raises ConfigError for a variant the description does not have."""
        if variant is None:
            if not self.variants:
                raise ConfigError(f"{self.path.name}: the description has no diagnostic layers",
                                  hint="check that this is the ECU's ODX/PDX file")
            variant = self.variants[0]
        if variant not in self.summaries:
            raise ConfigError(f"{self.path.name}: no variant {variant!r}",
                              hint=f"choose one of: {', '.join(self.variants)}")
        return self.summaries[variant]

    def data_descriptions(self, variant: str | None = None) -> TableDescriptions:
        """The variant's DIDs as the `DataDescriptions` that DTC details and identification
        decode with: each DID whose answer is one whole-byte integer, scaled identically or
        linearly or named by a text table, or one ASCII text. Other DIDs (several values,
        floats) are left out for now."""
        summary = self.summary(variant)
        dids: dict[int, DataDescription] = {}
        for d in summary.dids:
            one = _data_description(d)
            if one is not None:
                dids[d.did] = one
        extended: dict[int, DataDescription] = {}
        for record, values in summary.extended.items():
            one = _data_description(Did(record, "", values))
            if one is not None:
                extended[record] = one
        return TableDescriptions(dids=dids, extended=extended)

    def patterned(self) -> list[str]:
        """The ECU variants that say how to recognise them (ECU-VARIANT-PATTERNs)."""
        from odxtools.diaglayers.ecuvariant import EcuVariant

        return [dl.short_name for dl in self.database.diag_layers
                if isinstance(dl, EcuVariant) and dl.ecu_variant_patterns]

    def identify(self, ask: Callable[[bytes], bytes]) -> str | None:
        """The ECU variant whose ECU-VARIANT-PATTERNs the ECU's answers match, by odxtools'
        VariantMatcher (ISO 22901-1); `ask(request)` sends one request as the description
        encodes it and returns the ECU's whole answer (a negative one included). None: no
        variant's pattern matches."""
        from odxtools.diaglayers.ecuvariant import EcuVariant
        from odxtools.variantmatcher import VariantMatcher

        candidates = [dl for dl in self.database.diag_layers if isinstance(dl, EcuVariant)]
        # without its cache: odxtools 11.7 looks a bytearray up in it (unhashable)
        matcher = VariantMatcher(candidates, use_cache=False)
        with warnings.catch_warnings():  # a pattern not matching is no news
            warnings.simplefilter("ignore")
            for _physical, request in matcher.request_loop():
                matcher.evaluate(ask(request))
        found = matcher.matching_variant if matcher.has_match() else None
        return None if found is None else str(found.short_name)


def _data_description(did: Did) -> DataDescription | None:
    values = [v for v in did.values if v.compu]  # constants (SID, DID) have no compu method
    if len(values) != 1:
        return None
    v = values[0]
    whole = v.bit_length is not None and not v.bit_length % 8 and 8 <= v.bit_length <= 64
    size = (v.bit_length or 0) // 8 if whole else 0
    if v.coded_type == "A_ASCIISTRING" and v.compu == "IDENTICAL":
        return DataDescription(size=size, name=v.name, encoding="ascii")
    if v.coded_type not in ("A_UINT32", "A_INT32") or not whole:
        return None
    signed = v.coded_type == "A_INT32"
    if v.compu == "TEXTTABLE" and v.texts:
        try:
            texts = tuple(sorted((int(float(k)), t) for k, t in v.texts.items()))
        except ValueError:
            return None
        return DataDescription(size=size, name=v.name, signed=signed, texts=texts)
    if v.compu not in ("IDENTICAL", "LINEAR"):
        return None
    scale, offset = 1.0, 0.0
    if v.compu == "LINEAR":
        denominator = v.denominator or 1.0
        scale, offset = (v.factor or 0.0) / denominator, (v.offset or 0.0) / denominator
    return DataDescription(size=size, name=v.name, unit=v.unit, scale=scale,
                           offset=offset, signed=signed)


def load_description(path: str | Path) -> Description:
    """Read an ODX/PDX file whole with odxtools. Raises ConfigError naming the file and
    odxtools' reason when it cannot be read."""
    path = Path(path)
    if path.suffix.lower() not in ODX_SUFFIXES:
        raise ConfigError(f"{path.name}: not an ODX/PDX file (suffix {path.suffix or 'none'})",
                          hint=f"give a file ending in {', '.join(ODX_SUFFIXES)}")
    if not path.is_file():
        raise ConfigError(f"{path}: no such file", hint="check the path")
    try:
        import odxtools
        import odxtools.database
    except ImportError as exc:  # pragma: no cover - odxtools is a dependency
        raise ConfigError("reading ODX/PDX needs odxtools, which is not installed",
                          hint="pip install odxtools") from exc
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if path.suffix.lower() == ".pdx":
                # the container read whole into memory: one snapshot of the file, and no
                # file left open by the members odxtools keeps (flash data, job code)
                container = zipfile.ZipFile(io.BytesIO(_read_limited(path)))
                _check_unpacked_size(path, container)
                database = odxtools.database.Database()
                database.add_pdx_file(container)
                database.refresh()
            else:
                database = odxtools.load_odx_file(path)
            layers = list(database.diag_layers)
    except ConfigError:
        raise
    except Exception as exc:  # zip, XML, link resolution: odxtools' reason, in words
        raise ConfigError(f"{path.name}: odxtools cannot read it: "
                          f"{type(exc).__name__}: {exc}"[:500],
                          hint="check that the file is a complete, unmodified ODX/PDX "
                          "description from the ECU's supplier") from exc
    order = {"ECU-VARIANT": 0, "BASE-VARIANT": 1, "ECU-SHARED-DATA": 2, "FUNCTIONAL-GROUP": 3,
             "PROTOCOL": 4}
    layers.sort(key=lambda dl: order.get(_kind(dl), 5))
    summaries: dict[str, VariantSummary] = {}
    for layer in layers:
        try:
            with warnings.catch_warnings(record=True) as more:
                warnings.simplefilter("always")
                summaries[layer.short_name] = _summarise(layer)
        except Exception as exc:  # odxtools raises many kinds on inconsistent data
            raise ConfigError(f"{path.name}: odxtools cannot read layer {layer.short_name!r}: "
                              f"{type(exc).__name__}: {exc}"[:500],
                              hint="the description is inconsistent; ask its author for a "
                              "corrected file") from exc
        caught.extend(more)
    try:
        flash = flash_sessions(database)
    except Exception as exc:
        raise ConfigError(f"{path.name}: odxtools cannot read its flash data: "
                          f"{type(exc).__name__}: {exc}"[:500],
                          hint="the description is inconsistent; ask its author for a "
                          "corrected file") from exc
    for w in caught:
        if issubclass(w.category, ResourceWarning):  # the garbage collector's, not odxtools'
            continue
        log.warning("%s: odxtools: %s", path.name, w.message)
    return Description(path=path, database=database, variants=list(summaries),
                       summaries=summaries, flash_sessions=flash)


def _read_limited(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_PDX_BYTES:
        raise ConfigError(f"{path.name}: {size} bytes, more than the {MAX_PDX_BYTES} a PDX may "
                          "have here", hint="check that this is the ECU's description")
    return path.read_bytes()


def _check_unpacked_size(path: Path, container: zipfile.ZipFile) -> None:
    for item in container.infolist():
        # odxtools reads members in memory (nothing is written), but a name that climbs out
        # of the container is no supplier's: refuse the file rather than guess
        name = item.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/") or ":" in name.split("/")[0]:
            raise ConfigError(f"{path.name}: member {item.filename!r} names a path outside "
                              "the container"[:300],
                              hint="a PDX from the ECU's supplier has plain member names; "
                              "ask for an unmodified copy")
        if stat.S_ISLNK(item.external_attr >> 16):
            raise ConfigError(f"{path.name}: member {item.filename!r} is a link, not a "
                              "file"[:300],
                              hint="a PDX from the ECU's supplier holds plain files; ask for "
                              "an unmodified copy")
    unpacked = sum(item.file_size for item in container.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise ConfigError(f"{path.name}: unpacks to {unpacked} bytes, more than the "
                          f"{MAX_UNPACKED_BYTES} a PDX may have here",
                          hint="check that this is the ECU's description")


def _kind(layer: Any) -> str:
    return str(getattr(layer.variant_type, "value", layer.variant_type))


def _summarise(layer: Any) -> VariantSummary:
    services = [_service(s) for s in layer.services]
    by_name = {s.name: s for s in services}
    sids = {s.name: _sid(s) for s in services}
    dids = []
    for s in services:
        if sids[s.name] == _SID_READ_DID and len(s.request_prefix) >= 6:
            dids.append(Did(int(s.request_prefix[2:6], 16), s.name, s.response))
    dids.sort(key=lambda d: d.did)

    def pick(sid: int, *semantics: str) -> list[Service]:
        return [by_name[n] for n, x in sids.items()
                if x == sid or by_name[n].semantic in semantics]

    charts = {}
    for chart in layer.state_charts:
        charts[chart.semantic or chart.short_name] = [st.short_name for st in chart.states]
    comparams: dict[str, Any] = {}
    for cp in layer.comparam_refs:
        comparams[cp.short_name] = cp.value
    return VariantSummary(
        name=layer.short_name, kind=_kind(layer), comparams=comparams,
        timing=_timing(comparams),
        can_request_id=_optional(layer.get_can_receive_id),
        can_response_id=_optional(layer.get_can_send_id),
        dids=dids, dtcs=_dtcs(layer),
        routines=pick(_SID_ROUTINE, "ROUTINE"), sessions=pick(_SID_SESSION, "SESSION"),
        security=pick(_SID_SECURITY, "SECURITY"), services=services, state_charts=charts,
        extended=extended_records(layer, _value))


def _timing(comparams: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for cp, (name, factor) in TIMING_COMPARAMS.items():
        try:
            out[name] = float(comparams[cp]) * factor
        except (KeyError, TypeError, ValueError):  # absent, or complex/non-numeric
            continue
    return out


def _optional(getter: Any) -> int | None:
    # odxtools answers None, or raises, when a layer has no CAN comparams (e.g. DoIP)
    try:
        value = getter()
    except Exception:
        return None
    return value if isinstance(value, int) else None


def _sid(service: Service) -> int | None:
    return int(service.request_prefix[:2], 16) if len(service.request_prefix) >= 2 else None


def _service(s: Any) -> Service:
    request: list[Value] = []
    prefix = ""
    if s.request is not None:
        prefix = bytes(s.request.coded_const_prefix()).hex()
        request = [_value(p) for p in s.request.parameters]
    response: list[Value] = []
    for r in s.positive_responses[:1]:
        response = [_value(p) for p in r.parameters]
    return Service(name=s.short_name, semantic=s.semantic or "", request_prefix=prefix,
                   request=request, response=response)


def _value(param: Any) -> Value:
    dop = getattr(param, "dop", None) if hasattr(param, "dop_ref") or hasattr(
        param, "dop_snref") else None
    if dop is None or not hasattr(dop, "compu_method"):
        coded = getattr(param, "diag_coded_type", None)
        return Value(name=param.short_name,
                     coded_type=_enum(getattr(coded, "base_data_type", "")),
                     bit_length=getattr(coded, "bit_length", None))
    cm = dop.compu_method
    category = _enum(cm.category)
    factor = offset = denominator = None
    texts: dict[str, str] = {}
    if category == "LINEAR":
        seg = cm.segment
        factor, offset, denominator = float(seg.factor), float(seg.offset), float(
            seg.denominator)
    elif category == "TEXTTABLE":
        citp = getattr(cm, "compu_internal_to_phys", None)
        for scale in citp.compu_scales if citp is not None else []:
            if scale.lower_limit is not None and scale.compu_const is not None:
                texts[str(scale.lower_limit.value)] = str(scale.compu_const.value)
    unit = getattr(dop, "unit", None)  # a DTC-DOP has none
    return Value(name=param.short_name,
                 coded_type=_enum(dop.diag_coded_type.base_data_type),
                 bit_length=getattr(dop.diag_coded_type, "bit_length", None),
                 physical_type=_enum(dop.physical_type.base_data_type), compu=category,
                 factor=factor, offset=offset, denominator=denominator,
                 unit=(unit.display_name or unit.short_name) if unit is not None else "",
                 texts=texts)


def _enum(x: Any) -> str:
    return str(getattr(x, "value", x) or "")


def _dtcs(layer: Any) -> list[Dtc]:
    out: dict[int, Dtc] = {}
    for dop in layer.diag_data_dictionary_spec.dtc_dops:
        for dtc in dop.dtcs:
            text = dtc.text.text if hasattr(dtc.text, "text") else (dtc.text or "")
            out[dtc.trouble_code] = Dtc(code=dtc.trouble_code,
                                        display=dtc.display_trouble_code or "",
                                        name=dtc.short_name, text=str(text))
    return [out[c] for c in sorted(out)]
