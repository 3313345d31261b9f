"""Errors of the ID-card readers, under the hardware root error."""

from __future__ import annotations

from hardware.errors import HardwareError


class IdCardError(HardwareError):
    """Any failure of an ID-card reader."""


class CardReadError(IdCardError, IOError):
    """A card could not be read: removed mid-read, corrupted frame, bad checksum, bad data."""


class ReaderNotFound(IdCardError, OSError):
    """The reader is not there: the port does not open or nothing answers on it."""


class ReaderConfigError(IdCardError, ValueError):
    """The reader is configured wrongly: an unknown kind, or no port for a serial reader."""
