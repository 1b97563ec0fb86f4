"""B12: seed/key algorithms are configured per ECU (no default), loaded as plugins, and the
simulated ECU checks keys with its own implementation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import open_vehicle
from tests.uds import seedkey_plugins
from workshop.foundation.errors import ConfigError
from workshop.services.connection import VehicleConnection
from workshop.simulator import seedkey as sim_seedkey
from workshop.uds import seedkey
from workshop.uds.client import EXTENDED_SESSION
from workshop.uds.errors import NegativeResponseError
from workshop.vehicles import load_vehicle


def vehicle_file(folder: Path, keys: str) -> Path:
    path = folder / "keys.toml"
    path.write_text('name = "keys"\n[[ecus]]\nname = "ENGINE"\nrequest_id = 0x7E0\n'
                    f"response_id = 0x7E8\n{keys}\n")
    return path


@pytest.fixture
def connect(tmp_path: Path) -> Iterator[object]:
    opened: list[VehicleConnection] = []

    def open_with(keys: str) -> VehicleConnection:
        opened.append(open_vehicle(vehicle_file(tmp_path, keys)))
        return opened[-1]
    yield open_with
    for conn in opened:
        conn.close()


def test_ecu_without_algorithm_cannot_be_unlocked(connect) -> None:  # type: ignore[no-untyped-def]
    conn = connect('sim_seed_key = "demo-xor"')  # the simulated ECU has one, the tester not
    with conn.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        with pytest.raises(ConfigError) as err:
            ecu.unlock()
    assert "ENGINE has no seed/key algorithm configured" in err.value.message
    assert "seed_key" in (err.value.hint or "") and "demo-xor" in (err.value.hint or "")
    assert "module:function" in (err.value.hint or "")


def test_discovered_ecu_has_no_default_algorithm(demo: VehicleConnection) -> None:
    target = demo.target(demo.address_for_response(0x7E8), "0x7E8")
    assert target.seed_key is None


def test_module_function_plugin_unlocks_the_simulator(connect) -> None:  # type: ignore[no-untyped-def]
    seedkey_plugins.calls.clear()
    conn = connect('seed_key = "tests.uds.seedkey_plugins:compute"\nsim_seed_key = "demo-xor"')
    with conn.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        ecu.unlock()
        ecu.write_did(0xF198, b"WS0042")  # needs the unlocked level
        assert ecu.read_did(0xF198) == b"WS0042"
    assert len(seedkey_plugins.calls) == 1 and seedkey_plugins.calls[0][1] == 1


def test_wrong_algorithm_reports_invalid_key_nrc(connect) -> None:  # type: ignore[no-untyped-def]
    conn = connect('seed_key = "tests.uds.seedkey_plugins:wrong"\nsim_seed_key = "demo-xor"')
    with conn.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        with pytest.raises(NegativeResponseError) as err:
            ecu.unlock()
    assert err.value.nrc == 0x35 and "NRC 0x35 invalidKey" in str(err.value)


def test_simulator_does_not_use_the_testers_algorithm(connect) -> None:  # type: ignore[no-untyped-def]
    # The tester's demo-xor is fine, but this simulated ECU implements another algorithm
    # name (none that the simulator knows): it must refuse, not agree with the tester.
    conn = connect('seed_key = "demo-xor"\nsim_seed_key = "oem-secret"')
    with conn.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        with pytest.raises(NegativeResponseError) as err:
            ecu.unlock()
    assert err.value.nrc == 0x35


def test_shipped_vehicles_name_their_algorithm() -> None:
    for name in ("demo-car", "truck"):
        assert {e.seed_key for e in load_vehicle(name).ecus} == {"demo-xor"}


def test_builtin_algorithm_comes_from_the_entry_point_group() -> None:
    assert "demo-xor" in seedkey.names()
    assert seedkey.algorithm("demo-xor") is seedkey.demo_xor


@pytest.mark.parametrize("spec,text", [
    ("no-such", "no seed/key algorithm named 'no-such'"),
    ("tests.uds.no_such_module:f", "cannot import seed/key module"),
    ("tests.uds.seedkey_plugins:nothing", "has no 'nothing'"),
    ("tests.uds.seedkey_plugins:calls", "is not a function"),
])
def test_unusable_algorithm_names_are_config_errors(spec: str, text: str) -> None:
    with pytest.raises(ConfigError, match=text):
        seedkey.algorithm(spec, "ENGINE")


def test_client_and_simulator_implementations_agree() -> None:
    for level in (1, 3):
        for _ in range(200):
            seed = os.urandom(4)
            assert seedkey.demo_xor(seed, level) == sim_seedkey.ALGORITHMS["demo-xor"](
                seed, level)
