"""Which transfer mode a region goes in: delta where the ECU can keep its old image while
writing and runs the delta's base, else compressed where the bootloader declares it, else
plain; and why not, in words, when the asked mode cannot be used."""

from __future__ import annotations

from workshop.packages import images
from workshop.packages.manifest import Region
from workshop.vehicles.flash_profile import FlashProfile


def choose_mode(region: Region, profile: FlashProfile, version: str | None, wanted: str,
                resume: bool) -> tuple[str | None, str | None]:
    """(mode, None), or (None, why) when `wanted` cannot be used for this region."""
    delta_ok = (region.delta is not None and profile.banks == "ab"
                and profile.supports("bsdiff4") and not resume
                and version == region.delta.base_version)
    if wanted == "bsdiff4" and not delta_ok:
        return None, why_no_delta(region, profile, version, resume)
    if wanted in ("plain", "lz4") or (wanted == "auto" and not delta_ok):
        if region.payload is None and not _base_available(region):
            why = "" if delta_ok else why_no_delta(region, profile, version, resume) + "; "
            return None, (f"{why}{wanted} transfer needs the full image, but the package "
                          "carries only a delta and its base image is not in the local image "
                          "store")
        if wanted == "lz4" and not profile.supports("lz4"):
            return None, "the bootloader declares no compression (lz4)"
        if wanted == "auto":
            return ("lz4" if profile.supports("lz4") else "plain"), None
        return wanted, None
    return ("bsdiff4" if delta_ok else wanted), None


def why_no_delta(region: Region, profile: FlashProfile, version: str | None,
                 resume: bool) -> str:
    if region.delta is None:
        return "the package carries no delta for this region"
    if profile.banks != "ab":
        return "delta refused: a single-bank ECU cannot keep its old image while writing"
    if not profile.supports("bsdiff4"):
        return "delta refused: the bootloader declares no bsdiff4 format"
    if resume:
        return "delta refused on resume: the base image may not be intact"
    return (f"delta refused: it applies to {region.delta.base_version}, the ECU runs "
            f"{version or 'an unknown version'}")


def _base_available(region: Region) -> bool:
    assert region.delta is not None
    return (images.store_dir() / region.delta.base_sha256).is_file()
