"""What a trusted root may vouch for. Each purpose has its own roots in the trust store (its
sub-folder) and the extended key usage its signing certificate must carry.

The baseline-signing EKU is a private OID made without registration from a UUID under 2.25
(ITU-T X.667): UUID 9ad7b099-f414-4921-9571-7f9bcf5b501e. A baseline signer's certificate
carries it; a code-signing certificate cannot sign a baseline, nor a baseline signer firmware.
"""

from __future__ import annotations

from enum import Enum

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

BASELINE_SIGNING = x509.ObjectIdentifier("2.25.205821037077000006008823432282457722910")


class Purpose(Enum):
    """`folder`: the trust store sub-folder holding its roots; `eku`: the leaf's usage."""

    FIRMWARE = ("firmware", ExtendedKeyUsageOID.CODE_SIGNING, "code signing")
    BASELINE = ("baseline", BASELINE_SIGNING, "baseline signing")
    WORKSTATION = ("workstation", ExtendedKeyUsageOID.CLIENT_AUTH, "client authentication")
    DOIP_GATEWAY = ("doip-gateway", ExtendedKeyUsageOID.SERVER_AUTH, "DoIP gateway (TLS server)")

    def __init__(self, folder: str, eku: x509.ObjectIdentifier, usage: str) -> None:
        self.folder = folder
        self.eku = eku
        self.usage = usage

    @classmethod
    def by_folder(cls, folder: str) -> Purpose | None:
        return next((p for p in cls if p.folder == folder), None)
