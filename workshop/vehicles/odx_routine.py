"""Routines (RoutineControl, 0x31) as an ODX description declares them: a request encoded by
odxtools from named physical values, the positive answer decoded into named values with
units. Data only: nothing is sent here (services/routines.py does that).

Every refusal is a ConfigError in words: a routine the variant does not have (with the ones
it has), a parameter it does not take, one it needs and was not given, a value that is not a
number or outside what the description allows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from workshop.foundation.errors import ConfigError

_SID = 0x31
_UNDESCRIBED = "(undescribed)"


@dataclass(frozen=True)
class RoutineValue:
    name: str
    text: str      # "12.5 mg"; "(undescribed) 0A0B" for bytes the description does not name
    value: Any     # the physical value (None where undescribed)
    unit: str
    raw: str = ""  # hex, for bytes no parameter describes


def routines(layer: Any) -> dict[str, Any]:
    """The variant's RoutineControl services by name."""
    out = {}
    for service in layer.services:
        request = service.request
        if request is None:
            continue
        prefix = bytes(request.coded_const_prefix())
        if prefix[:1] == bytes([_SID]) or (service.semantic or "") == "ROUTINE":
            out[str(service.short_name)] = service
    return out


def find_routine(layer: Any, name: str, where: str) -> Any:
    found = routines(layer)
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"{where}: no routine {name!r} in its description",
                          hint=f"the routines it describes: {known}")
    return found[name]


def _settable(service: Any) -> dict[str, Any]:
    return {str(p.short_name): p for p in service.request.parameters
            if p.parameter_type == "VALUE"}


def encode_request(service: Any, given: dict[str, str], where: str) -> bytes:
    """The request bytes for `service` with the named physical values `given` (as typed)."""
    params = _settable(service)
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise ConfigError(f"{where}: routine {service.short_name} takes no parameter "
                          f"{', '.join(map(repr, unknown))}",
                          hint=f"its parameters: {', '.join(params) or 'none'}")
    missing = [n for n, p in params.items()
               if n not in given and p.physical_default_value is None]
    if missing:
        raise ConfigError(f"{where}: routine {service.short_name} needs "
                          f"{', '.join(missing)}",
                          hint="give each as NAME=VALUE, e.g. " + " ".join(
                              f"{n}=..." for n in missing))
    values = {n: _physical(params[n], text, service.short_name, where)
              for n, text in given.items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bytes(service.request.encode(**values))
    except Exception as exc:  # odxtools' EncodeError and friends: its reason, in words
        raise ConfigError(f"{where}: routine {service.short_name}: the values cannot be "
                          f"encoded: {exc}"[:400],
                          hint="check each value against 'workshop describe'") from exc


def _physical(param: Any, text: str, routine: str, where: str) -> Any:
    dop = param.dop
    kind = str(getattr(getattr(dop, "physical_type", None), "base_data_type", "")).upper()
    value: Any = text
    try:
        if "INT" in kind:
            value = int(text, 0)
        elif "FLOAT" in kind:
            value = float(text)
    except ValueError:
        raise ConfigError(f"{where}: routine {routine}: {param.short_name}={text!r} is not a "
                          "number", hint=f"give {param.short_name} as a number") from None
    valid = getattr(dop, "is_valid_physical_value", None)
    if valid is not None and not valid(value):
        unit = _unit(param)
        raise ConfigError(f"{where}: routine {routine}: {param.short_name}={text} is out of "
                          f"range{' (' + unit + ')' if unit else ''}",
                          hint="give a value the ECU's description allows "
                               "('workshop describe' shows the parameter)")
    return value


def _unit(param: Any) -> str:
    unit = getattr(getattr(param, "dop", None), "unit", None)
    return str(unit.display_name or unit.short_name) if unit is not None else ""


def decode_response(service: Any, request: bytes, answer: bytes) -> list[RoutineValue]:
    """The positive answer's values by name (the constant echo of SID, kind and routine id
    left out); bytes the description does not cover are kept as undescribed hex."""
    responses = getattr(service, "positive_responses", None) or []
    for response in responses:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                decoded = response.decode(answer)
                covered = len(bytes(response.encode(coded_request=request, **{
                    n: v for n, v in decoded.items()
                    if _is_value(response, n)})))
        except Exception:
            continue
        out = []
        for p in response.parameters:
            if p.parameter_type not in ("VALUE", "TABLE-KEY", "TABLE-STRUCT") or \
                    p.short_name not in decoded:
                continue
            value, unit = decoded[p.short_name], _unit(p)
            text = f"{_number(value)} {unit}".strip() if unit else str(_number(value))
            out.append(RoutineValue(str(p.short_name), text, value, unit))
        if covered < len(answer):
            rest = answer[covered:].hex().upper()
            out.append(RoutineValue("rest of the answer", f"{_UNDESCRIBED} {rest}", None, "",
                                    rest))
        return out
    rest = answer[4:].hex().upper()  # nothing decodes it: past 71 kind id, all undescribed
    return [RoutineValue("answer", f"{_UNDESCRIBED} {rest}" if rest else "(no data)", None,
                         "", rest)]


def _is_value(response: Any, name: str) -> bool:
    return any(p.short_name == name and p.parameter_type == "VALUE"
               for p in response.parameters)


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        return round(value, 6)
    return value
