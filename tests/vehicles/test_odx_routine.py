"""Routine requests and answers as the ODX description says (workshop/vehicles/odx_routine):
what the bus test cannot make the simulated ECU send, an answer longer than described."""

from __future__ import annotations

import pytest

from tests.vehicles.odx_ecu_builder import build_new_ecu
from workshop.vehicles.odx import Description, load_description
from workshop.vehicles.odx_routine import decode_response, encode_request, find_routine


@pytest.fixture(scope="module")
def description(tmp_path_factory: pytest.TempPathFactory) -> Description:
    out = tmp_path_factory.mktemp("routine") / "sault.pdx"
    build_new_ecu(out)
    return load_description(out)


@pytest.fixture
def layer(description: Description) -> object:
    # the description kept alive by the fixture: odxtools' layers refer to their database
    return description.database.diag_layers["somersault_lazy"]


def test_bytes_past_the_described_answer_are_kept_and_marked_undescribed(layer: object) -> None:
    service = find_routine(layer, "measure_injector", "SAULT")
    request = encode_request(service, {"cylinder": "1"}, "SAULT")
    answer = bytes.fromhex("71010211" "007D" "02" "ABCD")  # 12.5 mg, "too high", 2 bytes more
    values = decode_response(service, request, answer)
    assert [(v.name, v.text) for v in values] == [
        ("flow_rate", "12.5 mg"), ("result", "too high"),
        ("rest of the answer", "(undescribed) ABCD")]
    assert values[-1].raw == "ABCD" and values[-1].value is None


def test_an_answer_the_description_cannot_decode_is_shown_as_undescribed_hex(
        layer: object) -> None:
    service = find_routine(layer, "measure_injector", "SAULT")
    request = encode_request(service, {"cylinder": "1"}, "SAULT")
    (value,) = decode_response(service, request, bytes.fromhex("71010211FF"))  # too short
    assert value.text == "(undescribed) FF"
