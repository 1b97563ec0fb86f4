"""The dealer group's central store on PostgreSQL: schema migrations, roles, and the queries a
workstation (push), a publisher and an auditor (fleet answers, store verify) run.

I/O beside workshop.audit and workshop.packages: it imports only workshop.foundation and
psycopg, and moves records and heads as the signed JSON text they are; what that text means
(hashes, signatures, trust) is decided above it, in workshop.services, with workshop.audit.
"""

from workshop.store.errors import StoreError, StoreUnavailableError
from workshop.store.migrations import LATEST, init_store, store_version, upgrade_store

__all__ = ["LATEST", "StoreError", "StoreUnavailableError", "init_store", "store_version",
           "upgrade_store"]
