"""Certificate chains with one defect each, for either key type, built from scratch so that
every field a verifier checks can be got wrong on purpose."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519

from workshop.trust import certs
from workshop.trust.certs import name
from workshop.trust.keys import KeyType, PrivateKey, generate_key
from workshop.trust.purposes import Purpose

NOW = dt.datetime.now(dt.UTC)
PRIVATE_OID = x509.ObjectIdentifier("2.25.1")


@dataclass
class Spec:
    """One certificate: what to put in it."""

    ca: bool | None = False  # None: no basicConstraints at all
    bc_critical: bool = True
    path_length: int | None = None
    key_usage: str | None = "default"  # None: none; "no-cert-sign"; "no-signature";
    # "ca-and-signature"
    eku: list[x509.ObjectIdentifier] | None = None
    unknown_critical: bool = False
    aki: bool = True
    not_before: dt.datetime = field(default_factory=lambda: NOW - dt.timedelta(days=1))
    not_after: dt.datetime = field(default_factory=lambda: NOW + dt.timedelta(days=365))


def _ku(spec: Spec) -> x509.KeyUsage:
    is_ca = bool(spec.ca)
    cert_sign = is_ca and spec.key_usage != "no-cert-sign"
    signature = (not is_ca and spec.key_usage != "no-signature") \
        or spec.key_usage == "ca-and-signature"
    return x509.KeyUsage(digital_signature=signature, content_commitment=False,
                         key_encipherment=False, data_encipherment=False,
                         key_agreement=False, key_cert_sign=cert_sign, crl_sign=is_ca,
                         encipher_only=False, decipher_only=False)


def make_cert(subject: x509.Name, key: PrivateKey, issuer: x509.Name, issuer_key: PrivateKey,
              spec: Spec) -> x509.Certificate:
    pub = key.public_key()
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(pub)
         .serial_number(x509.random_serial_number())
         .not_valid_before(spec.not_before).not_valid_after(spec.not_after)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
    if spec.aki:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    if spec.ca is not None:
        b = b.add_extension(x509.BasicConstraints(
            ca=spec.ca, path_length=spec.path_length if spec.ca else None),
            critical=spec.bc_critical)
    if spec.key_usage is not None:
        b = b.add_extension(_ku(spec), critical=True)
    if spec.eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(spec.eku), critical=False)
    if spec.unknown_critical:
        b = b.add_extension(x509.UnrecognizedExtension(PRIVATE_OID, b"\x05\x00"),
                            critical=True)
    hash_ = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else \
        certs.hashes.SHA256()
    return b.sign(issuer_key, hash_)


@dataclass
class Chain:
    leaf: x509.Certificate
    intermediate: x509.Certificate
    root: x509.Certificate
    crls: list[x509.CertificateRevocationList]

    @property
    def presented(self) -> list[x509.Certificate]:
        return [self.leaf, self.intermediate]

    @property
    def path(self) -> list[x509.Certificate]:
        return [self.leaf, self.intermediate, self.root]

    def store(self, folder: Path, purpose: Purpose = Purpose.FIRMWARE) -> Path:
        certs.save_cert(self.root, folder / purpose.folder / "root.pem")
        for i, crl in enumerate(self.crls):
            certs.save_crl(crl, folder / f"{i}.crl")
        return folder


def _code_signer() -> Spec:
    return Spec(eku=[Purpose.FIRMWARE.eku])


# defect -> (root, intermediate, leaf) specs and whether the intermediate is signed by a key
# other than the root's, or names another issuer
DEFECTS: dict[str, dict[str, object]] = {
    "none": {},
    "ca-without-basic-constraints": {"ca": Spec(ca=None)},
    "ca-not-a-ca": {"ca": Spec(ca=False, key_usage="default")},
    "ca-basic-constraints-not-critical": {"ca": Spec(ca=True, bc_critical=False)},
    "ca-without-key-usage": {"ca": Spec(ca=True, key_usage=None)},
    "ca-without-cert-sign": {"ca": Spec(ca=True, key_usage="no-cert-sign")},
    "path-length-exceeded": {"root": Spec(ca=True, path_length=0)},
    "unknown-critical-extension-leaf": {"leaf": Spec(eku=[Purpose.FIRMWARE.eku],
                                                     unknown_critical=True)},
    "unknown-critical-extension-ca": {"ca": Spec(ca=True, unknown_critical=True)},
    "ca-signed-by-another-key": {"forge": True},
    "ca-names-another-issuer": {"rename": True},
    "ca-expired": {"ca": Spec(ca=True, not_before=NOW - dt.timedelta(days=30),
                              not_after=NOW - dt.timedelta(days=1))},
    "ca-not-yet-valid": {"ca": Spec(ca=True, not_before=NOW + dt.timedelta(days=1))},
    "root-expired": {"root": Spec(ca=True, path_length=1,
                                  not_before=NOW - dt.timedelta(days=30),
                                  not_after=NOW - dt.timedelta(days=1))},
    "leaf-expired": {"leaf": Spec(eku=[Purpose.FIRMWARE.eku],
                                  not_before=NOW - dt.timedelta(days=30),
                                  not_after=NOW - dt.timedelta(days=1))},
    "leaf-is-a-ca": {"leaf": Spec(ca=True, eku=[Purpose.FIRMWARE.eku],
                                  key_usage="ca-and-signature")},
    "leaf-without-digital-signature": {"leaf": Spec(eku=[Purpose.FIRMWARE.eku],
                                                    key_usage="no-signature")},
    "leaf-without-eku": {"leaf": Spec(eku=None)},
    "leaf-other-eku": {"leaf": Spec(eku=[Purpose.WORKSTATION.eku])},
    "ca-restricted-to-other-eku": {"ca": Spec(ca=True, eku=[Purpose.WORKSTATION.eku])},
    "ca-restricted-to-code-signing": {"ca": Spec(ca=True, eku=[Purpose.FIRMWARE.eku])},
    "no-crl-from-ca": {"no_ca_crl": True},
    "ca-without-authority-key-id": {"ca": Spec(ca=True, aki=False)},
    "leaf-without-authority-key-id": {"leaf": Spec(eku=[Purpose.FIRMWARE.eku], aki=False)},
    "root-without-basic-constraints": {"root": Spec(ca=None)},
    "root-without-cert-sign": {"root": Spec(ca=True, path_length=1, key_usage="no-cert-sign")},
    "root-unknown-critical-extension": {"root": Spec(ca=True, path_length=1,
                                                     unknown_critical=True)},
}


def build(kind: KeyType, defect: str) -> Chain:
    d = DEFECTS[defect]
    root_spec = d.get("root", Spec(ca=True, path_length=1))
    ca_spec = d.get("ca", Spec(ca=True))
    leaf_spec = d.get("leaf", _code_signer())
    assert isinstance(root_spec, Spec) and isinstance(ca_spec, Spec)
    assert isinstance(leaf_spec, Spec)
    root_key, ca_key, leaf_key = generate_key(kind), generate_key(kind), generate_key(kind)
    root_name, ca_name = name("Defect Root", "Test"), name("Defect CA", "Test")
    root = make_cert(root_name, root_key, root_name, root_key, root_spec)
    signing_key = generate_key(kind) if d.get("forge") else root_key
    ca_issuer = name("Someone Else", "Test") if d.get("rename") else root_name
    ca = make_cert(ca_name, ca_key, ca_issuer, signing_key, ca_spec)
    leaf = make_cert(name("Defect Signer", "Test"), leaf_key, ca_name, ca_key, leaf_spec)
    crls = [certs.make_crl(root, root_key)]
    if not d.get("no_ca_crl"):
        crls.append(certs.make_crl(ca, ca_key))
    return Chain(leaf, ca, root, crls)
