"""`workshop sim serve --doip [--port N]`: the simulated vehicle behind its DoIP gateway, as
its own process, for other tools (and `workshop --adapter doip --host 127.0.0.1`)."""

from __future__ import annotations

import argparse
import sys

from workshop.cli.options import adapter_config, listen_port, vehicle
from workshop.foundation.errors import ConfigError
from workshop.services.sim_serve import LOOPBACK, ServedVehicle
from workshop.transport.adapters import SIM


def register_serve(sim: argparse._SubParsersAction) -> None:
    p = sim.add_parser("serve", help="run the simulated vehicle behind its DoIP gateway on "
                                     f"{LOOPBACK} until Ctrl-C")
    p.add_argument("--doip", action="store_true", required=True,
                   help="serve over DoIP (TCP and UDP); the simulated CAN bus cannot be "
                        "reached from another process")
    p.add_argument("--port", dest="serve_port", type=listen_port, default=None,
                   help="port to listen on (default: the vehicle definition's, 13400; "
                        "0: any free port)")
    p.add_argument("--tls-port", dest="serve_tls_port", type=listen_port, default=None,
                   help="serve diagnostics over TLS only, on this port (3496 is ISO 13400's; "
                        "0: any free port), with the demo PKI's gateway certificate")
    p.set_defaults(func=cmd_sim_serve)


def cmd_sim_serve(args: argparse.Namespace) -> int:
    if args.adapter != SIM:
        raise ConfigError(f"sim serve runs the simulated vehicle itself; --adapter "
                          f"{args.adapter} does not apply", hint="leave --adapter out")
    v = vehicle(args)
    port = v.doip.port if args.serve_port is None else args.serve_port
    served = ServedVehicle(v, adapter_config(args, v), port, tls_port=args.serve_tls_port)
    try:
        served.__enter__()
    except OSError as exc:
        tls = "" if args.serve_tls_port is None else f" and TLS port {args.serve_tls_port}"
        raise ConfigError(f"cannot listen on {LOOPBACK}:{port}{tls}: {exc.strerror or exc}",
                          hint="another program uses that port: give another with --port "
                               "or --tls-port (0: any free one)") from exc
    try:
        print(f"simulated {v.name} (VIN {v.vin}) behind its DoIP gateway at "
              f"{LOOPBACK} port {served.port} (TCP and UDP), gateway address "
              f"0x{v.doip.gateway_address:04X}", flush=True)
        if served.tls_port is not None:
            print(f"  TLS only, on port {served.tls_port} (the plain port answers routing "
                  "activation with 'TLS required')", flush=True)
            print(f"  reach it with: workshop --vehicle {v.name} --adapter doip --host "
                  f"{LOOPBACK} --port {served.tls_port} --tls scan", flush=True)
        else:
            print(f"  reach it with: workshop --vehicle {v.name} --adapter doip --host "
                  f"{LOOPBACK} --port {served.port} scan", flush=True)
        print("  Ctrl-C stops it", flush=True)
        served.serve_until_stopped()
    except KeyboardInterrupt:
        pass
    finally:
        served.__exit__(None, None, None)
    print("stopped", file=sys.stderr, flush=True)
    return 0
