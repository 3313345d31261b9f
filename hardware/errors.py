"""Root of the error tree for every device in hardware/."""

from __future__ import annotations


class HardwareError(Exception):
    """Any failure of a hall device: card reader, printer, buttons, LEDs, evaluator."""
