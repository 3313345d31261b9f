"""A window caller's settings file (TOML): its counter, GPIO pins, evaluator and sign-in.

TOML has no null, so a key or device that is not fitted is named in ``pins.not_fitted``
(e.g. ``["keypad.recall", "buzzer"]``) instead of the JSON ``null`` hardware.gpio reads.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hardware.gpio.config import CounterPins
from protocol.device import DeviceSettings
from protocol.messages import CounterId, ServiceId

NOT_FITTED = frozenset({
    "keypad.recall", "keypad.no_show", "keypad.transfer", "keypad.pause", "keypad.done",
    "lights.serving", "lights.paused", "lights.offline", "buzzer", "evaluator", "evaluator.led",
})


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CounterSection(Section):
    """Which counter this window is, and how patiently it talks to the controller."""

    id: CounterId = Field(description="the counter (window) id in the hall config")
    request_timeout_s: float = Field(3.0, gt=0, le=30, description="wait for each answer")
    attempts: int = Field(3, ge=1, le=10, description="tries of one command (same id)")
    transfer_service: ServiceId | None = Field(
        None, description="where the transfer key sends a ticket: this service's queue front")
    transfer_counter: CounterId | None = Field(
        None, description="... or reserved for this counter; neither: the front of its own queue")


class EvaluatorSection(Section):
    """The resident-facing evaluator (评价器)."""

    enabled: bool = Field(True, description="ask for a rating when a service ends")


class CardReaderSection(Section):
    """A staff-card reader that sends each card's number as a line over serial."""

    port: str = Field(min_length=1, description="pyserial URL, e.g. /dev/ttyUSB0")
    baudrate: int = Field(9600, ge=300, le=921600)


class SignInSection(Section):
    """How clerks sign in at this window: PIN typed in the soft caller, or a staff card
    (the controller knows whose card it is: only its keyed hash is in the hall config)."""

    method: Literal["pin", "card"] = "pin"
    reader: CardReaderSection | None = None

    @model_validator(mode="after")
    def _cards_need_a_reader(self) -> SignInSection:
        if self.method == "card" and self.reader is None:
            raise ValueError("method \"card\" needs [signin.reader]")
        return self


class CallerSettings(DeviceSettings):
    """[device], [broker], [counter], [pins] (optional: no pins, no GPIO), [evaluator], [signin]."""

    counter: CounterSection
    pins: CounterPins | None = Field(None, description="hardware.gpio's CounterPins")
    evaluator: EvaluatorSection = EvaluatorSection()
    signin: SignInSection = SignInSection()

    @model_validator(mode="before")
    @classmethod
    def _not_fitted(cls, data: Any) -> Any:
        """Turn pins.not_fitted = ["keypad.recall", ...] into the nulls CounterPins expects."""
        if not isinstance(data, dict) or not isinstance(data.get("pins"), dict):
            return data
        pins = {k: dict(v) if isinstance(v, dict) else v for k, v in data["pins"].items()}
        absent = pins.pop("not_fitted", [])
        if not isinstance(absent, list):
            raise ValueError("pins.not_fitted must be a list of names like \"keypad.recall\"")
        for name in absent:
            if name not in NOT_FITTED:
                raise ValueError(f"pins.not_fitted: {name!r} cannot be left out; one of "
                                 f"{', '.join(sorted(NOT_FITTED))}")
            section, _, key = str(name).partition(".")
            if key:
                pins.setdefault(section, {})
                if isinstance(pins[section], dict):
                    pins[section][key] = None
            else:
                pins[section] = None
        return {**data, "pins": pins}

    @model_validator(mode="after")
    def _transfer_target(self) -> CallerSettings:
        if self.counter.transfer_service and self.counter.transfer_counter:
            raise ValueError("counter: give transfer_service or transfer_counter, not both")
        return self
