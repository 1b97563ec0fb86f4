"""The dealer group's central store on PostgreSQL: schema migrations (migrations.py), roles
(admin.py), and the requests a workstation, publisher or auditor makes (session.py).

I/O beside workshop.audit and workshop.packages: it imports only workshop.foundation and
psycopg, and moves records and heads as the signed JSON text they are; what that text means
(hashes, signatures, trust) is decided above it, in workshop.services, with workshop.audit.

This package's root imports no psycopg (only the errors), so the CLI runs without the
`store` extra; the submodules need it.
"""

from workshop.store.errors import StoreError, StoreUnavailableError

__all__ = ["StoreError", "StoreUnavailableError"]
