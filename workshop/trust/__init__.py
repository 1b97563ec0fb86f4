"""Trust: X.509 PKI with one set of roots per purpose (firmware code signing, baseline
signing, workstation identities; see purposes.py), trust stores (a folder with a sub-folder
of roots per purpose, plus CRLs), chain verification and signatures.

May import only workshop.foundation.
"""
