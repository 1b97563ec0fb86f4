"""B1: names that become paths match one strict pattern and stay inside their folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.foundation.errors import ConfigError
from workshop.foundation.names import NAME_PATTERN, inside, safe_name

BAD = ["../keep", "..", ".", "", "/etc/passwd", "/", "a/b", "a\\b", "a\x00b", "C:evil",
       "x" * 65, ".hidden", "-rf", " ENGINE", "ENGINE\n", "é"]


@pytest.mark.parametrize("value", BAD)
def test_unsafe_names_refused_naming_field_and_pattern(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        safe_name("ecus[2].name", value)
    assert "ecus[2].name" in err.value.message
    assert NAME_PATTERN in (err.value.hint or "")


@pytest.mark.parametrize("value", [None, 5, b"ENGINE"])
def test_non_text_names_refused(value: object) -> None:
    with pytest.raises(ConfigError):
        safe_name("name", value)


@pytest.mark.parametrize("value", ["ENGINE", "demo-car", "demo-car-abs-1.1.0", "ECU_10",
                                   "x" * 64])
def test_plain_names_pass(value: str) -> None:
    assert safe_name("name", value) == value


def test_inside_refuses_escapes_and_the_folder_itself(tmp_path: Path) -> None:
    folder = tmp_path / "sim"
    folder.mkdir()
    assert inside(folder, folder / "car") == (folder / "car").resolve()
    for path in (folder / ".." / "keep", folder, tmp_path / "other", Path("/etc")):
        with pytest.raises(ConfigError):
            inside(folder, path)


def test_inside_follows_links(tmp_path: Path) -> None:
    folder = tmp_path / "sim"
    folder.mkdir()
    (tmp_path / "keep").mkdir()
    (folder / "car").symlink_to(tmp_path / "keep")
    with pytest.raises(ConfigError):
        inside(folder, folder / "car")
