"""`workshop identity init|csr|import-cert|show`: this installation's workstation identity,
which signs its audit records (a real vehicle's actions need it)."""

from __future__ import annotations

import argparse

from workshop.cli.options import certificate_name, folder, input_file, output_file
from workshop.services import identity
from workshop.services.identity import IdentityReport


def register(subparsers: argparse._SubParsersAction) -> None:
    from workshop.cli import add_json_flag

    p = subparsers.add_parser("identity", help="this installation's workstation identity "
                              "(audit signing key and its certificate)")
    sub = p.add_subparsers(dest="identity_command", required=True, metavar="ACTION")
    i = sub.add_parser("init", help="create the workstation key (OS credential store, else a "
                       "passphrase from $WORKSHOP_AUDIT_PASSPHRASE or the terminal)")
    i.add_argument("--protect", choices=["auto", "keyring", "passphrase"], default="auto")
    i.add_argument("--name", type=certificate_name("workstation id"),
                   help="workstation id (default: workstation-<random>)")
    i.add_argument("--key-type", choices=["p256", "ed25519"], default="p256")
    i.add_argument("--rotate", action="store_true",
                   help="replace an existing identity (its records keep verifying)")
    add_json_flag(i)
    i.set_defaults(func=_init)
    c = sub.add_parser("csr", help="write a certificate request for the dealer CA")
    c.add_argument("--out", type=output_file("certificate request"), required=True)
    c.add_argument("--org", type=certificate_name("organization name"),
                   help="organization name to put in the request")
    add_json_flag(c)
    c.set_defaults(func=_csr)
    m = sub.add_parser("import-cert", help="install the certificate the dealer CA issued")
    m.add_argument("file", type=input_file("certificate"))
    m.add_argument("--trust", type=folder("trust store"),
                   help="trust store folder with the dealer root "
                   "(default: the one in settings or installed)")
    add_json_flag(m)
    m.set_defaults(func=_import)
    s = sub.add_parser("show", help="workstation id, key protection and certificate status")
    s.add_argument("--trust", type=folder("trust store"),
                   help="trust store folder (default: the one in settings or installed)")
    add_json_flag(s)
    s.set_defaults(func=_show)


def _print(rep: IdentityReport, as_json: bool, headline: str) -> None:
    from workshop.cli import print_json

    if as_json:
        print_json(rep.to_json())
        return
    print(headline)
    print(f"  workstation   {rep.workstation}")
    print(f"  key           protected by {'the OS credential store' if rep.protection == 'keyring' else 'a passphrase'}")  # noqa: E501
    print(f"  certificate   {rep.fingerprint[:16]}, issuer {rep.issuer}, until {rep.not_after}")
    detail = f" ({rep.detail})" if rep.detail else ""
    print(f"  status        {rep.status}{detail}")
    if rep.note:
        print(f"warning: {rep.note}")


def _init(args: argparse.Namespace) -> int:
    rep = identity.init_identity(protect=args.protect, workstation=args.name,
                                 key_type=args.key_type, rotate=args.rotate)
    _print(rep, args.json, "workstation identity created; records it signs are marked "
           "'signed, identity not certified' until `workshop identity import-cert`")
    return 0


def _csr(args: argparse.Namespace) -> int:
    rep = identity.write_csr(args.out, organization=args.org)
    _print(rep, args.json, f"certificate request written to {args.out}; have your dealer CA "
           "sign it, then run `workshop identity import-cert FILE`")
    return 0


def _import(args: argparse.Namespace) -> int:
    rep = identity.import_cert(args.file, args.trust)
    _print(rep, args.json, "certificate imported")
    return 0


def _show(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    rep = identity.show_identity(args.trust)
    if rep is None:
        if args.json:
            print_json(None)
        else:
            print(f"no workstation identity on this installation; {identity.NO_IDENTITY_HINT}")
        return 1
    _print(rep, args.json, "workstation identity")
    return 0
