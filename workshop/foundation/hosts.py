"""Whether text can name a host on the network (a DoIP gateway): an IP address, or a host
name as RFC 1123 spells one. Typed addresses and remembered ones (the settings file comes
from outside) pass the same rule."""

from __future__ import annotations

import ipaddress
import re

from workshop.foundation.text import printable

MAX_HOST = 253  # a DNS name's limit; no IP address is longer either
# a label: letters, digits, hyphens (not first or last), at most 63; "_" as some LANs use it
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?", re.ASCII | re.IGNORECASE)


def host_problem(text: str) -> str | None:
    """What keeps `text` from being an IP address or host name, in words; None if it can be
    one. Nothing is looked up."""
    if not text:
        return "it is empty"
    if printable(text) != text:
        return "it holds control characters"
    if len(text) > MAX_HOST:
        return f"it is {len(text)} characters long (at most {MAX_HOST})"
    if any(c.isspace() for c in text):
        return "it holds spaces"
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        pass
    labels = text.removesuffix(".").split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return "a host name has only letters, digits and hyphens between its dots"
    if labels[-1].isdigit():  # "169.254.10" or "300.1.1.1": a mistyped IPv4 address
        return "it is not a complete IP address (e.g. 169.254.10.1)"
    return None
