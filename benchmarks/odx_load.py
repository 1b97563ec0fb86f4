"""Time to load a large PDX through the tool, as a ratio of odxtools' own load time.

Run: python benchmarks/odx_load.py [--ecus 100] [--dids 500] [--runs 3]
- generates (once; cached under the temp dir) a PDX with odxtools itself: odxtools'
  somersault example plus N ECU variants of M read-DID services each (a request, a response
  and a linearly scaled value with a unit per DID);
- loads it alternately with odxtools.load_pdx_file and with workshop's load_description
  (which also reads the container whole, checks its member names and sizes, and reduces every
  variant to the summaries the tool uses); medians of --runs each, and their ratio.
Only cold loads: the tool keeps no cache of parsed descriptions (README, Performance).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import odxtools
from odxtools.diaglayers.ecuvariant import EcuVariant
from odxtools.diagservice import DiagService
from odxtools.nameditemlist import NamedItemList
from odxtools.odxlink import OdxLinkId, OdxLinkRef
from odxtools.parameters.valueparameter import ValueParameter
from odxtools.request import Request
from odxtools.response import Response, ResponseType
from odxtools.writepdxfile import write_pdx_file

from tests.vehicles.odx_builders import PDX, build_db, const
from workshop.vehicles.odx import load_description


def generate(path: Path, ecus: int, dids: int) -> None:
    db = build_db(PDX)  # somersault + the engine_speed DOP (x0.25, a unit) the DIDs share
    base = db.diag_layers.somersault_base_variant
    docs = base.odx_id.doc_fragments
    dop = OdxLinkRef("test.DOP.engine_speed", docs)
    template = db.diag_layers.somersault_lazy.ecu_variant_raw
    dlc = db.diag_layer_containers.somersault
    for e in range(ecus):
        def oid(name: str, e: int = e) -> OdxLinkId:
            return OdxLinkId(f"bench.ecu{e}.{name}", docs)

        requests, responses, services = [], [], []
        for d in range(dids):
            did = 0x1000 + d
            rq = Request(short_name=f"rq_{d}", odx_id=oid(f"RQ{d}"), parameters=NamedItemList(
                [const("sid", 0x22, 8, 0), const("did", did, 16, 1)]))
            pr = Response(short_name=f"pr_{d}", odx_id=oid(f"PR{d}"),
                          response_type=ResponseType.POSITIVE, parameters=NamedItemList([
                              const("sid", 0x62, 8, 0), const("did", did, 16, 1),
                              ValueParameter(short_name=f"value_{d}", byte_position=3,
                                             dop_ref=dop)]))
            requests.append(rq)
            responses.append(pr)
            services.append(DiagService(
                short_name=f"read_{d}", odx_id=oid(f"DS{d}"), semantic="DATA",
                request_ref=OdxLinkRef.from_id(rq.odx_id),
                pos_response_refs=[OdxLinkRef.from_id(pr.odx_id)]))
        raw = dataclasses.replace(
            template, short_name=f"ecu_{e:03d}", odx_id=OdxLinkId(f"bench.ecu{e}", docs),
            diag_comms_raw=services, requests=NamedItemList(requests),
            positive_responses=NamedItemList(responses), negative_responses=NamedItemList(),
            ecu_variant_patterns=[], diag_data_dictionary_spec=None)
        dlc.ecu_variants.append(EcuVariant(diag_layer_raw=raw))
    db.refresh()
    tmp = path.with_name(path.name + ".tmp")
    write_pdx_file(str(tmp), db)
    tmp.replace(path)


def timed(load: object, path: Path) -> float:
    started = time.perf_counter()
    load(path)  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ecus", type=int, default=100)
    ap.add_argument("--dids", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "workshop-bench"
    cache.mkdir(exist_ok=True)
    path = cache / f"odx_{args.ecus}x{args.dids}.pdx"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.ecus, args.dids)
        print(f"generated {path} ({path.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - started:.0f} s")
    ours, theirs = [], []
    for _ in range(args.runs):  # side by side, alternating
        theirs.append(timed(lambda p: odxtools.load_pdx_file(str(p)), path))
        ours.append(timed(load_description, path))
    variants = len(load_description(path).variants)
    o, t = statistics.median(ours), statistics.median(theirs)
    print(f"{args.ecus} ECUs x {args.dids} DIDs ({variants} layers), medians of {args.runs}:")
    print(f"  odxtools.load_pdx_file   {t:7.2f} s")
    print(f"  workshop load_description {o:6.2f} s  (cold; ratio {o / t:.2f} x odxtools)")


if __name__ == "__main__":
    main()
