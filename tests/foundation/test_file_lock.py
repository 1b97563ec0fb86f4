"""A lock file that cannot be created is said as such, not as a lock held by another
process (filelock would retry it until its timeout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.foundation.errors import LockTimeoutError, WorkshopError
from workshop.foundation.paths import file_lock


def test_lock_in_a_folder_that_is_a_file_is_refused_in_words(tmp_path: Path) -> None:
    blocker = tmp_path / "pki"
    blocker.write_text("not a folder")
    with pytest.raises(WorkshopError) as caught, file_lock(blocker / "lock", timeout_s=0.1):
        pass
    assert not isinstance(caught.value, LockTimeoutError)
    assert "cannot create the lock file" in caught.value.message
    assert caught.value.hint == "choose a folder this user may write to"


def test_lock_file_planted_as_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / "lock").symlink_to(target)
    with pytest.raises(WorkshopError, match="cannot create the lock file"), \
            file_lock(tmp_path / "lock", timeout_s=0.1):
        pass
    assert not target.exists()


def test_a_held_lock_still_times_out_as_held(tmp_path: Path) -> None:
    with file_lock(tmp_path / "lock"), pytest.raises(LockTimeoutError), \
            file_lock(tmp_path / "lock", timeout_s=0.1):
        pass
