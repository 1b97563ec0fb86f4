"""An audit record's details as one sentence a technician reads ("ENGINE 1.0.0 → 1.1.0,
success, 0.7 s, package demo-car-engine-1.1.0"), for `audit show`, the app's Audit view and
the report. The signed record keeps its structured details; this only words them. Keys this
module does not know are listed as "key: value", never as a Python dict or JSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def _num(value: Any, unit: str) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:.1f} {unit}" if unit == "s" else f"{number:g} {unit}"


def _plain(value: Any) -> str:
    """Nested values in words: lists joined with commas, tables as "key value" pairs."""
    if isinstance(value, Mapping):
        return "; ".join(f"{k} {_plain(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "none"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _rest(details: Mapping[str, Any], used: set[str]) -> list[str]:
    return [f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in details.items()
            if k not in used and k != "phase"]


def _ecu_result(r: Mapping[str, Any]) -> str:
    parts = [f"{r.get('ecu', '')} {r.get('version_before') or '?'} → "
             f"{r.get('version_after') or '?'}".strip(), str(r.get("outcome", ""))]
    if r.get("duration_s") is not None:
        parts.append(_num(r["duration_s"], "s"))
    if r.get("failed_step"):
        parts.append(f"failed at {r['failed_step']}")
    if r.get("dtcs_cleared"):
        parts.append(f"DTCs cleared: {_plain(r['dtcs_cleared'])}")
    return ", ".join(p for p in parts if p)


def _flash(d: Mapping[str, Any]) -> str:
    if d.get("phase") == "intent":
        req = d.get("request", {})
        ecus = req.get("ecus", {}) if isinstance(req, Mapping) else {}
        changes = [f"{n} {e.get('from') or '?'} → {e.get('to') or '?'}"
                   + (" (resume)" if e.get("resume") else "")
                   for n, e in ecus.items() if isinstance(e, Mapping)]
        text = f"about to flash {', '.join(changes) or 'nothing'}"
        if isinstance(req, Mapping) and req.get("package"):
            text += f", package {req['package']}"
        if isinstance(req, Mapping) and req.get("overrides"):
            text += f", checks overridden: {_plain(req['overrides'])}"
        return text
    result = d.get("result", {})
    if not isinstance(result, Mapping):
        return _generic(d)
    ecus = [_ecu_result(e) for e in result.get("ecus", []) if isinstance(e, Mapping)]
    head = f"{d.get('outcome', '')}"
    if result.get("duration_s") is not None:
        head += f", {_num(result['duration_s'], 's')}"
    if result.get("package"):
        head += f", package {result['package']}"
    return "; ".join([head, *ecus])


def _flash_ecu(d: Mapping[str, Any]) -> str:
    if d.get("phase") == "intent":
        req = d.get("request", {})
        if isinstance(req, Mapping):
            return (f"about to program {req.get('from') or '?'} → {req.get('to') or '?'} "
                    f"({req.get('mode', '')})").replace(" ()", "")
        return _generic(d)
    result = d.get("result", {})
    if not isinstance(result, Mapping):
        return _generic(d)
    text = _ecu_result(result)
    if result.get("detail"):
        text += f"; {result['detail']}"
    return text


def _readings(r: Mapping[str, Any]) -> str:
    """Precondition readings as a technician says them: battery 12.6 V, ignition on."""
    words = []
    for key, value in r.items():
        if key == "battery_mv" and isinstance(value, int | float):
            words.append(f"battery {value / 1000:.1f} V")
        elif key == "speed_kmh":
            words.append(f"speed {value} km/h")
        elif key == "ignition":
            words.append(f"ignition {'on' if value else 'off'}")
        elif key == "met":
            words.append("all met" if value else "NOT met")
        elif key == "failed":
            if value:
                words.append(f"failed: {_plain(value)}")
        else:
            words.append(f"{key.replace('_', ' ')} {_plain(value)}")
    return ", ".join(words)


def _flash_step(d: Mapping[str, Any]) -> str:
    step = str(d.get("step", "step"))
    if isinstance(d.get("readings"), Mapping):
        d = {**d, "readings": _readings(d["readings"])}
    if d.get("phase") == "intent":
        extra = _rest(d, {"step"})
        return f"{step}: starting" + (f" ({'; '.join(extra)})" if extra else "")
    verdict = "done" if d.get("ok") else "FAILED"
    extra = _rest(d, {"step", "ok"})
    return f"{step}: {verdict}" + (f" ({'; '.join(extra)})" if extra else "")


def _dtc_clear(d: Mapping[str, Any]) -> str:
    if d.get("phase") == "intent":
        req = d.get("request", {})
        if isinstance(req, Mapping):
            how = req.get("addressing", "")
            ecus = req.get("ecus")
            return (f"about to clear DTCs ({how} request"
                    + (f" to {_plain(ecus)}" if ecus else "") + ")")
        return _generic(d)
    result = d.get("result", {})
    ecus = result.get("ecus", {}) if isinstance(result, Mapping) else {}
    parts = []
    for name, r in sorted(ecus.items()):
        if not isinstance(r, Mapping):
            continue
        text = f"{name} {'cleared' if r.get('ok') else 'NOT cleared: ' + str(r.get('detail'))}"
        if r.get("remaining"):
            text += f" (still stored: {_plain(r['remaining'])})"
        parts.append(text)
    return f"{d.get('outcome', '')}: " + ("; ".join(parts) or "no ECU answered")


def _generic(d: Mapping[str, Any]) -> str:
    parts = []
    if d.get("outcome"):
        parts.append(str(d["outcome"]))
    parts += _rest(d, {"outcome"})
    return ", ".join(parts)


_BY_ACTION: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "flash": _flash, "flash.ecu": _flash_ecu, "flash.step": _flash_step,
    "dtc.clear": _dtc_clear,
}


def describe_record(action: str, details: Mapping[str, Any]) -> str:
    """The details of one record as a sentence (any action; unknown ones key by key)."""
    try:
        return _BY_ACTION.get(action, _generic)(details)
    except (AttributeError, TypeError, ValueError):
        return _generic(details)  # details of an unexpected shape: still words, not a dict
