"""Trust: X.509 PKI for code signing (OEM root -> supplier CA -> code signer; dealer root ->
workstation), trust stores (folder of root PEMs + CRLs), chain verification and signatures.

May import only workshop.foundation.
"""
