"""Which pin each device at a window is wired to: the pydantic models of the counter config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from hardware.gpio.evaluator import Rating
from hardware.gpio.keypad import KEYS, Action
from hardware.gpio.pins import check_pin, refuse_shared_pins

Pin = Annotated[int, AfterValidator(check_pin)]

DEFAULT_RATINGS: dict[int, list[Rating]] = {
    5: list(Rating),
    3: [Rating.VERY_SATISFIED, Rating.BASIC, Rating.VERY_DISSATISFIED],
}


class KeypadPins(BaseModel):
    """The clerk's call keypad: one BCM pin per key, and how presses are read."""

    model_config = ConfigDict(extra="forbid")

    next: Pin = Field(5, title="叫号", description="Call-next key; every keypad has one.")
    recall: Pin | None = Field(6, title="重呼", description="Recall key, or null if not fitted.")
    no_show: Pin | None = Field(13, title="过号", description="No-show key, or null.")
    transfer: Pin | None = Field(19, title="转移", description="Transfer key, or null.")
    pause: Pin | None = Field(
        26, title="暂停/恢复", description="Pause/resume key (one key; the window's state decides)."
    )
    done: Pin | None = Field(12, title="办结", description="Done key, or null.")
    debounce_ms: int = Field(
        50, ge=0, le=500, description="A press or release counts only this long after the last."
    )
    hold_ms: int = Field(
        800, ge=100, le=5000, description="How long a hold-to-confirm key must be held."
    )
    hold_to_confirm: frozenset[Action] = Field(
        frozenset({Action.NO_SHOW, Action.TRANSFER}),
        description="Keys that lose a resident's place: they act only when held; "
        "a short press gives needs_hold.",
    )

    @field_validator("hold_to_confirm")
    @classmethod
    def _keys_only(cls, actions: frozenset[Action]) -> frozenset[Action]:
        if Action.NEEDS_HOLD in actions:
            raise ValueError("needs_hold is the keypad's feedback, not a key that can be held")
        return actions

    @model_validator(mode="after")
    def _one_key_per_pin(self) -> KeypadPins:
        refuse_shared_pins((action.value, pin) for action, pin in self.wiring().items())
        return self

    def wiring(self) -> dict[Action, int]:
        """The keys that are fitted, with their pins."""
        pins = {action: getattr(self, action.value) for action in KEYS}
        return {action: pin for action, pin in pins.items() if pin is not None}


class LightPins(BaseModel):
    """The window's status LEDs, each driven high to light."""

    model_config = ConfigDict(extra="forbid")

    serving: Pin | None = Field(17, title="green", description="Lit while the window serves.")
    paused: Pin | None = Field(27, title="amber", description="Lit while the window is paused.")
    offline: Pin | None = Field(22, title="red", description="Blinks while the window is offline.")
    blink_ms: int = Field(500, ge=20, le=5000, description="On time (and off time) of a blink.")

    @model_validator(mode="after")
    def _one_light_per_pin(self) -> LightPins:
        refuse_shared_pins(self.wiring().items())
        return self

    def wiring(self) -> dict[str, int]:
        """The lights that are fitted, with their pins."""
        pins = {"serving": self.serving, "paused": self.paused, "offline": self.offline}
        return {name: pin for name, pin in pins.items() if pin is not None}


class EvaluatorPins(BaseModel):
    """The resident-facing evaluator (评价器): rating buttons and a please-rate LED."""

    model_config = ConfigDict(extra="forbid")

    buttons: list[Pin] = Field(
        [23, 24, 25, 16, 20],
        min_length=2,
        max_length=5,
        description="Rating buttons, left to right as the resident sees them.",
    )
    ratings: list[Rating] | None = Field(
        None,
        description="The rating (1-5) each button gives, in the same order; "
        "default 5,4,3,2,1 for five buttons and 5,3,1 for three.",
    )
    led: Pin | None = Field(21, title="请评价", description="Lit while a rating is awaited.")
    debounce_ms: int = Field(50, ge=0, le=500, description="Debounce of the rating buttons.")
    armed_s: float = Field(
        30.0, gt=0, le=600, description="An armed evaluator with no rating disarms after this."
    )

    @model_validator(mode="after")
    def _ratings_match_buttons(self) -> EvaluatorPins:
        if self.ratings is None:
            if len(self.buttons) not in DEFAULT_RATINGS:
                raise ValueError(
                    f"a {len(self.buttons)}-button evaluator needs `ratings`: "
                    "the rating each button gives"
                )
            self.ratings = DEFAULT_RATINGS[len(self.buttons)]
        if len(self.ratings) != len(self.buttons):
            raise ValueError(
                f"{len(self.buttons)} buttons but {len(self.ratings)} ratings: give one each"
            )
        repeated = sorted({int(r) for r in self.ratings if self.ratings.count(r) > 1})
        if repeated:
            raise ValueError(f"rating {repeated[0]} is given by two buttons")
        refuse_shared_pins(self.wiring().items())
        return self

    def rating_pins(self) -> dict[Rating, int]:
        """Each rating with the pin of its button."""
        assert self.ratings is not None
        return dict(zip(self.ratings, self.buttons, strict=True))

    def wiring(self) -> dict[str, int]:
        """Every pin the evaluator uses, by name."""
        named = {rating.label: pin for rating, pin in self.rating_pins().items()}
        return named | ({"led": self.led} if self.led is not None else {})


class CounterPins(BaseModel):
    """Everything wired to the GPIO header of one window's Pi."""

    model_config = ConfigDict(extra="forbid")

    keypad: KeypadPins = Field(default_factory=KeypadPins)
    lights: LightPins = Field(default_factory=LightPins)
    buzzer: Pin | None = Field(4, description="Active buzzer, driven high to sound, or null.")
    evaluator: EvaluatorPins | None = Field(
        default_factory=EvaluatorPins, description="The evaluator, or null if not fitted."
    )
    pin_factory: str | None = Field(
        None,
        description="gpiozero pin factory (lgpio, rpigpio, pigpio, native, mock); "
        "unset: GPIOZERO_PIN_FACTORY, then gpiozero's default.",
    )

    @model_validator(mode="after")
    def _one_device_per_pin(self) -> CounterPins:
        refuse_shared_pins([*self.inputs().items(), *self.outputs().items()])
        return self

    def inputs(self) -> dict[str, int]:
        """Every button pin, labelled like keypad.next or evaluator.basic."""
        keys = {f"keypad.{action.value}": pin for action, pin in self.keypad.wiring().items()}
        if self.evaluator is None:
            return keys
        rated = self.evaluator.rating_pins().items()
        return keys | {f"evaluator.{rating.label}": pin for rating, pin in rated}

    def outputs(self) -> dict[str, int]:
        """Every LED and buzzer pin, labelled like lights.serving or evaluator.led."""
        wired = {f"lights.{name}": pin for name, pin in self.lights.wiring().items()}
        if self.buzzer is not None:
            wired["buzzer"] = self.buzzer
        if self.evaluator is not None and self.evaluator.led is not None:
            wired["evaluator.led"] = self.evaluator.led
        return wired

    @classmethod
    def from_file(cls, path: Path) -> CounterPins:
        """Read a counter config from a JSON file (JSON can say null: a pin not fitted)."""
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
