"""C2: the trust policy (demo roots only for the simulator) is decided in services, once;
the CLI maps exception types to exit codes in one place."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import pytest

from tests.trust.pki_factory import add_crl, make_root, make_signer, write_store
from workshop.audit.errors import AuditError, AuditTamperedError
from workshop.cli import error_exit_code, main
from workshop.foundation.errors import CancelledError, ConfigError, WorkshopError
from workshop.foundation.paths import resources_dir
from workshop.packages.build import build_package
from workshop.packages.errors import BuildSpecError, PayloadHashError
from workshop.services import trust_policy
from workshop.transport.adapters import AdapterConfig
from workshop.transport.errors import BusOffError
from workshop.trust.certs import is_demo
from workshop.trust.chain import verify_chain
from workshop.trust.demo import user_demo_pki
from workshop.trust.errors import KeyFileError, UntrustedRootError
from workshop.trust.purposes import Purpose
from workshop.uds.errors import UdsError

SIM = AdapterConfig()
REAL = AdapterConfig(interface="pcan", channel="PCAN_USBBUS1")
SPEC = resources_dir() / "packages" / "engine-1.1.0.toml"


def _demo_roots(store: object) -> int:
    return sum(is_demo(c) for c in store.all_roots())  # type: ignore[attr-defined]


def test_simulator_trusts_the_demo_roots_for_each_purpose() -> None:
    store = trust_policy.trust_store(SIM)
    assert all(any(is_demo(c) for c in store.roots_for(p)) for p in Purpose)


def test_real_adapter_never_trusts_a_demo_root(workshop_home: Path) -> None:
    with pytest.raises(ConfigError, match="no trust store configured for adapter 'pcan'"):
        trust_policy.trust_store(REAL)
    named = trust_policy.trust_store(REAL, user_demo_pki().trust_dir)
    assert _demo_roots(named) == 0
    installed = trust_policy.installed_trust_dir()
    installed.mkdir()
    for purpose in Purpose:
        (installed / purpose.folder).mkdir()
        for pem in (user_demo_pki().trust_dir / purpose.folder).iterdir():
            (installed / purpose.folder / pem.name).write_bytes(pem.read_bytes())
    assert _demo_roots(trust_policy.trust_store(REAL)) == 0
    assert _demo_roots(trust_policy.trust_store(SIM)) == 2  # the OEM and the dealer root


def test_installed_store_serves_a_real_adapter(tmp_path: Path, workshop_home: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root("Production OEM Root")
    write_store(trust_policy.installed_trust_dir(), [root])
    package = tmp_path / "engine.wspkg"
    build_package(SPEC, package, make_signer(root, cn="Production Code Signer"))
    demo_package = tmp_path / "demo.wspkg"
    assert main(["package", "build", str(SPEC), "--out", str(demo_package)]) == 0
    assert main(["--adapter", "pcan", "package", "verify", str(package)]) == 0
    assert main(["--adapter", "pcan", "package", "verify", str(demo_package)]) == 1
    # the simulator trusts both: the installed store plus the demo roots
    assert main(["package", "verify", str(package)]) == 0
    assert main(["package", "verify", str(demo_package)]) == 0
    capsys.readouterr()
    assert main(["--adapter", "pcan", "package", "verify", str(demo_package), "--json"]) == 1
    chain = json.loads(capsys.readouterr().out)["checks"][1]
    assert "Workshop Demo" in chain["detail"] and "not a firmware root" in chain["detail"]


def test_real_adapter_without_a_trust_store_is_a_configuration_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = tmp_path / "p.wspkg"
    assert main(["package", "build", str(SPEC), "--out", str(package)]) == 0
    capsys.readouterr()
    assert main(["--adapter", "pcan", "package", "verify", str(package), "--json"]) == 4
    answer = json.loads(capsys.readouterr().out)
    assert answer["message"] == "no trust store configured for adapter 'pcan'"
    assert "firmware/" in answer["hint"]


def test_a_root_outside_a_purpose_folder_is_refused(tmp_path: Path) -> None:
    folder = write_store(tmp_path / "t", [make_root()])
    (folder / "stray.pem").write_bytes((next((folder / "firmware").iterdir())).read_bytes())
    with pytest.raises(KeyFileError, match="outside a purpose folder"):
        trust_policy.trust_store(SIM, folder)
    (folder / "stray.pem").unlink()
    (folder / "firmwares").mkdir()
    with pytest.raises(KeyFileError, match="is not a purpose"):
        trust_policy.trust_store(SIM, folder)


def test_a_root_serves_only_the_purposes_whose_folder_holds_it(tmp_path: Path) -> None:
    root = make_root()
    folder = write_store(tmp_path / "t", [root], purpose=Purpose.BASELINE)
    add_crl(folder, root)
    store = trust_policy.trust_store(SIM, folder)
    with pytest.raises(UntrustedRootError, match="trusted for baseline only"):
        verify_chain(make_signer(root).chain, store, purpose=Purpose.FIRMWARE)


@pytest.mark.parametrize(("error", "code"), [
    (CancelledError("x"), 5), (ConfigError("x"), 4), (KeyFileError("x"), 4),
    (BuildSpecError("x"), 4), (AuditError("x"), 4), (AuditTamperedError(3, "x"), 1),
    (UntrustedRootError("x"), 1), (PayloadHashError("x"), 1), (BusOffError("x"), 3),
    (UdsError("x"), 3), (WorkshopError("x"), 3)])
def test_cli_maps_exception_types_to_exit_codes(error: WorkshopError, code: int) -> None:
    assert error_exit_code(error) == code


def test_cli_ignores_an_exit_code_attribute() -> None:
    class Odd(UntrustedRootError):
        exit_code = 0

    assert error_exit_code(Odd("x")) == 1


CORE = ("foundation", "transport", "vehicles", "trust", "uds", "packages", "audit", "diagnostics",
        "simulator", "services")


def test_core_exceptions_carry_no_exit_code() -> None:
    carrying = []
    for layer in CORE:
        package = importlib.import_module(f"workshop.{layer}")
        names = [f"workshop.{layer}"] + [
            f"workshop.{layer}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
        for name in names:
            for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
                if issubclass(cls, WorkshopError) and "exit_code" in vars(cls):
                    carrying.append(f"{cls.__module__}.{cls.__qualname__}")
    assert not carrying, carrying
