"""Negative response codes with plain-language explanations for the technician."""

from __future__ import annotations

EXPLANATIONS: dict[int, tuple[str, str]] = {
    0x10: ("generalReject", "the ECU rejected the request without a specific reason"),
    0x11: ("serviceNotSupported", "the ECU does not implement this service"),
    0x12: ("subFunctionNotSupported", "the ECU does not implement this sub-function"),
    0x13: ("incorrectMessageLengthOrInvalidFormat", "the request length or format is wrong"),
    0x14: ("responseTooLong", "the answer would not fit in one transport message"),
    0x21: ("busyRepeatRequest", "the ECU is busy; repeat the request shortly"),
    0x22: ("conditionsNotCorrect",
           "preconditions are not met (ignition, engine running, session order)"),
    0x24: ("requestSequenceError", "requests were sent in the wrong order"),
    0x25: ("noResponseFromSubnetComponent", "a sub-network ECU behind this one did not answer"),
    0x26: ("failurePreventsExecutionOfRequestedAction", "an internal failure prevents the action"),
    0x31: ("requestOutOfRange", "an identifier or parameter is not supported by this ECU"),
    0x33: ("securityAccessDenied", "security access must be unlocked first"),
    0x35: ("invalidKey", "the security key was wrong"),
    0x36: ("exceededNumberOfAttempts", "too many wrong keys: the ECU locked security access"),
    0x37: ("requiredTimeDelayNotExpired",
           "security access is locked out; wait for the delay to expire (or power-cycle)"),
    0x70: ("uploadDownloadNotAccepted", "the ECU refused the transfer"),
    0x72: ("generalProgrammingFailure", "erasing or programming memory failed"),
    0x78: ("requestCorrectlyReceivedResponsePending", "the ECU is still working on it"),
    0x7E: ("subFunctionNotSupportedInActiveSession",
           "switch to the right diagnostic session first"),
    0x7F: ("serviceNotSupportedInActiveSession", "switch to the right diagnostic session first"),
}


def nrc_name(code: int) -> str:
    return EXPLANATIONS.get(code, (f"NRC 0x{code:02X}", ""))[0]


def nrc_explanation(code: int) -> str:
    if code in EXPLANATIONS:
        return EXPLANATIONS[code][1]
    if 0x38 <= code <= 0x4F:
        return "reserved by an extended data link security document"
    if 0x80 <= code <= 0xFE:
        return "a vehicle condition is not met (manufacturer-specific condition code)"
    return "an unknown negative response code"
