"""Package failures; each message names the check that failed."""

from __future__ import annotations

from workshop.foundation.errors import WorkshopError


class PackageError(WorkshopError):
    """An update package could not be read, verified or used."""

    exit_code = 1


class PackageFormatError(PackageError):
    """The container is not a well-formed package (corrupt zip, bad entry names, sizes)."""


class PathEscapeError(PackageFormatError):
    """A zip entry name would escape the container (absolute, '..', backslash)."""


class DuplicateEntryError(PackageFormatError):
    """The zip holds two entries with the same name."""


class PayloadSizeError(PackageFormatError):
    """A payload is larger or smaller than the manifest declares."""


class ManifestError(PackageError):
    """manifest.json is not valid JSON or misses/mistypes a field."""


class SchemaVersionError(ManifestError):
    """manifest.json declares a schema version this tool does not know."""


class PayloadHashError(PackageError):
    """A payload's SHA-256 differs from the manifest."""


class PackageSignatureError(PackageError):
    """The signature or the signer's certificate chain failed; wraps the TrustError text."""


class PackageExpiredError(PackageError):
    """The package is past its expiry date."""


class EcuMismatchError(PackageError):
    """The package targets ECUs the vehicle does not have."""


class MemoryMapError(EcuMismatchError):
    """A region lies outside the ECU's memory map in the vehicle definition."""


class DeltaBaseMissingError(PackageError):
    """A delta payload needs a base image that is not in the local image store."""


class BuildSpecError(PackageError):
    """A build spec or firmware input is invalid."""

    exit_code = 4
