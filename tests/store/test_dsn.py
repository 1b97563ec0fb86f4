"""Connection strings are shown and reported without their password."""

from __future__ import annotations

import pytest

from workshop.store import StoreError
from workshop.store.dsn import parse, redact, scrub


@pytest.mark.parametrize("dsn", [
    "host=db user=ws-1 password=S3cret-pw dbname=workshop",
    "postgresql://ws-1:S3cret-pw@db:5432/workshop?sslmode=verify-full",
    "host=db user=ws-1 password='S3cret-pw' dbname=workshop",
])
def test_the_password_is_never_shown(dsn: str) -> None:
    shown = redact(dsn)
    assert "S3cret-pw" not in shown and "password=***" in shown and "db" in shown
    assert scrub(f"failed for {dsn}", dsn).count("S3cret-pw") == 0


def test_without_password_nothing_changes_and_a_bad_string_is_a_clear_error() -> None:
    assert "password" not in redact("host=db user=ws-1")
    assert redact("host='unterminated") == "(invalid connection string)"
    with pytest.raises(StoreError, match="not valid"):
        parse("host='unterminated")
