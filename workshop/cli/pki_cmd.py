"""`workshop pki demo-init DIR`: create a demo PKI (simulator only): OEM root -> supplier CA
-> code signer, OEM root -> baseline signer, dealer root -> workstation; trust/ holds the
roots per purpose (firmware/, baseline/, workstation/) and the CRLs."""

from __future__ import annotations

import argparse
import os

import workshop.cli as cli  # attributes used at call time (cli imports this module)
from workshop.cli.options import new_folder
from workshop.trust.demo import DEMO_PASSPHRASE, demo_init


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pki", help="public-key infrastructure (demo PKI)")
    psub = p.add_subparsers(dest="pki_command", required=True, metavar="ACTION")
    d = psub.add_parser("demo-init", help="create a demo PKI in DIR (keys encrypted with "
                        "$WORKSHOP_KEY_PASSPHRASE, default 'workshop-demo')")
    d.add_argument("dir", type=new_folder("demo PKI folder"))
    d.add_argument("--key-type", choices=["p256", "ed25519"], default="p256")
    cli.add_json_flag(d)
    d.set_defaults(func=_demo_init)


def _demo_init(args: argparse.Namespace) -> int:
    passphrase = os.environ.get("WORKSHOP_KEY_PASSPHRASE", "").encode() or DEMO_PASSPHRASE
    pki = demo_init(args.dir, passphrase, key_type=args.key_type)
    info = {"folder": str(pki.folder), "trust": str(pki.trust_dir),
            "signer_key": str(pki.signer_key), "signer_chain": str(pki.signer_chain),
            "baseline_key": str(pki.baseline_signer_key),
            "baseline_chain": str(pki.baseline_signer_chain)}
    if args.json:
        cli.print_json(info)
    else:
        for k, v in info.items():
            print(f"{k:13} {v}")
    return 0
